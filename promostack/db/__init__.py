"""Database: typed SQLAlchemy 2 models and engine/session factories (SQLite or Postgres)."""

from promostack.db.engine import make_engine, make_session_factory, session_scope
from promostack.db.models import Base, BotUser, Coupon, GenerationEvent, Signal

# Each feature keeps its tables in its own module; importing them here puts every table on
# `Base.metadata` (migrations are compared against it).
from promostack.db import broadcasts, campaigns, revenue, strategy, updates  # noqa: E402,F401  isort: skip

__all__ = [
    "Base",
    "BotUser",
    "Coupon",
    "GenerationEvent",
    "Signal",
    "make_engine",
    "make_session_factory",
    "session_scope",
]
