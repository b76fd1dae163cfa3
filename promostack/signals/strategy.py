"""The trend-following strategy: indicators in, BUY/SELL flags out, one rule per line.

Shaped like a freqtrade strategy: declared parameters (`StrategyParams`), an explicit warm-up
(`startup_candle_count`), and pure dataframe methods. The same object runs live (on the newest
closed candle) and in the backtest (on every candle), so what the backtest measures is what
the channel gets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from promostack.signals.indicators import IndicatorCache, populate_indicators
from promostack.signals.lifecycle import price_decimals
from promostack.signals.params import StrategyParams

BUY, SELL = "BUY", "SELL"
_RULE_COLUMNS = (
    "close",
    "ema_fast",
    "ema_slow",
    "ema_trend",
    "adx",
    "macd_hist",
    "rsi",
    "bb_upper",
    "bb_lower",
    "stoch_k",
)


@dataclass(frozen=True)
class SignalCandidate:
    """A signal the strategy raised on one closed candle, with its levels and reasons."""

    symbol: str
    interval: str
    candle_time: datetime
    side: str
    entry: float
    take_profit: float
    stop_loss: float
    atr: float
    reasons: dict[str, Any] = field(default_factory=dict)

    @property
    def risk(self) -> float:
        """Distance from entry to stop, in price units (the "1R" of the R-multiple)."""
        return abs(self.entry - self.stop_loss)


class TrendStrategy:
    """EMA trend + ADX strength + MACD trigger, filtered by RSI, Bollinger Bands and stochastic."""

    def __init__(self, params: StrategyParams | None = None) -> None:
        self.params = params or StrategyParams()
        self.startup_candle_count = self.params.startup_candle_count

    def populate_indicators(self, candles: pd.DataFrame, cache: IndicatorCache | None = None) -> pd.DataFrame:
        """`candles` with every indicator column added (`cache`: see `populate_indicators`)."""
        return populate_indicators(candles, self.params, cache)

    def populate_entry_trend(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` (with indicators) plus boolean `enter_long` and `enter_short` columns."""
        p = self.params
        col = {name: frame[name].to_numpy() for name in _RULE_COLUMNS}
        close, hist = col["close"], col["macd_hist"]
        prev_hist = np.concatenate(([np.nan], hist[:-1]))
        warmed_up = np.arange(len(frame)) >= self.startup_candle_count
        # NaN (warm-up) compares False, so no rule passes on an indicator without a value.
        long_rules = [
            warmed_up,  # Guard: indicators still carry their seed values before this.
            close > col["ema_trend"],  # Guard: only buy with the long-term trend.
            col["ema_fast"] > col["ema_slow"],  # Guard: the short-term trend agrees.
            col["adx"] > p.adx_min,  # Guard: a trend strong enough to follow, not a range.
            (prev_hist <= 0) & (hist > 0),  # Trigger: momentum turns up on this very candle.
            (col["rsi"] >= p.rsi_buy_min) & (col["rsi"] <= p.rsi_buy_max),  # Guard: up, not overbought.
            close < col["bb_upper"],  # Guard: not chasing a move already stretched.
            col["stoch_k"] < p.stoch_buy_max,  # Guard: room left before the (slow) %K tops out.
        ]
        short_rules = [
            warmed_up,
            close < col["ema_trend"],  # Guard: only sell with the long-term trend.
            col["ema_fast"] < col["ema_slow"],
            col["adx"] > p.adx_min,
            (prev_hist >= 0) & (hist < 0),  # Trigger: momentum turns down on this very candle.
            (col["rsi"] >= p.rsi_sell_min) & (col["rsi"] <= p.rsi_sell_max),  # Guard: down, not oversold.
            close > col["bb_lower"],
            col["stoch_k"] > p.stoch_sell_min,
        ]
        flags = pd.DataFrame(
            {
                "enter_long": np.logical_and.reduce(long_rules),
                "enter_short": np.logical_and.reduce(short_rules),
            },
            index=frame.index,
        )
        return pd.concat([frame, flags], axis=1)

    def analyse(self, candles: pd.DataFrame, cache: IndicatorCache | None = None) -> pd.DataFrame:
        """Indicators and entry flags for every candle of `candles`."""
        return self.populate_entry_trend(self.populate_indicators(candles, cache))

    def candidate_at(self, frame: pd.DataFrame, row: int) -> SignalCandidate | None:
        """The signal raised on row `row` of an analysed frame, or None."""
        record = frame.iloc[row]
        if record["enter_long"]:
            side = BUY
        elif record["enter_short"]:
            side = SELL
        else:
            return None
        p = self.params
        entry, atr = float(record["close"]), float(record["atr"])
        take_profit, stop_loss = levels(p, side, entry, atr)
        digits = price_decimals(p.symbol)
        return SignalCandidate(
            symbol=p.symbol,
            interval=p.interval,
            candle_time=frame.index[row].to_pydatetime(),
            side=side,
            entry=round(entry, digits),
            take_profit=take_profit,
            stop_loss=stop_loss,
            atr=round(atr, digits + 1),
            reasons=self._reasons(record, side),
        )

    def latest_candidate(self, candles: pd.DataFrame) -> SignalCandidate | None:
        """The signal raised on the newest candle of `candles` (all closed), or None."""
        if len(candles) <= self.startup_candle_count:
            return None
        return self.candidate_at(self.analyse(candles), len(candles) - 1)

    def _reasons(self, record: pd.Series, side: str) -> dict[str, Any]:
        """Why the signal fired, as short sentences and the indicator values behind them."""
        p = self.params
        up = side == BUY
        digits = price_decimals(p.symbol)
        rules = [
            f"Trend: price {'above' if up else 'below'} EMA{p.ema_trend} ({record['ema_trend']:.{digits}f})",
            f"EMA{p.ema_fast} {'above' if up else 'below'} EMA{p.ema_slow}",
            f"ADX {record['adx']:.1f} > {p.adx_min:g}: trending",
            f"MACD histogram turned {'positive' if up else 'negative'}",
            f"RSI {record['rsi']:.1f}",
            f"Stochastic %K ({p.stoch_window}, {p.stoch_smooth}) {record['stoch_k']:.1f}",
        ]
        # Prices keep the symbol's decimals (+1 for ATR and MACD, which are differences of prices).
        places = {"ema_fast": digits, "ema_slow": digits, "ema_trend": digits, "bb_upper": digits,
                  "bb_lower": digits, "atr": digits + 1, "macd_hist": digits + 1,
                  "adx": 2, "rsi": 2, "stoch_k": 2}  # fmt: skip
        values = {k: round(float(record[k]), n) for k, n in places.items()}
        return {"rules": rules, "indicators": values}


def levels(params: StrategyParams, side: str, entry: float, atr: float) -> tuple[float, float]:
    """(take profit, stop loss) of a signal entered at `entry`, in the symbol's decimals."""
    direction = 1 if side == BUY else -1
    digits = price_decimals(params.symbol)
    return (
        round(entry + direction * params.target_atr * atr, digits),
        round(entry - direction * params.stop_atr * atr, digits),
    )
