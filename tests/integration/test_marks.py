"""One-time marks (`promostack.marks`): the first claim wins, across threads and backends, and a
mark that has expired can be claimed again — in the database (SQLite, Postgres) and in Redis."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from promostack.db.engine import make_engine, make_session_factory
from promostack.marks import DatabaseMarks, Marks, RedisMarks

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "redis"])
def marks(request: pytest.FixtureRequest) -> Iterator[Marks]:
    """Marks on a migrated SQLite or Postgres database, or in the real Redis (fresh names each test)."""
    if request.param == "redis":
        yield RedisMarks(REDIS_URL, prefix=f"test-{uuid.uuid4().hex}:")
        return
    engine = make_engine(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))
    yield _Named(DatabaseMarks(make_session_factory(engine)), uuid.uuid4().hex)
    engine.dispose()


class _Named:
    """`marks` with every name prefixed, so tests sharing a database never see each other's marks."""

    def __init__(self, marks: Marks, prefix: str) -> None:
        self.marks, self.prefix = marks, prefix

    def claim(self, name: str, ttl_s: int) -> bool:
        return self.marks.claim(f"{self.prefix}:{name}", ttl_s)

    def is_set(self, name: str) -> bool:
        return self.marks.is_set(f"{self.prefix}:{name}")


def test_only_the_first_of_many_simultaneous_claims_wins(marks: Marks) -> None:
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda _: marks.claim("update:1", 60), range(12)))
    assert results.count(True) == 1
    assert marks.is_set("update:1") and not marks.is_set("update:2")


def test_an_expired_mark_is_gone_and_can_be_claimed_again(marks: Marks) -> None:
    assert marks.claim("session-ended:abc", 1)
    time.sleep(2.1)
    assert not marks.is_set("session-ended:abc")
    assert marks.claim("session-ended:abc", 60) and not marks.claim("session-ended:abc", 60)
