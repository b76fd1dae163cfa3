"""The backtest: the live strategy and lifecycle run over history, one candle at a time in effect.

Order of events on each candle is the live one: an open signal is judged first (on that
candle), and only when none is open may the candle raise a new signal, at its close. At most
one signal is open at a time, as the database enforces live. Indicators are computed once over
the whole history; each is causal (row t uses rows <= t), which the no-look-ahead test checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd

from promostack.errors import InvalidInput
from promostack.marketdata.candles import interval_seconds
from promostack.signals.lifecycle import resolve_arrays, score
from promostack.signals.stats import ClosedTrade, PerformanceReport, equity_curve, performance
from promostack.signals.strategy import SignalCandidate, TrendStrategy


@dataclass(frozen=True)
class BacktestTrade:
    """One signal of the backtest and how it ended."""

    signal: SignalCandidate
    trade: ClosedTrade
    exit_price: float


@dataclass
class BacktestResult:
    """Every trade, the report, and the equity curve in pips."""

    trades: list[BacktestTrade] = field(default_factory=list)
    report: PerformanceReport | None = None
    equity: list[float] = field(default_factory=list)
    candles: int = 0


def run_backtest(
    candles: pd.DataFrame,
    strategy: TrendStrategy | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestResult:
    """Replay `candles` (closed, oldest first) through the strategy; `progress(done, total)` reports rows."""
    strategy = strategy or TrendStrategy()
    p = strategy.params
    if len(candles) <= strategy.startup_candle_count:
        needed = strategy.startup_candle_count
        raise InvalidInput(f"the backtest needs more than {needed} candles (warm-up); got {len(candles)}")
    frame = strategy.analyse(candles)
    opens, highs, lows, closes = (frame[c].to_numpy() for c in ("open", "high", "low", "close"))
    entries = np.flatnonzero(frame["enter_long"].to_numpy() | frame["enter_short"].to_numpy())
    step = timedelta(seconds=interval_seconds(p.interval))
    result = BacktestResult(candles=len(frame))
    free_from = 0  # first row at which a new signal may open (the previous one has closed)
    total = len(frame)
    for row in entries:
        if row < free_from:
            continue
        signal = strategy.candidate_at(frame, int(row))
        if signal is None:
            continue
        found = resolve_arrays(
            signal.side,
            signal.entry,
            signal.take_profit,
            signal.stop_loss,
            opens[row + 1 :],
            highs[row + 1 :],
            lows[row + 1 :],
            closes[row + 1 :],
            p.expiry_candles,
        )
        if found is None:
            break  # still open at the end of history: not a result yet
        offset, status, exit_price = found
        exit_row = row + 1 + offset
        pips, r_multiple = score(p.symbol, signal.side, signal.entry, signal.stop_loss, exit_price)
        trade = ClosedTrade(
            side=signal.side,
            status=status,
            opened_at=signal.candle_time + step,  # the signal is known when its candle closes
            closed_at=frame.index[exit_row].to_pydatetime() + step,
            pips=pips,
            r_multiple=r_multiple,
        )
        result.trades.append(BacktestTrade(signal, trade, round(exit_price, 2)))
        # The exit candle was judged first, so a new signal may already come from it.
        free_from = exit_row
        if progress:
            progress(exit_row + 1, total)
    if progress:
        progress(total, total)
    closed = [t.trade for t in result.trades]
    result.report = performance(closed)
    result.equity = equity_curve(closed)
    return result
