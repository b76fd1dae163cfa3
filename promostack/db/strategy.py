"""Tables of the signals strategy: walk-forward reports, and the parameter sets admins adopted.

The live strategy reads only `strategy_adoptions` (the newest row for its symbol and interval;
the built-in defaults when there is none), so an optimisation never changes it by itself, and
every change is a row saying what, from what, by whom, when and on the strength of which report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from promostack.db.models import Base, utcnow


class WalkForwardRun(Base):
    """A finished walk-forward optimisation and its whole report (JSON)."""

    __tablename__ = "walk_forward_runs"
    __table_args__ = (Index("ix_walk_forward_runs_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    symbol: Mapped[str] = mapped_column(String(16))
    interval: Mapped[str] = mapped_column(String(8))
    #: Where the candles came from (a file name), for the reader of the report.
    source: Mapped[str] = mapped_column(String(200))
    windows: Mapped[int] = mapped_column(Integer)
    trades: Mapped[int] = mapped_column(Integer)
    expectancy_r: Mapped[float | None] = mapped_column(Float)
    edge: Mapped[bool] = mapped_column(Boolean)
    report: Mapped[dict[str, Any]] = mapped_column()


class StrategyAdoption(Base):
    """One change of the live strategy's parameters, made by an admin."""

    __tablename__ = "strategy_adoptions"
    __table_args__ = (Index("ix_strategy_adoptions_symbol_interval", "symbol", "interval", "adopted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    symbol: Mapped[str] = mapped_column(String(16))
    interval: Mapped[str] = mapped_column(String(8))
    params: Mapped[dict[str, Any]] = mapped_column()
    previous_params: Mapped[dict[str, Any]] = mapped_column()
    adopted_at: Mapped[datetime] = mapped_column(default=utcnow)
    adopted_by: Mapped[str] = mapped_column(String(128))
    note: Mapped[str] = mapped_column(Text, default="")
    #: The report (and its window) the set came from; None for a return to the defaults.
    walk_forward_run_id: Mapped[int | None] = mapped_column(ForeignKey("walk_forward_runs.id"))
    window_index: Mapped[int | None] = mapped_column(Integer)
