"""Settings: every knob PromoStack has, read once from the environment and an optional `.env`.

Each external service is optional and falls back to an embedded default, so a fresh machine
runs with no secrets. Secrets are `SecretStr`: their repr and str are masked, so logging a
`Settings` never leaks them. The README's configuration table lists the same names.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import quote_plus

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """All configuration; field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # --- where things live -------------------------------------------------------------
    data_dir: Path = Field(default=ROOT / "var", description="Embedded data: SQLite, local store.")
    base_url: str = Field(default="http://127.0.0.1:8000", description="Public URL of the web app.")

    # --- database ----------------------------------------------------------------------
    database_url: str | None = None
    db_host: str | None = None
    db_port: int = 5432
    db_name: str = "promostack"
    db_user: str = "postgres"
    db_password: SecretStr | None = None

    # --- object storage (DigitalOcean Spaces, S3, MinIO); local folder when no bucket --------
    spaces_access_key: SecretStr | None = None
    spaces_secret_key: SecretStr | None = None
    spaces_region: str = "fra1"
    spaces_bucket: str | None = None
    spaces_endpoint_url: str | None = None
    spaces_cdn_base_url: str | None = None

    # --- web app -------------------------------------------------------------------------
    admin_password: SecretStr | None = None
    session_secret: SecretStr | None = None
    session_max_age_s: int = 8 * 3600
    # Log-in attempts, counted before the password is checked (successes too), per window.
    login_limit_per_address: int = 5
    login_limit_per_account: int = 20  # the one admin account, across every address
    login_limit_window_s: int = 15 * 60

    # --- Telegram --------------------------------------------------------------------------
    telegram_bot_token: SecretStr | None = None
    telegram_bot_token_test: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    telegram_webhook_secret: SecretStr | None = None
    forex_bot_token: SecretStr | None = None
    forex_channel_id: str | None = None
    # A webhook update not started by its process within this long is taken by another one.
    telegram_update_lease_s: int = 30
    # Updates one bot handles at once per process; a /promo mostly waits on the render and the Bot API.
    telegram_concurrent_updates: int = Field(default=64, ge=1, le=4096)

    # --- workers ---------------------------------------------------------------------------
    # The CPUs a Prefect worker (and the flow runs it starts) is sized for, when the platform does
    # not show its share (several workers on one box); default: affinity lowered to the cgroup quota.
    worker_cpus: int | None = Field(default=None, ge=1, le=256)

    # --- coupons -------------------------------------------------------------------------
    coupon_validator: Literal["auto", "local", "funderpro"] = "auto"
    funderpro_product_id: str | None = None
    funderpro_api_base: str = "https://api.funderpro.com"
    funderpro_timeout_s: float = 5.0
    funderpro_cache_ttl_s: float = 300.0

    # --- market data -----------------------------------------------------------------------
    twelve_data_api_key: SecretStr | None = None
    twelve_data_api_base: str = "https://api.twelvedata.com"
    market_replay_csv: Path | None = None

    # --- celebration text (any OpenAI-compatible chat API) ----------------------------------
    llm_api_base: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str = "gpt-4o-mini"

    # --- payments ----------------------------------------------------------------------------
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = None
    # Comma-separated ids; empty = no restriction. Only matching subscriptions (items) count.
    stripe_product_ids: str = ""
    stripe_price_ids: str = ""
    stripe_subscription_ids: str = ""
    stripe_reconcile_overlap_h: float = 72.0

    # --- orchestration -------------------------------------------------------------------------
    prefect_ui_url: str = "http://127.0.0.1:4200"

    # --- operations ---------------------------------------------------------------------------
    log_format: Literal["text", "json"] = "text"  # json: one JSON object a line, for log shippers
    log_level: str = "INFO"
    # /readyz checks the Prefect API at this URL (default: the process's PREFECT_API_URL setting).
    prefect_api_url: str | None = None
    # When set, /metrics answers only requests with `Authorization: Bearer <token>`.
    metrics_token: SecretStr | None = None

    # --- campaigns ------------------------------------------------------------------------------
    campaign_photo_max_bytes: int = 20_000_000  # largest photo upload on /c/<slug>
    campaign_photo_max_pixels: int = 50_000_000  # refused before decoding above this (bombs)
    campaign_submissions_per_hour: int = 10  # post URLs one client address may send an hour

    # --- shared limits (Redis when set, else the database) -----------------------------------
    redis_url: str | None = None
    promo_limit_per_user: int = 10  # /promo images per Telegram user per window (0: no limit)
    promo_limit_window_s: int = 60
    render_limit_per_ip: int = 30  # POST /api/render per client address per window (0: no limit)
    render_limit_window_s: int = 60
    coupon_check_limit_per_ip: int = 30  # POST /api/coupons/validate per client address per window (0: no limit)
    coupon_check_limit_window_s: int = 60
    # A generation attempt still pending after this long belonged to a process that died.
    attempt_settle_after_s: int = 300

    # --- broadcasts and channel posts ------------------------------------------------------------
    # Comma-separated Telegram user ids: they get "send a test to me" and may /post to channels.
    admin_telegram_ids: str = ""
    broadcast_rate_per_s: float = 25.0  # per bot token, shared by every process (Telegram ~30/s)
    broadcast_paid_rate_per_s: float = 500.0  # broadcasts sent with allow_paid_broadcast
    broadcast_in_flight: int = 8  # requests one broadcast run keeps open at once
    # A send unanswered after this long is `unknown` (it may have arrived): never re-sent by itself.
    broadcast_read_timeout_s: float = 10.0

    @property
    def admin_chat_ids(self) -> list[int]:
        """`ADMIN_TELEGRAM_IDS` as numbers (anything that is not a number is ignored)."""
        return [int(part) for part in self.admin_telegram_ids.replace(" ", "").split(",") if part.lstrip("-").isdigit()]

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL: `DATABASE_URL`, else Postgres from `DB_*`, else SQLite under var/."""
        if self.database_url:
            url = self.database_url
            # Heroku/DO style URLs say postgres://, SQLAlchemy wants a driver name.
            if url.startswith("postgres://"):
                url = "postgresql+psycopg2://" + url[len("postgres://") :]
            elif url.startswith("postgresql://"):
                url = "postgresql+psycopg2://" + url[len("postgresql://") :]
            return url
        if self.db_host:
            password = self.db_password.get_secret_value() if self.db_password else ""
            auth = quote_plus(self.db_user) + (f":{quote_plus(password)}" if password else "")
            return f"postgresql+psycopg2://{auth}@{self.db_host}:{self.db_port}/{self.db_name}"
        return f"sqlite:///{self.data_dir / 'promostack.db'}"

    @property
    def uses_s3(self) -> bool:
        """True when templates and images go to S3-compatible storage, not the local folder."""
        return bool(self.spaces_bucket)

    @property
    def promo_bot_token(self) -> SecretStr | None:
        """The promo bot's token: the test bot's when `TELEGRAM_BOT_TOKEN_TEST` is set."""
        return self.telegram_bot_token_test or self.telegram_bot_token

    def bot_token(self, bot_id: str) -> SecretStr | None:
        """The token of bot `bot_id` (`promo`, `forex`: the ids of `bots.registry`); None when off."""
        tokens = {"promo": self.promo_bot_token, "forex": self.forex_bot_token}
        token = tokens.get(bot_id)
        return token if token is not None and token.get_secret_value() else None

    @property
    def coupon_backend(self) -> Literal["local", "funderpro"]:
        """Which validator answers: FunderPro when a product id is set (in auto mode)."""
        if self.coupon_validator != "auto":
            return self.coupon_validator
        return "funderpro" if self.funderpro_product_id else "local"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own `Settings(...)` instead."""
    return Settings()
