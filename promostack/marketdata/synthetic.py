"""Synthetic XAU/USD-like candles: a random walk with gold's scale, rhythm and weekend gaps.

SYNTHETIC, NOT MARKET DATA. Used for the bundled replay sample, tests and benchmarks. Prices
start near 2 000 USD; each 15-minute step moves about 0.07 % (so the 14-candle ATR sits near
2-4 USD like real gold), volatility is higher in the London/New York hours, drift switches
between regimes every few days so trends exist, and nothing trades from Friday 21:00 to
Sunday 22:00 UTC, where the first Sunday candle may gap.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from promostack.marketdata.candles import interval_seconds
from promostack.marketdata.sessions import gold_market_open


def trading_times(start: datetime, count: int, interval: str = "15min") -> pd.DatetimeIndex:
    """`count` candle open times from `start` on, skipping the hours gold does not trade."""
    step = timedelta(seconds=interval_seconds(interval))
    times: list[datetime] = []
    t = start.astimezone(timezone.utc)
    while len(times) < count:
        if gold_market_open(t):
            times.append(t)
        t += step
    return pd.DatetimeIndex(times, name="time")


def synthetic_candles(
    count: int,
    start: datetime = datetime(2026, 1, 4, 22, 0, tzinfo=timezone.utc),
    interval: str = "15min",
    start_price: float = 2000.0,
    seed: int = 2,
    trend: float = 0.00006,
    regime_candles: int = 200,
) -> pd.DataFrame:
    """`count` synthetic candles (UTC index `time`, OHLC floats), reproducible for a `seed`.

    Every `regime_candles` candles the drift per candle is drawn anew with standard deviation
    `trend` (a fraction of the price): 0 gives a pure random walk, where no strategy has an
    edge; a strong, lasting drift plants one a trend follower can find.
    """
    rng = np.random.default_rng(seed)
    times = trading_times(start, count, interval)
    hours = times.hour.to_numpy()
    # London and New York hours move more than the Asian session.
    session_vol = np.where((hours >= 7) & (hours < 17), 1.4, 0.8)
    step_vol = 0.0007 * np.sqrt(interval_seconds(interval) / 900) * session_vol
    regime = np.repeat(rng.normal(0.0, trend, size=count // regime_candles + 1), regime_candles)[:count]
    returns = rng.normal(regime, step_vol)
    gap_after_weekend = np.zeros(count)
    deltas = np.diff(times.asi8, prepend=times.asi8[0]) / 1e9
    weekend = deltas > 24 * 3600
    gap_after_weekend[weekend] = rng.normal(0.0, 0.003, size=int(weekend.sum()))
    close = start_price * np.exp(np.cumsum(returns + gap_after_weekend))
    open_ = np.empty(count)
    open_[0] = start_price
    open_[1:] = close[:-1] * np.exp(gap_after_weekend[1:])
    wick = np.abs(rng.normal(0.0, step_vol * 0.6, size=(2, count))) * close
    high = np.maximum(open_, close) + wick[0]
    low = np.minimum(open_, close) - wick[1]
    frame = pd.DataFrame({"open": open_, "high": high, "low": low, "close": close}, index=times)
    return frame.round(2)


def write_candles_csv(candles: pd.DataFrame, path: str) -> None:
    """Write `candles` as CSV: time (ISO 8601, UTC), open, high, low, close."""
    out = candles.copy()
    out.index = out.index.strftime("%Y-%m-%dT%H:%M:%SZ")
    out.to_csv(path, index_label="time")


if __name__ == "__main__":
    # Regenerates the bundled replay sample: 12 trading weeks of 15-minute candles.
    import sys

    write_candles_csv(
        synthetic_candles(5760), sys.argv[1] if len(sys.argv) > 1 else "xauusd_15min_synthetic.csv"
    )
