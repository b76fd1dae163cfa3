"""The strategy's knobs in one place, with defaults for gold (XAU/USD) on 15-minute candles.

Where the defaults come from: the indicator periods are the ones their authors published and
most charting tools ship (Wilder's 14 for RSI, ADX and ATR; Appel's 12/26/9 MACD; Bollinger's
20 periods at 2 deviations; Lane's 14/3 stochastic); EMA 21/50/200 is the common
short/medium/long trio on intraday gold charts; ADX above 20 is Wilder's "trending" line.
The ATR multiples (stop 1.5 ATR, target 2.0 ATR: a 1.33 reward/risk) keep the stop outside
ordinary 15-minute noise on gold, whose ATR(14) is usually 2-5 USD. They are starting points,
not optimised values: run `promostack backtest` on real history before trusting them.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StrategyParams(BaseModel):
    """Every parameter of the trend-following strategy; frozen so one run cannot change it."""

    model_config = ConfigDict(frozen=True)

    symbol: str = "XAU/USD"
    interval: str = "15min"

    ema_fast: int = Field(21, ge=2)
    ema_slow: int = Field(50, ge=3)
    ema_trend: int = Field(200, ge=4)
    adx_window: int = Field(14, ge=2)
    adx_min: float = Field(20.0, ge=0, le=100)
    rsi_window: int = Field(14, ge=2)
    rsi_buy_min: float = Field(50.0, ge=0, le=100)
    rsi_buy_max: float = Field(70.0, ge=0, le=100)
    rsi_sell_min: float = Field(30.0, ge=0, le=100)
    rsi_sell_max: float = Field(50.0, ge=0, le=100)
    macd_fast: int = Field(12, ge=2)
    macd_slow: int = Field(26, ge=3)
    macd_signal: int = Field(9, ge=2)
    bb_window: int = Field(20, ge=2)
    bb_dev: float = Field(2.0, gt=0)
    stoch_window: int = Field(14, ge=2)
    stoch_smooth: int = Field(3, ge=1)
    stoch_buy_max: float = Field(80.0, ge=0, le=100)
    stoch_sell_min: float = Field(20.0, ge=0, le=100)
    atr_window: int = Field(14, ge=2)
    stop_atr: float = Field(1.5, gt=0)
    target_atr: float = Field(2.0, gt=0)
    #: A signal still open after this many later candles is closed at that candle's close.
    expiry_candles: int = Field(32, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> "StrategyParams":
        if not self.ema_fast < self.ema_slow < self.ema_trend:
            raise ValueError("EMA periods must grow: ema_fast < ema_slow < ema_trend")
        if self.macd_fast >= self.macd_slow:
            raise ValueError("macd_fast must be shorter than macd_slow")
        return self

    @property
    def startup_candle_count(self) -> int:
        """Candles needed before the first signal: the longest warm-up of any indicator.

        A recursive average (EMA, Wilder's RSI/ATR/ADX) remembers its seed, and so where the data
        happened to start, with a weight (1 - alpha)^k after k more candles. The warm-up lasts
        until that weight is below `SEED_WEIGHT` for every indicator, so the live pass (a window
        of candles), the backtest (all history) and a chart agree to far below a price tick
        from the first signal on. EMA200 dominates: about 2 270 candles.
        """
        ema, wilder = _ema_warm_up, _wilder_warm_up
        return 1 + max(  # +1: the trigger compares with the previous candle's MACD histogram
            ema(self.ema_trend),
            ema(self.macd_slow) + ema(self.macd_signal),
            wilder(self.rsi_window),
            wilder(self.atr_window),
            self.adx_window + wilder(self.adx_window),  # DX of Wilder sums, then smoothed again
            self.bb_window,
            self.stoch_window + 2 * self.stoch_smooth,
        )


#: A seed weighing less than this no longer shows in any indicator (see `startup_candle_count`).
SEED_WEIGHT = 1e-9


def forget(alpha: float) -> int:
    """Candles after which a seed of an average with smoothing `alpha` weighs below `SEED_WEIGHT`."""
    return math.ceil(math.log(SEED_WEIGHT) / math.log(1.0 - alpha))


def _ema_warm_up(window: int) -> int:
    """The seed row of an EMA plus the candles it takes to forget its seed."""
    return window - 1 + forget(2.0 / (window + 1))


def _wilder_warm_up(window: int) -> int:
    """The seed row of a Wilder average plus the candles it takes to forget its seed."""
    return window + forget(1.0 / window)
