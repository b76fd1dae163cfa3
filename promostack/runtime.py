"""The runtime: long-lived resources (settings, database, store) built once per process.

Flows, tasks, bots and the web app all reach the database and the store through a `Runtime`.
It is built by a factory, never at import time: `current_runtime()` builds one from the
environment's settings on first use, and `install_runtime()` puts a specific one in place
(the web app's lifespan does, and so do tests).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from promostack.config import Settings, get_settings
from promostack.db.engine import make_engine, make_session_factory
from promostack.storage import ObjectStore, build_store


@dataclass
class Runtime:
    """Settings plus the resources they describe."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ObjectStore

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
