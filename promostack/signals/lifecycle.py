"""How an open signal ends: take profit, stop loss, or expiry, decided on later closed candles.

Rules, shared by the live monitor and the backtest:

* Only candles that opened after the signal's candle count; the signal candle itself never
  decides anything (its close is the entry).
* A candle that opens at or beyond a level (a weekend or news gap) settles the trade at its
  open, the price really available: the open is known to come before anything else in the
  candle. A gap through the target is a win at the open (often better than the target), a gap
  through the stop a loss at the open (often worse than the stop), whatever the candle does next.
* Otherwise a BUY is stopped when a candle's low reaches the stop, and wins when its high
  reaches the target (mirrored for a SELL). When one candle touches both, we cannot know which
  came first inside it, so the stop is assumed first: the conservative reading.
* After `expiry_candles` later candles without either, the signal expires at that candle's
  close. Expiry counts candles, not clock time, so a weekend does not use it up.

Pips: for gold 1 pip = 0.1 USD (the common retail convention: 2 000.0 -> 2 001.0 is 10 pips);
JPY pairs 0.01; other forex pairs 0.0001. The R-multiple is the result over the initial risk
(entry to stop): a full stop is -1R, a full target is target_atr/stop_atr R.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from promostack.marketdata.candles import interval_seconds

TAKE_PROFIT, STOP_LOSS, EXPIRED, OPEN = "take_profit", "stop_loss", "expired", "open"


def pip_size(symbol: str) -> float:
    """The price step one pip stands for on `symbol` (gold: 0.1 USD)."""
    compact = symbol.upper().replace("/", "")
    if compact.startswith("XAU"):
        return 0.1
    if compact.endswith("JPY"):
        return 0.01
    return 0.0001


def price_decimals(symbol: str) -> int:
    """Decimals a price of `symbol` is quoted with: a tenth of a pip (gold: 2)."""
    return max(0, round(-math.log10(pip_size(symbol) / 10)))


@dataclass(frozen=True)
class Outcome:
    """How and when a signal closed."""

    status: str
    exit_price: float
    #: The close time of the candle that decided it (candle open time + interval).
    closed_at: datetime
    pips: float
    r_multiple: float
    candles_held: int


def resolve_arrays(
    side: str,
    entry: float,
    take_profit: float,
    stop_loss: float,
    opens: np.ndarray,
    highs: np.ndarray,
    lows: np.ndarray,
    closes: np.ndarray,
    expiry_candles: int,
) -> tuple[int, str, float] | None:
    """(row, status, exit price) for the candles after the signal, or None while still open.

    The arrays hold only candles that opened after the signal candle, oldest first.
    """
    n = min(len(closes), expiry_candles)
    if n == 0:
        return None
    o, h, lo = opens[:n], highs[:n], lows[:n]
    if side == "BUY":
        stop_hit, target_hit = lo <= stop_loss, h >= take_profit
    else:
        stop_hit, target_hit = h >= stop_loss, lo <= take_profit
    decided = np.flatnonzero(stop_hit | target_hit)
    if decided.size:
        row = int(decided[0])
        # The open comes first: a candle opening at or beyond a level has settled the trade there.
        if (o[row] >= take_profit) if side == "BUY" else (o[row] <= take_profit):
            return row, TAKE_PROFIT, float(o[row])
        if (o[row] <= stop_loss) if side == "BUY" else (o[row] >= stop_loss):
            return row, STOP_LOSS, float(o[row])
        if stop_hit[row]:
            # Touched inside the candle, perhaps with the target too: stop first, see module doc.
            return row, STOP_LOSS, stop_loss
        return row, TAKE_PROFIT, take_profit
    if len(closes) >= expiry_candles:
        return expiry_candles - 1, EXPIRED, float(closes[expiry_candles - 1])
    return None


def score(symbol: str, side: str, entry: float, stop_loss: float, exit_price: float) -> tuple[float, float]:
    """(pips, R-multiple) of a trade from `entry` to `exit_price`."""
    direction = 1.0 if side == "BUY" else -1.0
    move = (exit_price - entry) * direction
    risk = abs(entry - stop_loss)
    pips = round(move / pip_size(symbol), 1)
    r_multiple = round(move / risk, 3) if risk > 0 else 0.0
    return pips, r_multiple


def resolve(
    symbol: str,
    interval: str,
    side: str,
    candle_time: datetime,
    entry: float,
    take_profit: float,
    stop_loss: float,
    candles: pd.DataFrame,
    expiry_candles: int,
) -> Outcome | None:
    """The outcome of a signal raised on `candle_time`, judged on the closed `candles`, or None."""
    signal_at = pd.Timestamp(candle_time)
    if signal_at.tzinfo is None:  # SQLite hands back naive datetimes; every time here is UTC
        signal_at = signal_at.tz_localize("UTC")
    later = candles[candles.index > signal_at]
    found = resolve_arrays(
        side,
        entry,
        take_profit,
        stop_loss,
        later["open"].to_numpy(),
        later["high"].to_numpy(),
        later["low"].to_numpy(),
        later["close"].to_numpy(),
        expiry_candles,
    )
    if found is None:
        return None
    row, status, exit_price = found
    pips, r_multiple = score(symbol, side, entry, stop_loss, exit_price)
    closed_at = later.index[row].to_pydatetime() + timedelta(seconds=interval_seconds(interval))
    return Outcome(status, round(exit_price, price_decimals(symbol)), closed_at, pips, r_multiple, row + 1)
