"""The send pace is shared by processes: two processes pacing the same bot token together stay
within one budget (database on SQLite and Postgres, and Redis)."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid

import pytest

from promostack.db.engine import make_engine, make_session_factory
from promostack.limits import DatabaseLimiter, Limit, RedisLimiter, acquire

REDIS_URL = "redis://127.0.0.1:6379/0"
RATE = 20
HITS_EACH = 40


def _pace(backend: str, url: str, key: str, start_at: float, out: multiprocessing.Queue) -> None:
    """In a child process: `HITS_EACH` paced hits of `key`, the wall-clock time of each put on `out`."""
    engine = None
    if backend == "redis":
        limiter = RedisLimiter(url)
    else:
        engine = make_engine(url)
        limiter = DatabaseLimiter(make_session_factory(engine))

    async def run() -> list[float]:
        times = []
        for _ in range(HITS_EACH):
            await acquire(limiter, key, Limit(RATE, 1.0))
            times.append(time.time())
        return times

    time.sleep(max(0.0, start_at - time.time()))
    out.put(asyncio.run(run()))
    if engine is not None:
        engine.dispose()


def _two_processes(backend: str, url: str) -> list[float]:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    key = f"test-pacing:{uuid.uuid4().hex}"
    start_at = time.time() + 3.0  # both start together, after their interpreters are up
    workers = [context.Process(target=_pace, args=(backend, url, key, start_at, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    times = sorted(out.get(timeout=60) + out.get(timeout=60))
    for worker in workers:
        worker.join(timeout=10)
    return times


def _assert_one_budget(times: list[float]) -> None:
    assert len(times) == 2 * HITS_EACH
    # 80 hits at 20 per one-second window span at least 4 windows (2 whole ones in the middle);
    # two private budgets would have let 40 through per window and finished within 2.
    assert times[-1] - times[0] >= (2 * HITS_EACH) / RATE - 2
    per_window: dict[int, int] = {}
    for moment in times:
        per_window[int(moment)] = per_window.get(int(moment), 0) + 1
    # A hit allowed at the very end of a window may be timed in the next one: allow that slack.
    assert len(per_window) >= (2 * HITS_EACH) // RATE
    assert max(per_window.values()) <= RATE + 2


def test_two_processes_share_one_pace_in_the_database(db_url: str) -> None:
    _assert_one_budget(_two_processes("database", db_url))


def test_two_processes_share_one_pace_in_redis() -> None:
    try:
        RedisLimiter(REDIS_URL).client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no Redis here"
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc}")
    _assert_one_budget(_two_processes("redis", REDIS_URL))
