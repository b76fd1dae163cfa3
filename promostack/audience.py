"""The bots' audience: who talks to which bot, when they were last seen, whether they blocked it.

Pure database functions taking a session factory, so bots, flows (broadcasts) and analytics share
one set of rules:

- every update from a user touches them: created on first sight, `last_seen` moved, names kept
  current — but a blocked user stays blocked (only `/start` says they came back);
- `/start` registers the user, or reactivates one we had marked blocked;
- a `Forbidden` answer from Telegram when sending marks the user blocked, so broadcasts skip them.

Writes are single upserts (`INSERT … ON CONFLICT DO UPDATE` on SQLite and Postgres), so two
updates of a new user handled at the same time never collide on the unique (bot, telegram_id).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from promostack.db.engine import session_scope
from promostack.db.models import BotUser, utcnow

ACTIVE = "active"
BLOCKED = "blocked"


@dataclass(frozen=True)
class Person:
    """What Telegram tells us about a user, as plain values."""

    telegram_id: int
    username: str | None = None
    first_name: str | None = None
    language_code: str | None = None


class Arrival(enum.Enum):
    """How a `/start` found the user: new, already active, or back after blocking the bot."""

    NEW = "new"
    RETURNING = "returning"
    REACTIVATED = "reactivated"


def touch(factory: sessionmaker[Session], bot: str, person: Person, *, at: datetime | None = None) -> None:
    """Nothing; records that `person` used `bot` now (created when new, status unchanged)."""
    _upsert(factory, bot, person, at or utcnow(), status=None)


def register(
    factory: sessionmaker[Session], bot: str, person: Person, *, at: datetime | None = None
) -> Arrival:
    """How the user arrived; makes `person` an active user of `bot` (new, or reactivated)."""
    with session_scope(factory) as session:
        before = session.scalar(
            select(BotUser.status).where(BotUser.bot == bot, BotUser.telegram_id == person.telegram_id)
        )
    _upsert(factory, bot, person, at or utcnow(), status=ACTIVE)
    if before is None:
        return Arrival.NEW
    return Arrival.REACTIVATED if before == BLOCKED else Arrival.RETURNING


def mark_blocked(factory: sessionmaker[Session], bot: str, telegram_id: int) -> bool:
    """True when `telegram_id` was not yet marked as having blocked `bot`, and now is."""
    with session_scope(factory) as session:
        result = session.execute(
            update(BotUser)
            .where(BotUser.bot == bot, BotUser.telegram_id == telegram_id, BotUser.status != BLOCKED)
            .values(status=BLOCKED)
        )
        if result.rowcount:
            return True
        if session.scalar(select(BotUser.id).where(BotUser.bot == bot, BotUser.telegram_id == telegram_id)):
            return False
    # Unknown yet (its first touch is still being written): record it blocked, whoever wins the race.
    _upsert(factory, bot, Person(telegram_id), utcnow(), status=BLOCKED, only_status=True)
    return True


def get_user(factory: sessionmaker[Session], bot: str, telegram_id: int) -> BotUser | None:
    """The stored user `telegram_id` of `bot`, or None."""
    with session_scope(factory) as session:
        return session.scalar(select(BotUser).where(BotUser.bot == bot, BotUser.telegram_id == telegram_id))


def active_users(factory: sessionmaker[Session], bot: str) -> list[int]:
    """The Telegram ids of `bot`'s users who have not blocked it, oldest first."""
    with session_scope(factory) as session:
        rows = session.scalars(
            select(BotUser.telegram_id)
            .where(BotUser.bot == bot, BotUser.status == ACTIVE)
            .order_by(BotUser.id)
        )
        return list(rows)


def _upsert(
    factory: sessionmaker[Session],
    bot: str,
    person: Person,
    at: datetime,
    status: str | None,
    only_status: bool = False,
) -> None:
    values: dict[str, Any] = {
        "bot": bot,
        "telegram_id": person.telegram_id,
        "username": person.username,
        "first_name": person.first_name,
        "language_code": person.language_code,
        "status": status or ACTIVE,
        "first_seen": at,
        "last_seen": at,
    }
    changes: dict[str, Any] = {"username": person.username, "first_name": person.first_name, "last_seen": at}
    if person.language_code:
        changes["language_code"] = person.language_code
    if status is not None:
        changes["status"] = status
    if only_status:
        changes = {"status": status}
    with session_scope(factory) as session:
        dialect = session.get_bind().dialect.name
        if dialect in {"postgresql", "sqlite"}:
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            statement = insert(BotUser).values(**values)
            session.execute(
                statement.on_conflict_do_update(index_elements=["bot", "telegram_id"], set_=changes)
            )
            return
        # Other databases: read-then-write (no concurrent-insert guarantee there).
        user = session.scalar(
            select(BotUser).where(BotUser.bot == bot, BotUser.telegram_id == person.telegram_id)
        )
        if user is None:
            session.add(BotUser(**values))
        else:
            for name, value in changes.items():
                setattr(user, name, value)
