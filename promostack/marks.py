"""One-time marks shared by every process: "this happened", remembered for a while.

Two questions, each answered in one atomic round trip:

- `claim(name, ttl_s)`: True for the first caller only (until the mark expires) — a re-delivered
  Telegram update finds its id claimed and is dropped;
- `is_set(name)`: whether a mark stands — an ended admin session stays ended.

They live beside the rate limits (`promostack.limits`): in Redis when `REDIS_URL` is set (`SET NX
EX`, `EXISTS`), else as rows of the same `rate_limit_windows` table (window 0, `expires_at` the
mark's end; the limiter's clean-up sweeps expired ones), so no new table or service is needed.
"""

from __future__ import annotations

import time
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from promostack.db.engine import session_scope
from promostack.db.models import RateLimitWindow
from promostack.errors import DependencyError
from promostack.redis_link import redis_client

PREFIX = "mark:"
# Rate-limit windows are numbered from the epoch; window 0 ended in 1970, so it never collides.
MARK_WINDOW = 0


class Marks(Protocol):
    """One-time marks shared by every process."""

    def claim(self, name: str, ttl_s: int) -> bool:
        """True when this call set the mark `name` (for `ttl_s` seconds); False when it stood already."""
        ...

    def is_set(self, name: str) -> bool:
        """True while the mark `name` stands."""
        ...


def _key(name: str) -> str:
    key = PREFIX + name
    if len(key) > 200:
        raise ValueError(f"a mark's name is at most {200 - len(PREFIX)} characters")
    return key


class DatabaseMarks:
    """Marks as rows of `rate_limit_windows` (SQLite or Postgres)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def claim(self, name: str, ttl_s: int) -> bool:
        """True for the first claim of `name` (an expired mark counts as none); `DependencyError` when the database fails."""
        now = int(time.time())
        try:
            with session_scope(self.sessions) as session:
                dialect = session.get_bind().dialect.name
                insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
                statement = insert(RateLimitWindow).values(
                    key=_key(name), window=MARK_WINDOW, count=1, expires_at=now + ttl_s
                )
                # Inserted, or taken over from an expired mark: a row comes back. Standing: none.
                statement = statement.on_conflict_do_update(
                    index_elements=["key", "window"],
                    set_={"expires_at": now + ttl_s, "count": 1},
                    where=RateLimitWindow.expires_at < now,
                ).returning(RateLimitWindow.key)
                return session.execute(statement).first() is not None
        except SQLAlchemyError as exc:
            raise DependencyError(f"cannot set a mark: {exc.__class__.__name__}") from exc

    def is_set(self, name: str) -> bool:
        """True while `name` stands; `DependencyError` when the database fails."""
        try:
            with session_scope(self.sessions) as session:
                found = session.execute(
                    select(RateLimitWindow.key).where(
                        RateLimitWindow.key == _key(name),
                        RateLimitWindow.window == MARK_WINDOW,
                        RateLimitWindow.expires_at >= int(time.time()),
                    )
                ).first()
        except SQLAlchemyError as exc:
            raise DependencyError(f"cannot read a mark: {exc.__class__.__name__}") from exc
        return found is not None


class RedisMarks:
    """Marks as Redis keys with an expiry."""

    def __init__(self, url: str, prefix: str = "promostack:") -> None:
        self.client, self._errors = redis_client(url)
        self.prefix = prefix

    def claim(self, name: str, ttl_s: int) -> bool:
        """True for the first claim of `name`; `DependencyError` when Redis fails."""
        try:
            return bool(self.client.set(self.prefix + _key(name), 1, nx=True, ex=max(1, ttl_s)))
        except self._errors as exc:
            raise DependencyError(f"cannot set a mark in Redis: {exc.__class__.__name__}") from exc

    def is_set(self, name: str) -> bool:
        """True while `name` stands; `DependencyError` when Redis fails."""
        try:
            return bool(self.client.exists(self.prefix + _key(name)))
        except self._errors as exc:
            raise DependencyError(f"cannot read a mark in Redis: {exc.__class__.__name__}") from exc


def build_marks(redis_url: str | None, sessions: sessionmaker[Session]) -> Marks:
    """Redis marks when `redis_url` is given, else database marks on `sessions`."""
    return RedisMarks(redis_url) if redis_url else DatabaseMarks(sessions)
