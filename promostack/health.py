"""Service health: for each external service, whether it is configured and whether it answers.

Used by `promostack doctor` and the dashboard. Checks are cheap reads with short time-outs and
never send anything on a user's behalf.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from sqlalchemy import text

from promostack.config import Settings
from promostack.db.engine import make_engine
from promostack.storage import build_store


@dataclass(frozen=True)
class ServiceStatus:
    """One line of the doctor's report."""

    name: str
    mode: str  # "configured" or "embedded default" or "off"
    target: str
    ok: bool | None  # None: not checked (off)
    detail: str
    ms: float | None = None


def _timed(check: Callable[[], str]) -> tuple[bool, str, float]:
    started = time.perf_counter()
    try:
        detail = check()
        return True, detail, (time.perf_counter() - started) * 1000
    except Exception as exc:  # a health check reports every failure instead of raising
        return False, f"{type(exc).__name__}: {exc}"[:300], (time.perf_counter() - started) * 1000


def _http_ok(url: str, timeout: float = 5.0) -> Callable[[], str]:
    def check() -> str:
        response = httpx.get(url, timeout=timeout)
        return f"HTTP {response.status_code}"

    return check


def check_database(settings: Settings) -> ServiceStatus:
    """Connect and read the migration version."""
    url = settings.sqlalchemy_url

    def check() -> str:
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                try:
                    version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                except Exception:
                    return "reachable, not migrated (run `promostack db upgrade`)"
                return f"reachable, schema {version}"
        finally:
            engine.dispose()

    ok, detail, ms = _timed(check)
    mode = "embedded default" if url.startswith("sqlite") else "configured"
    target = url.split("@")[-1] if "@" in url else url
    return ServiceStatus("database", mode, target, ok, detail, ms)


def check_storage(settings: Settings) -> ServiceStatus:
    """List the templates prefix of the store."""

    def check() -> str:
        objects = build_store(settings).list("templates/")
        return f"reachable, {len(objects)} template objects"

    ok, detail, ms = _timed(check)
    if settings.uses_s3:
        target = f"{settings.spaces_endpoint_url or 'spaces ' + settings.spaces_region} bucket {settings.spaces_bucket}"
        return ServiceStatus("object storage", "configured", target, ok, detail, ms)
    return ServiceStatus("object storage", "embedded default", str(settings.data_dir / "store"), ok, detail, ms)


def check_services(settings: Settings, prefect_api_url: str | None = None) -> list[ServiceStatus]:
    """Every external service PromoStack can use, configured or not, checked when configured.

    `prefect_api_url` is the Prefect API the caller's Prefect settings name (None: the default
    local server); the caller reads it, since this module knows nothing of Prefect.
    """
    statuses = [check_database(settings), check_storage(settings)]

    def optional(name: str, configured: bool, target: str, url: str, off_detail: str) -> None:
        if not configured:
            statuses.append(ServiceStatus(name, "off", target, None, off_detail))
            return
        ok, detail, ms = _timed(_http_ok(url))
        statuses.append(ServiceStatus(name, "configured", target, ok, detail, ms))

    tg = settings.telegram_api_base.rstrip("/")
    optional(
        "telegram promo bot",
        settings.promo_bot_token is not None,
        tg,
        tg,
        "no TELEGRAM_BOT_TOKEN: the promo bot is off",
    )
    optional("telegram forex bot", settings.forex_bot_token is not None, tg, tg, "no FOREX_BOT_TOKEN: signals are not posted")
    if settings.coupon_backend == "funderpro":
        optional("coupon validation", True, settings.funderpro_api_base, settings.funderpro_api_base, "")
    else:
        statuses.append(
            ServiceStatus("coupon validation", "embedded default", "local coupon registry", True, "database registry")
        )
    if settings.twelve_data_api_key is not None:
        optional("market data", True, settings.twelve_data_api_base, settings.twelve_data_api_base, "")
    else:
        statuses.append(
            ServiceStatus("market data", "embedded default", "CSV replay", True, "replay of recorded candles")
        )
    optional(
        "celebration text (LLM)",
        settings.llm_api_base is not None,
        settings.llm_api_base or "built-in templates",
        settings.llm_api_base or "",
        "built-in message templates",
    )
    optional(
        "payments (Stripe)",
        settings.stripe_secret_key is not None,
        settings.stripe_api_base or "https://api.stripe.com",
        settings.stripe_api_base or "https://api.stripe.com",
        "no STRIPE_SECRET_KEY: revenue pages say 'not configured'",
    )
    prefect_api = (prefect_api_url or "http://127.0.0.1:4200/api").rstrip("/")
    ok, detail, ms = _timed(_http_ok(f"{prefect_api}/health", timeout=3))
    statuses.append(ServiceStatus("prefect api", "configured", prefect_api, ok, detail, ms))
    return statuses
