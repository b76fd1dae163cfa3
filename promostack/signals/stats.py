"""Statistics of closed signals: the daily/weekly recap figures and the backtest report.

A win is a closed signal with positive pips, a loss one with negative pips (an expiry can be
either, or flat); the win rate is wins over closed signals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np


@dataclass(frozen=True)
class ClosedTrade:
    """The part of a closed signal the statistics need."""

    side: str
    status: str
    opened_at: datetime
    closed_at: datetime
    pips: float
    r_multiple: float


@dataclass(frozen=True)
class RecapStats:
    """What a recap tells the channel about a period."""

    opened: int
    closed: int
    wins: int
    losses: int
    win_rate: float | None
    pips: float
    average_r: float | None
    best_pips: float | None
    worst_pips: float | None
    streak: int  # >0: that many wins in a row up to now; <0: losses; 0: none

    @property
    def streak_text(self) -> str:
        """The current streak in words, e.g. "3 wins"."""
        if self.streak == 0:
            return "none"
        count = abs(self.streak)
        word = "win" if self.streak > 0 else "loss"
        return f"{count} {word}{'' if count == 1 else ('s' if word == 'win' else 'es')}"


def current_streak(trades: Sequence[ClosedTrade]) -> int:
    """Wins (positive) or losses (negative) in a row at the end of `trades`, by close time."""
    streak = 0
    for trade in sorted(trades, key=lambda t: t.closed_at, reverse=True):
        sign = 1 if trade.pips > 0 else -1 if trade.pips < 0 else 0
        if sign == 0 or (streak and (streak > 0) != (sign > 0)):
            break
        streak += sign
    return streak


def recap_stats(
    period: Sequence[ClosedTrade], opened: int, history: Sequence[ClosedTrade] | None = None
) -> RecapStats:
    """The recap of the trades closed in a period; the streak runs over `history` (default: the period)."""
    pips = [t.pips for t in period]
    wins = sum(1 for p in pips if p > 0)
    losses = sum(1 for p in pips if p < 0)
    return RecapStats(
        opened=opened,
        closed=len(period),
        wins=wins,
        losses=losses,
        win_rate=wins / len(period) if period else None,
        pips=round(sum(pips), 1),
        average_r=round(sum(t.r_multiple for t in period) / len(period), 2) if period else None,
        best_pips=max(pips) if pips else None,
        worst_pips=min(pips) if pips else None,
        streak=current_streak(history if history is not None else period),
    )


def equity_curve(trades: Sequence[ClosedTrade]) -> list[float]:
    """Cumulative pips after each trade, in close order, starting from 0."""
    total, curve = 0.0, [0.0]
    for trade in sorted(trades, key=lambda t: t.closed_at):
        total += trade.pips
        curve.append(round(total, 1))
    return curve


def max_drawdown(curve: Sequence[float]) -> float:
    """The deepest fall of `curve` below its running peak (a positive number, 0 if none)."""
    if not curve:
        return 0.0
    values = np.asarray(curve, dtype=float)
    return float(np.max(np.maximum.accumulate(values) - values))


@dataclass(frozen=True)
class PerformanceReport:
    """What a backtest reports."""

    trades: int
    wins: int
    losses: int
    win_rate: float | None
    total_pips: float
    profit_factor: float | None  # gross won over gross lost; None with no losing trade
    expectancy_pips: float | None
    expectancy_r: float | None
    max_drawdown_pips: float
    sharpe: float | None  # per-trade R, annualised by the trades per year of the sample
    average_duration: timedelta | None


def performance(trades: Sequence[ClosedTrade]) -> PerformanceReport:
    """The backtest figures of `trades`."""
    n = len(trades)
    pips = np.array([t.pips for t in trades], dtype=float)
    rs = np.array([t.r_multiple for t in trades], dtype=float)
    won, lost = pips[pips > 0].sum(), -pips[pips < 0].sum()
    sharpe = None
    if n >= 2 and rs.std(ddof=1) > 0:
        span_years = (max(t.closed_at for t in trades) - min(t.opened_at for t in trades)) / timedelta(
            days=365.25
        )
        per_year = n / span_years if span_years > 0 else n
        sharpe = round(float(rs.mean() / rs.std(ddof=1) * math.sqrt(per_year)), 2)
    return PerformanceReport(
        trades=n,
        wins=int((pips > 0).sum()),
        losses=int((pips < 0).sum()),
        win_rate=float((pips > 0).mean()) if n else None,
        total_pips=round(float(pips.sum()), 1),
        profit_factor=round(float(won / lost), 2) if lost > 0 else None,
        expectancy_pips=round(float(pips.mean()), 1) if n else None,
        expectancy_r=round(float(rs.mean()), 3) if n else None,
        max_drawdown_pips=round(max_drawdown(equity_curve(trades)), 1),
        sharpe=sharpe,
        average_duration=sum((t.closed_at - t.opened_at for t in trades), timedelta()) / n if n else None,
    )
