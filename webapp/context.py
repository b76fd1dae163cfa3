"""What the web app's requests share: settings, database sessions, the object store.

Built in the app's lifespan (never at import time) and kept on `app.state.ctx`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from promostack.config import Settings
from promostack.db.engine import make_engine, make_session_factory
from promostack.storage import ObjectStore, build_store


@dataclass
class AppContext:
    """Long-lived resources of one app instance."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ObjectStore

    def close(self) -> None:
        """Release the database pool."""
        self.engine.dispose()


def build_context(settings: Settings) -> AppContext:
    """Open the resources `settings` describe."""
    engine = make_engine(settings.sqlalchemy_url)
    return AppContext(settings=settings, engine=engine, sessions=make_session_factory(engine), store=build_store(settings))


def ctx(request: Request) -> AppContext:
    """The app context of the app serving `request`."""
    return request.app.state.ctx
