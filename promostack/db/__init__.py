"""Database: typed SQLAlchemy 2 models and engine/session factories (SQLite or Postgres)."""

from promostack.db.engine import make_engine, make_session_factory, session_scope
from promostack.db.models import Base, BotUser, Coupon, GenerationEvent, Signal

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
