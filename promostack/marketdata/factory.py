"""The candle source the settings ask for: Twelve Data with a key, else the CSV replay."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from promostack.config import Settings
from promostack.marketdata.candles import CandleSource
from promostack.marketdata.rate_limit import SlidingWindowLimiter
from promostack.marketdata.replay import BUNDLED_SAMPLE, ReplaySource
from promostack.marketdata.twelve_data import TwelveDataClient

FREE_PLAN_REQUESTS_PER_MINUTE = 8


@lru_cache(maxsize=8)
def shared_limiter(api_key: str) -> SlidingWindowLimiter:
    """One limiter per key for the whole process: the plan's limit is per key, not per client."""
    return SlidingWindowLimiter(per_window=FREE_PLAN_REQUESTS_PER_MINUTE, window_s=60.0)


def replay_csv(settings: Settings) -> Path:
    """The CSV of candles the replay (and the optimiser's default history) reads."""
    return settings.market_replay_csv or BUNDLED_SAMPLE


def build_candle_source(settings: Settings, symbol: str = "XAU/USD", interval: str = "15min") -> CandleSource:
    """Twelve Data when `TWELVE_DATA_API_KEY` is set, otherwise a replay of the CSV."""
    if settings.twelve_data_api_key is not None:
        key = settings.twelve_data_api_key.get_secret_value()
        return TwelveDataClient(key, settings.twelve_data_api_base, limiter=shared_limiter(key))
    return ReplaySource(replay_csv(settings), symbol=symbol, interval=interval)
