"""Market data: candles from Twelve Data, or replayed from a CSV, behind one interface."""

from promostack.marketdata.candles import (
    CandleSource,
    closed_only,
    interval_seconds,
    normalise_candles,
)
from promostack.marketdata.factory import build_candle_source, replay_csv
from promostack.marketdata.replay import ReplaySource
from promostack.marketdata.sessions import gold_market_open
from promostack.marketdata.twelve_data import (
    TwelveDataClient,
    TwelveDataRejected,
    TwelveDataUnavailable,
)

__all__ = [
    "CandleSource",
    "ReplaySource",
    "TwelveDataClient",
    "TwelveDataRejected",
    "TwelveDataUnavailable",
    "build_candle_source",
    "closed_only",
    "gold_market_open",
    "interval_seconds",
    "normalise_candles",
    "replay_csv",
]
