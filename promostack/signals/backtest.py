"""The backtest: the live strategy and lifecycle run over history, one candle at a time in effect.

Order of events on each candle is the live one: an open signal is judged first (on that
candle), and only when none is open may the candle raise a new signal, at its close. At most
one signal is open at a time, as the database enforces live. Indicators are computed once over
the whole history; each is causal (row t uses rows <= t), which the no-look-ahead test checks.
`simulate` is that loop alone, shared by the backtest and the walk-forward optimiser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd

from promostack.errors import InvalidInput
from promostack.marketdata.candles import interval_seconds
from promostack.signals.lifecycle import price_decimals, resolve_arrays, score
from promostack.signals.params import StrategyParams
from promostack.signals.stats import ClosedTrade, PerformanceReport, equity_curve, performance
from promostack.signals.strategy import BUY, SELL, SignalCandidate, TrendStrategy, levels

#: Status of a trade still open when the judged candles ran out, valued at the last close.
WINDOW_END = "window_end"


@dataclass(frozen=True)
class SimulatedTrade:
    """One trade of a simulation: the rows it opened and closed on, and how."""

    row: int
    exit_row: int
    side: str
    entry: float
    stop_loss: float
    status: str
    exit_price: float


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


def simulate(
    frame: pd.DataFrame,
    params: StrategyParams,
    start: int = 0,
    stop: int | None = None,
    value_open_trade: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[SimulatedTrade]:
    """The trades an analysed `frame` raises on rows [start, stop), judged on rows before `stop` only.

    A trade still open when those rows run out is dropped, or with `value_open_trade` closed at
    the last close as `WINDOW_END` (the walk-forward's windows must not peek past their end).
    """
    stop = len(frame) if stop is None else stop
    opens, highs, lows, closes, atrs = (
        frame[c].to_numpy()[:stop] for c in ("open", "high", "low", "close", "atr")
    )
    longs = frame["enter_long"].to_numpy()[:stop]
    entries = np.flatnonzero(longs | frame["enter_short"].to_numpy()[:stop])
    digits = price_decimals(params.symbol)
    trades: list[SimulatedTrade] = []
    free_from = start  # first row at which a new signal may open (the previous one has closed)
    for row in entries[entries >= start]:
        if row < free_from:
            continue
        side = BUY if longs[row] else SELL
        entry = float(closes[row])
        take_profit, stop_loss = levels(params, side, entry, float(atrs[row]))
        entry = round(entry, digits)
        later = slice(row + 1, stop)
        found = resolve_arrays(
            side, entry, take_profit, stop_loss, opens[later], highs[later], lows[later], closes[later],
            params.expiry_candles,
        )  # fmt: skip
        if found is None:
            if value_open_trade and row + 1 < stop:
                trades.append(
                    SimulatedTrade(int(row), stop - 1, side, entry, stop_loss, WINDOW_END, float(closes[-1]))
                )
            break  # still open at the end of the candles: no later signal may open
        offset, status, exit_price = found
        exit_row = int(row) + 1 + offset
        trades.append(
            SimulatedTrade(int(row), exit_row, side, entry, stop_loss, status, round(exit_price, digits))
        )
        # The exit candle was judged first, so a new signal may already come from it.
        free_from = exit_row
        if progress:
            progress(exit_row + 1, stop)
    return trades


def closed_trade(frame: pd.DataFrame, params: StrategyParams, trade: SimulatedTrade) -> ClosedTrade:
    """`trade` with its times, pips and R-multiple, as the statistics take it."""
    step = timedelta(seconds=interval_seconds(params.interval))
    pips, r_multiple = score(params.symbol, trade.side, trade.entry, trade.stop_loss, trade.exit_price)
    return ClosedTrade(
        side=trade.side,
        status=trade.status,
        opened_at=frame.index[trade.row].to_pydatetime() + step,  # known when its candle closes
        closed_at=frame.index[trade.exit_row].to_pydatetime() + step,
        pips=pips,
        r_multiple=r_multiple,
    )


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
    result = BacktestResult(candles=len(frame))
    for simulated in simulate(frame, p, progress=progress):
        signal = strategy.candidate_at(frame, simulated.row)
        assert signal is not None  # the same flags raised it
        result.trades.append(BacktestTrade(signal, closed_trade(frame, p, simulated), simulated.exit_price))
    if progress:
        progress(len(frame), len(frame))
    closed = [t.trade for t in result.trades]
    result.report = performance(closed)
    result.equity = equity_curve(closed)
    return result
