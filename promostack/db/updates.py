"""The Telegram update store: every webhook update is written here before Telegram hears 200.

One row per (bot, update_id) — the unique key is also how Telegram's re-deliveries are told
apart: a second insert of the same update finds the row and adds nothing. A row moves

    received ──(a process starts its handlers)──▶ started ──▶ done
        │                                            │
        └─ lease over: any process takes it          └─ lease over: interrupted (never re-run)

`received` rows are the ones a process answered 200 for and then died (or is still queueing):
once their lease is over, whichever process sweeps next takes them, exactly one winning the
conditional update. A `started` row whose process died mid-handler is NOT run again — its effects
may have happened (a photo sent); the promo corridor's own attempt record settles it as
`unknown`, so nothing is sent twice. Rows are kept `KEEP_FOR` (Telegram re-delivers for 24 h).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from promostack.db.engine import session_scope
from promostack.db.models import Base, utcnow
from promostack.errors import DependencyError

UpdateState = Literal["received", "started", "done", "interrupted"]
# Telegram keeps re-delivering an unanswered update for 24 hours; remember each for twice that.
KEEP_FOR = timedelta(hours=48)


class TelegramUpdate(Base):
    """One update a bot's webhook accepted, with where its processing stands."""

    __tablename__ = "telegram_updates"
    __table_args__ = (
        UniqueConstraint("bot", "update_id", name="uq_telegram_updates_bot_update"),
        Index("ix_telegram_updates_state_lease", "state", "lease_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bot: Mapped[str] = mapped_column(String(32))
    update_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column()
    state: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Until then the process that holds the row (received: queued; started: running) owns it.
    lease_until: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


@dataclass(frozen=True)
class StoredUpdate:
    """An update taken from the store for processing."""

    row_id: int
    bot: str
    update_id: int
    payload: dict[str, Any]


def store_update(
    sessions: sessionmaker[Session], bot: str, update_id: int, payload: dict[str, Any], lease: timedelta
) -> int | None:
    """The new row's id, or None when this update is stored already (a re-delivery);
    `DependencyError` when the database fails (the webhook then answers 503: Telegram retries)."""
    now = datetime.now(timezone.utc)
    values = {
        "bot": bot,
        "update_id": update_id,
        "payload": payload,
        "state": "received",
        "received_at": now,
        "lease_until": now + lease,
    }
    try:
        with session_scope(sessions) as session:
            insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            statement = (
                insert(TelegramUpdate)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["bot", "update_id"])
                .returning(TelegramUpdate.id)
            )
            return session.execute(statement).scalar()
    except SQLAlchemyError as exc:
        raise DependencyError(f"cannot store a Telegram update: {exc.__class__.__name__}") from exc


def start_update(sessions: sessionmaker[Session], row_id: int, lease: timedelta, *, lease_over: bool = False) -> bool:
    """True when this caller now runs the update `row_id` (it was `received`; with `lease_over`,
    only if its holder's lease ended); False when another process took it first."""
    now = datetime.now(timezone.utc)
    conditions = [TelegramUpdate.id == row_id, TelegramUpdate.state == "received"]
    if lease_over:
        conditions.append(TelegramUpdate.lease_until < now)
    try:
        with session_scope(sessions) as session:
            taken = session.execute(
                update(TelegramUpdate).where(*conditions).values(state="started", lease_until=now + lease)
            )
            return bool(taken.rowcount)
    except SQLAlchemyError as exc:
        raise DependencyError(f"cannot start a Telegram update: {exc.__class__.__name__}") from exc


def finish_update(sessions: sessionmaker[Session], row_id: int) -> None:
    """Nothing; the update `row_id` is `done` (its handlers returned, answered or apologised)."""
    try:
        with session_scope(sessions) as session:
            session.execute(
                update(TelegramUpdate)
                .where(TelegramUpdate.id == row_id)
                .values(state="done", finished_at=datetime.now(timezone.utc))
            )
    except SQLAlchemyError as exc:
        raise DependencyError(f"cannot finish a Telegram update: {exc.__class__.__name__}") from exc


def unfinished_updates(sessions: sessionmaker[Session], bots: list[str], limit: int = 100) -> list[StoredUpdate]:
    """Up to `limit` `received` updates of `bots` whose holder's lease is over, oldest first
    (candidates: `start_update(..., lease_over=True)` decides who runs each)."""
    now = datetime.now(timezone.utc)
    with session_scope(sessions) as session:
        rows = session.execute(
            select(TelegramUpdate.id, TelegramUpdate.bot, TelegramUpdate.update_id, TelegramUpdate.payload)
            .where(TelegramUpdate.state == "received", TelegramUpdate.lease_until < now, TelegramUpdate.bot.in_(bots))
            .order_by(TelegramUpdate.id)
            .limit(limit)
        ).all()
    return [StoredUpdate(row.id, row.bot, row.update_id, row.payload) for row in rows]


def interrupt_abandoned(sessions: sessionmaker[Session]) -> int:
    """How many `started` updates whose process died (lease over) are now `interrupted`."""
    now = datetime.now(timezone.utc)
    with session_scope(sessions) as session:
        marked = session.execute(
            update(TelegramUpdate)
            .where(TelegramUpdate.state == "started", TelegramUpdate.lease_until < now)
            .values(state="interrupted", finished_at=now)
        )
        return marked.rowcount or 0


def forget_old_updates(sessions: sessionmaker[Session], keep_for: timedelta = KEEP_FOR) -> int:
    """How many finished updates older than `keep_for` were deleted (re-deliveries stop by then)."""
    cutoff = datetime.now(timezone.utc) - keep_for
    with session_scope(sessions) as session:
        gone = session.execute(
            delete(TelegramUpdate).where(
                TelegramUpdate.state.in_(("done", "interrupted")), TelegramUpdate.received_at < cutoff
            )
        )
        return gone.rowcount or 0


def count_by_state(sessions: sessionmaker[Session]) -> dict[str, int]:
    """The number of stored updates in each state (the `received` count is the queue's depth)."""
    with session_scope(sessions) as session:
        rows = session.execute(select(TelegramUpdate.state, func.count()).group_by(TelegramUpdate.state)).all()
    return {state: count for state, count in rows}
