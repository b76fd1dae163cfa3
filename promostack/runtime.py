"""The runtime: long-lived resources (settings, database, store, and the services that cache on
them) built once per process and handed to whoever needs them.

Edges hold it (`app.state.runtime` in the web app, `bot_data["runtime"]` in a bot) and pass it
down; a flow takes it once at its entry with `current_runtime()`, which builds one from the
environment's settings on first use. `install_runtime()` puts a specific one in place (the web
app's lifespan does, and so do tests). Nothing below an entry point looks it up by itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from promostack.config import Settings, get_settings
from promostack.coupons import CouponValidator, build_validator
from promostack.db.engine import make_engine, make_session_factory
from promostack.limits import RateLimiter, build_limiter
from promostack.marks import Marks, build_marks
from promostack.storage import ObjectStore, build_store
from promostack.templates.store import TemplateStore


@dataclass
class Runtime:
    """Settings plus the resources they describe."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ObjectStore

    @cached_property
    def templates(self) -> TemplateStore:
        """The template store on `store`, built on first use; it caches parsed metas and images,
        so every part of the process (public pages, admin, bots, flows) shares this one."""
        return TemplateStore(self.store)

    @cached_property
    def validator(self) -> CouponValidator:
        """The coupon validator the settings choose, built on first use (FunderPro's answers are
        cached in it); `InvalidInput` when the settings are incomplete."""
        return build_validator(self.settings, self.sessions)

    @cached_property
    def limiter(self) -> RateLimiter:
        """The rate limiter every process shares: Redis when `REDIS_URL` is set, else the database."""
        return build_limiter(self.settings.redis_url, self.sessions)

    @cached_property
    def marks(self) -> Marks:
        """One-time marks every process shares (handled updates, ended sessions): beside the limits."""
        return build_marks(self.settings.redis_url, self.sessions)

    def close(self) -> None:
        """Release the database pool."""
        self.engine.dispose()


def build_runtime(settings: Settings) -> Runtime:
    """Open the resources `settings` describe."""
    engine = make_engine(settings.sqlalchemy_url)
    return Runtime(settings=settings, engine=engine, sessions=make_session_factory(engine), store=build_store(settings))


_lock = threading.Lock()
_current: Runtime | None = None


def current_runtime() -> Runtime:
    """The installed runtime, or one built from the environment on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = build_runtime(get_settings())
        return _current


@contextmanager
def install_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """Make `runtime` the current one inside the block, restoring the previous one after."""
    global _current
    with _lock:
        previous, _current = _current, runtime
    try:
        yield runtime
    finally:
        with _lock:
            _current = previous
