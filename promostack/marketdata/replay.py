"""Replay of a CSV of candles as if live: the embedded default when no Twelve Data key is set.

The file's candles are moved forward in time by whole weeks, so weekdays, session hours and
weekend gaps keep their place, and the copy that covers the present is chosen from the clock:
a run every 15 minutes sees a new candle each time, just like live data. When the present
passes the end of the file, the replay starts again from the file's first week (the previous
copy stays visible as history, with a price jump at the seam). Every signal it leads to is
recorded with source "replay", and every message says REPLAY.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

from promostack.errors import InvalidInput
from promostack.marketdata.candles import closed_only, interval_seconds, normalise_candles

BUNDLED_SAMPLE = Path(__file__).with_name("xauusd_15min_synthetic.csv")
WEEK = timedelta(days=7)


def read_candles_csv(path: Path) -> pd.DataFrame:
    """Candles from a CSV with columns time (or datetime), open, high, low, close."""
    if not path.is_file():
        raise InvalidInput(f"candle file {path} does not exist")
    try:
        frame = pd.read_csv(path)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InvalidInput(f"candle file {path} is not a readable CSV: {exc}") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if "time" not in frame.columns and "datetime" in frame.columns:
        frame = frame.rename(columns={"datetime": "time"})
    if "time" not in frame.columns:
        raise InvalidInput(f"candle file {path} has no `time` column")
    try:
        candles = normalise_candles(frame)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"candle file {path} has values that are not prices or times: {exc}") from exc
    if candles.empty:
        raise InvalidInput(f"candle file {path} holds no candles")
    return candles


class ReplaySource:
    """Candles of a CSV file replayed against the wall clock; `source` is "replay"."""

    source = "replay"

    def __init__(self, path: Path = BUNDLED_SAMPLE, symbol: str = "XAU/USD", interval: str = "15min") -> None:
        self.path = path
        self.symbol = symbol
        self.interval = interval
        self._candles = read_candles_csv(path)
        first = self._candles.index[0]
        # Align on the Monday 00:00 of the first week so a shift by whole weeks keeps weekdays.
        self._origin = (first - timedelta(days=first.weekday())).normalize()
        span = self._candles.index[-1] - self._origin + timedelta(seconds=interval_seconds(interval))
        self._cycle = WEEK * max(1, -(-span // WEEK))

    def closed_candles(self, symbol: str, interval: str, count: int, now: datetime) -> pd.DataFrame:
        """The newest `count` replayed candles closed at `now`, oldest first."""
        if symbol != self.symbol or interval != self.interval:
            raise InvalidInput(
                f"the replay file holds {self.symbol} {self.interval} candles, not {symbol} {interval}"
            )
        now = now.astimezone(timezone.utc)
        laps = (pd.Timestamp(now) - self._origin) // self._cycle
        copies = []
        for lap in (laps - 1, laps):
            shifted = self._candles.copy()
            shifted.index = shifted.index + self._cycle * int(lap)
            copies.append(shifted)
        candles = pd.concat(copies)
        return closed_only(candles, interval, now).tail(count)
