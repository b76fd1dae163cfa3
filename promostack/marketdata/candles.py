"""Candles as a pandas frame: a UTC `DatetimeIndex` of bar open times and float OHLC columns.

Every source returns this one shape, so the strategy never knows where candles came from.
A candle's timestamp is the moment it opened; it is closed once `time + interval <= now`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

import pandas as pd

from promostack.errors import InvalidInput

OHLC = ["open", "high", "low", "close"]

INTERVAL_SECONDS = {
    "1min": 60,
    "5min": 300,
    "15min": 900,
    "30min": 1800,
    "45min": 2700,
    "1h": 3600,
    "2h": 7200,
    "4h": 14400,
    "1day": 86400,
}


class CandleSource(Protocol):
    """Anything that can hand out the latest closed candles of a symbol."""

    #: "live" or "replay": recorded on each signal and shown in every message it leads to.
    source: str

    def closed_candles(self, symbol: str, interval: str, count: int, now: datetime) -> pd.DataFrame:
        """The newest `count` candles that had closed at `now`, oldest first."""
        ...


def interval_seconds(interval: str) -> int:
    """The length of one candle of `interval` in seconds; unknown intervals are refused."""
    try:
        return INTERVAL_SECONDS[interval]
    except KeyError:
        known = ", ".join(INTERVAL_SECONDS)
        raise InvalidInput(f"unknown candle interval {interval!r}; use one of {known}") from None


def normalise_candles(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` as candles: UTC index named `time`, float OHLC, sorted, one row per time."""
    if "time" in frame.columns:
        frame = frame.set_index("time")
    missing = [c for c in OHLC if c not in frame.columns]
    if missing:
        raise InvalidInput(f"candles lack the column(s) {', '.join(missing)}")
    out = frame[OHLC].astype("float64")
    index = pd.DatetimeIndex(pd.to_datetime(out.index, utc=True), name="time")
    out.index = index
    out = out[~out.index.duplicated(keep="last")].sort_index()
    # A row without prices cannot be traded on; it is dropped, never filled in.
    return out.dropna()


def closed_only(candles: pd.DataFrame, interval: str, now: datetime) -> pd.DataFrame:
    """The candles of `candles` that had closed at `now` (the forming one is dropped)."""
    cutoff = pd.Timestamp(now) - timedelta(seconds=interval_seconds(interval))
    if cutoff.tzinfo is None:
        raise InvalidInput("`now` must be timezone-aware")
    return candles[candles.index <= cutoff]
