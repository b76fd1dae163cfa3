"""Read-then-write transactions that lock their rows stay correct on SQLite too, where `FOR UPDATE`
is ignored: `lock_database_for_writing` makes each one a writer from its first statement."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.orm import Session, sessionmaker

from promostack.db.engine import lock_database_for_writing, session_scope
from promostack.db.models import RateLimitWindow

WRITERS = 12


def _increment(sessions: sessionmaker[Session], lock: bool) -> None:
    with session_scope(sessions) as session:
        if lock:
            lock_database_for_writing(session)
        row = session.get(RateLimitWindow, ("counter", 1), with_for_update=True)
        seen = row.count
        time.sleep(0.02)  # what the MRR ledger does between reading and writing: compute
        row.count = seen + 1


def _run(sessions: sessionmaker[Session], lock: bool) -> int:
    with session_scope(sessions) as session:
        session.merge(RateLimitWindow(key="counter", window=1, count=0, expires_at=0))
    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(lambda _: _increment(sessions, lock), range(WRITERS)))
    with sessions() as session:
        return session.get(RateLimitWindow, ("counter", 1)).count


def test_concurrent_read_then_write_transactions_lose_no_update(sessions: sessionmaker[Session]) -> None:
    assert _run(sessions, lock=True) == WRITERS


def test_without_the_lock_sqlite_loses_updates(sessions: sessionmaker[Session]) -> None:
    if sessions.kw["bind"].dialect.name != "sqlite":
        assert _run(sessions, lock=False) == WRITERS  # Postgres: FOR UPDATE alone is enough
    else:
        assert _run(sessions, lock=False) < WRITERS  # what the Stripe mirror did before
