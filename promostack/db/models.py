"""The tables: bot users, generation events, the coupon registry, trading signals, log-in attempts.

Times are timezone-aware UTC. The same models run on SQLite and Postgres; Alembic migrations
under `migrations/` create them (never `create_all` outside tests of the models themselves).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    Postgres keeps the offset (`timestamptz`); SQLite keeps none and hands back naive values, so
    values are stored as UTC and read back with UTC attached. A naive value is taken as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    """Declarative base; `type_annotation_map` keeps datetimes timezone-aware everywhere."""

    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON}


class BotUser(Base):
    """A Telegram user of one of our bots: first and last seen, active or blocked."""

    __tablename__ = "bot_users"
    __table_args__ = (UniqueConstraint("bot", "telegram_id", name="uq_bot_users_bot_telegram_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bot: Mapped[str] = mapped_column(String(32))
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    username: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str | None] = mapped_column(String(128))
    language_code: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | blocked
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)


class GenerationEvent(Base):
    """One attempt to make a promo image, from any channel, whether it worked or not."""

    __tablename__ = "generation_events"
    __table_args__ = (
        Index("ix_generation_events_created_at", "created_at"),
        Index("ix_generation_events_coupon_code", "coupon_code"),
        Index("ix_generation_events_status", "status"),
        UniqueConstraint("event_id", name="uq_generation_events_event_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))  # web | api | telegram | bulk | cli
    bot: Mapped[str | None] = mapped_column(String(32))  # the bot that asked (Telegram promos)
    user_ref: Mapped[str | None] = mapped_column(String(64))
    template_slug: Mapped[str | None] = mapped_column(String(64))
    coupon_code: Mapped[str | None] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    render_ms: Mapped[float | None] = mapped_column(Float)
    output_key: Mapped[str | None] = mapped_column(String(255))
    # Chosen by the writer before the first attempt, so a retried write cannot add a second row.
    event_id: Mapped[str | None] = mapped_column(String(32))
    # pending (written before its effect) -> succeeded | failed | unknown (its process died).
    status: Mapped[str] = mapped_column(String(16), server_default=text("'succeeded'"))
    settled_at: Mapped[datetime | None] = mapped_column()


class Coupon(Base):
    """A code in the local coupon registry, the embedded default validator."""

    __tablename__ = "coupons"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(String(255))
    discount_percent: Mapped[float | None] = mapped_column(Float)
    expires_at: Mapped[datetime | None] = mapped_column()
    max_uses: Mapped[int | None] = mapped_column(Integer)
    usage_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Signal(Base):
    """A trading signal and its lifecycle: open, then take_profit / stop_loss / expired."""

    __tablename__ = "signals"
    __table_args__ = (
        # Never two signals for the same candle, even if two runs race.
        UniqueConstraint("symbol", "interval", "candle_time", name="uq_signals_candle"),
        # At most one open signal per symbol, enforced by the database.
        Index(
            "uq_signals_one_open_per_symbol",
            "symbol",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    symbol: Mapped[str] = mapped_column(String(16))
    interval: Mapped[str] = mapped_column(String(8))
    candle_time: Mapped[datetime] = mapped_column()
    side: Mapped[str] = mapped_column(String(4))  # BUY | SELL
    entry: Mapped[float] = mapped_column(Float)
    take_profit: Mapped[float] = mapped_column(Float)
    stop_loss: Mapped[float] = mapped_column(Float)
    atr: Mapped[float] = mapped_column(Float)
    reasons: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source: Mapped[str] = mapped_column(String(16), default="live")  # live | replay
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()
    exit_price: Mapped[float | None] = mapped_column(Float)
    pips: Mapped[float | None] = mapped_column(Float)
    r_multiple: Mapped[float | None] = mapped_column(Float)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    close_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # Channel posting (migration 0004): pending -> sending -> posted, or uncertain when a send
    # timed out and may have arrived; only pending ones are ever sent, so a retry never doubles.
    post_state: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    close_post_state: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")


class SignalRecap(Base):
    """A daily or weekly recap of the signals channel, posted once per period (migration 0004)."""

    __tablename__ = "signal_recaps"
    __table_args__ = (UniqueConstraint("period", "period_start", name="uq_signal_recaps_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(8))  # daily | weekly
    period_start: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    post_state: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    message_id: Mapped[int | None] = mapped_column(BigInteger)


class RateLimitWindow(Base):
    """One fixed window of one rate limit: how many hits `key` had in window number `window`."""

    __tablename__ = "rate_limit_windows"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)  # epoch seconds
