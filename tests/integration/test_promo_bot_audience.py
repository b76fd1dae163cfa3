"""The bots' audience in the database (SQLite and Postgres): touch, register, blocked, reactivated."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from promostack import audience
from promostack.audience import Arrival, Person
from promostack.db.engine import session_scope
from promostack.db.models import BotUser

ALICE = Person(4242, "alice", "Alice", "en")


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone=True columns; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _count(sessions: sessionmaker[Session]) -> int:
    with session_scope(sessions) as session:
        return session.scalar(select(func.count()).select_from(BotUser))


def test_many_simultaneous_first_updates_of_one_user_make_one_row(sessions: sessionmaker[Session]) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: audience.touch(sessions, "promo", ALICE), range(32)))
    assert _count(sessions) == 1


def test_register_tells_new_returning_and_reactivated_users_apart(sessions: sessionmaker[Session]) -> None:
    assert audience.register(sessions, "promo", ALICE) is Arrival.NEW
    assert audience.register(sessions, "promo", ALICE) is Arrival.RETURNING
    assert audience.mark_blocked(sessions, "promo", ALICE.telegram_id) is True
    assert audience.mark_blocked(sessions, "promo", ALICE.telegram_id) is False  # already known
    assert audience.active_users(sessions, "promo") == []
    assert audience.register(sessions, "promo", ALICE) is Arrival.REACTIVATED
    assert audience.active_users(sessions, "promo") == [ALICE.telegram_id]


def test_touch_keeps_a_blocked_user_blocked_and_updates_names_and_last_seen(
    sessions: sessionmaker[Session],
) -> None:
    first = datetime(2026, 1, 1, tzinfo=timezone.utc)
    audience.register(sessions, "promo", ALICE, at=first)
    audience.mark_blocked(sessions, "promo", ALICE.telegram_id)
    audience.touch(sessions, "promo", Person(4242, "alice2", "Alicia"), at=first + timedelta(days=1))
    user = audience.get_user(sessions, "promo", 4242)
    assert user is not None and user.status == "blocked"
    assert (user.username, user.first_name, user.language_code) == ("alice2", "Alicia", "en")
    assert _utc(user.first_seen) == first and _utc(user.last_seen) == first + timedelta(days=1)


def test_a_user_is_counted_per_bot(sessions: sessionmaker[Session]) -> None:
    audience.register(sessions, "promo", ALICE)
    audience.register(sessions, "forex", ALICE)
    audience.mark_blocked(sessions, "forex", ALICE.telegram_id)
    assert (
        audience.active_users(sessions, "promo") == [4242] and audience.active_users(sessions, "forex") == []
    )


def test_blocking_an_unknown_user_records_them_blocked(sessions: sessionmaker[Session]) -> None:
    assert audience.mark_blocked(sessions, "promo", 777) is True
    audience.touch(sessions, "promo", Person(777, "late"))  # the first touch landing afterwards
    user = audience.get_user(sessions, "promo", 777)
    assert user is not None and user.status == "blocked" and user.username == "late"
