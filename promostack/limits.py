"""Rate limits shared by every process: fixed-window counters in Redis or in the database.

A limit is "at most `limit` hits of `key` per `window_s` seconds". `hit` counts the attempt first
and atomically (one round trip: `INCR` in Redis, `INSERT … ON CONFLICT DO UPDATE … RETURNING` in
the database), then says whether it is within the limit, so concurrent requests can never
outrun it: the 31st of 30 simultaneous hits is refused whichever process serves it.

Used for the per-user `/promo` limit, the per-IP `POST /api/render` limit and Telegram send
pacing (a per-second window per bot token). Redis when `REDIS_URL` is set, else the database.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from promostack.db.engine import session_scope
from promostack.db.models import RateLimitWindow
from promostack.errors import DependencyError
from promostack.redis_link import redis_client

log = logging.getLogger(__name__)

# About one hit in this many also deletes windows that ended long ago, so the table stays small.
CLEANUP_EVERY = 200


@dataclass(frozen=True)
class Verdict:
    """The answer to one hit: allowed or not, and the seconds until the window that refused it ends."""

    allowed: bool
    count: int
    retry_after_s: float = 0.0

    @property
    def retry_after_header(self) -> str:
        """`retry_after_s` as an HTTP `Retry-After` value (whole seconds, at least 1)."""
        return str(max(1, math.ceil(self.retry_after_s)))


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits per `window_s` seconds (0 or less: no limit)."""

    limit: int
    window_s: float

    @property
    def enabled(self) -> bool:
        """True when the limit limits anything."""
        return self.limit > 0 and self.window_s > 0


class RateLimiter(Protocol):
    """Counts hits of a key in fixed windows shared by every process."""

    def hit(self, key: str, limit: Limit) -> Verdict:
        """The verdict on one more hit of `key` (counted whether allowed or not)."""
        ...


def _window(limit: Limit, now: float) -> tuple[int, float]:
    """The window number `now` falls in and the seconds left in it."""
    number = int(now // limit.window_s)
    return number, (number + 1) * limit.window_s - now


class DatabaseLimiter:
    """Counters in the `rate_limit_windows` table (SQLite or Postgres)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def hit(self, key: str, limit: Limit) -> Verdict:
        """The verdict on one more hit of `key`; `DependencyError` when the database fails."""
        if not limit.enabled:
            return Verdict(True, 0)
        now = time.time()
        number, left = _window(limit, now)
        try:
            with session_scope(self.sessions) as session:
                dialect = session.get_bind().dialect.name
                insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
                statement = insert(RateLimitWindow).values(
                    key=key[:200], window=number, count=1, expires_at=int(now + left)
                )
                statement = statement.on_conflict_do_update(
                    index_elements=["key", "window"], set_={"count": RateLimitWindow.count + 1}
                ).returning(RateLimitWindow.count)
                count = int(session.execute(statement).scalar_one())
                if random.randrange(CLEANUP_EVERY) == 0:
                    session.execute(delete(RateLimitWindow).where(RateLimitWindow.expires_at < int(now) - 60))
        except SQLAlchemyError as exc:
            raise DependencyError(f"cannot count the rate limit: {exc.__class__.__name__}") from exc
        return Verdict(count <= limit.limit, count, 0.0 if count <= limit.limit else left)


class RedisLimiter:
    """Counters in Redis: `INCR` plus an expiry, one round trip per hit."""

    def __init__(self, url: str, prefix: str = "promostack:limit:") -> None:
        self.client, self._errors = redis_client(url)
        self.prefix = prefix

    def hit(self, key: str, limit: Limit) -> Verdict:
        """The verdict on one more hit of `key`; `DependencyError` when Redis fails."""
        if not limit.enabled:
            return Verdict(True, 0)
        number, left = _window(limit, time.time())
        name = f"{self.prefix}{key}:{number}"
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.incr(name)
            pipe.expire(name, max(1, math.ceil(left)) + 1)
            count = int(pipe.execute()[0])
        except self._errors as exc:
            raise DependencyError(f"cannot count the rate limit in Redis: {exc.__class__.__name__}") from exc
        return Verdict(count <= limit.limit, count, 0.0 if count <= limit.limit else left)


def build_limiter(redis_url: str | None, sessions: sessionmaker[Session]) -> RateLimiter:
    """Redis counters when `redis_url` is given, else database counters on `sessions`."""
    return RedisLimiter(redis_url) if redis_url else DatabaseLimiter(sessions)


async def acquire(limiter: RateLimiter, key: str, limit: Limit, *, jitter_s: float = 0.02) -> float:
    """The seconds waited until one hit of `key` was allowed, waiting out each refusal.

    For pacing (Telegram sends per bot token): a refused hit waits until its window ends, plus a
    little jitter so the waiters of every process do not all knock in the same millisecond.
    The hit itself runs in a thread (the limiter is a blocking Redis or database round trip).
    `DependencyError` when the limiter's store fails.
    """
    waited = 0.0
    while True:
        verdict = await asyncio.to_thread(limiter.hit, key, limit)
        if verdict.allowed:
            return waited
        pause = verdict.retry_after_s + random.uniform(0, jitter_s)
        await asyncio.sleep(pause)
        waited += pause
