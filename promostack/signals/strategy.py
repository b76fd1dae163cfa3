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

from promostack.signals.indicators import populate_indicators
from promostack.signals.lifecycle import price_decimals
from promostack.signals.params import StrategyParams

BUY, SELL = "BUY", "SELL"


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

    def populate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        """`candles` with every indicator column added."""
        return populate_indicators(candles, self.params)

    def populate_entry_trend(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` (with indicators) plus boolean `enter_long` and `enter_short` columns."""
        p = self.params
        hist = frame["macd_hist"]
        prev_hist = hist.shift(1)
        warmed_up = pd.Series(np.arange(len(frame)) >= self.startup_candle_count, index=frame.index)
        long_rules = [
            warmed_up,  # Guard: indicators still carry their seed values before this.
            frame["close"] > frame["ema_trend"],  # Guard: only buy with the long-term trend.
            frame["ema_fast"] > frame["ema_slow"],  # Guard: the short-term trend agrees.
            frame["adx"] > p.adx_min,  # Guard: a trend strong enough to follow, not a range.
            (prev_hist <= 0) & (hist > 0),  # Trigger: momentum turns up on this very candle.
            frame["rsi"].between(p.rsi_buy_min, p.rsi_buy_max),  # Guard: momentum up, not overbought.
            frame["close"] < frame["bb_upper"],  # Guard: not chasing a move already stretched.
            frame["stoch_k"] < p.stoch_buy_max,  # Guard: room left before the oscillator tops out.
        ]
        short_rules = [
            warmed_up,
            frame["close"] < frame["ema_trend"],  # Guard: only sell with the long-term trend.
            frame["ema_fast"] < frame["ema_slow"],
            frame["adx"] > p.adx_min,
            (prev_hist >= 0) & (hist < 0),  # Trigger: momentum turns down on this very candle.
            frame["rsi"].between(p.rsi_sell_min, p.rsi_sell_max),  # Guard: momentum down, not oversold.
            frame["close"] > frame["bb_lower"],
            frame["stoch_k"] > p.stoch_sell_min,
        ]
        out = frame.copy()
        out["enter_long"] = np.logical_and.reduce([r.to_numpy(dtype=bool) for r in long_rules])
        out["enter_short"] = np.logical_and.reduce([r.to_numpy(dtype=bool) for r in short_rules])
        return out

    def analyse(self, candles: pd.DataFrame) -> pd.DataFrame:
        """Indicators and entry flags for every candle of `candles`."""
        return self.populate_entry_trend(self.populate_indicators(candles))

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
        direction = 1 if side == BUY else -1
        digits = price_decimals(p.symbol)
        return SignalCandidate(
            symbol=p.symbol,
            interval=p.interval,
            candle_time=frame.index[row].to_pydatetime(),
            side=side,
            entry=round(entry, digits),
            take_profit=round(entry + direction * p.target_atr * atr, digits),
            stop_loss=round(entry - direction * p.stop_atr * atr, digits),
            atr=round(atr, 4),
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
        rules = [
            f"Trend: price {'above' if up else 'below'} EMA{p.ema_trend} ({record['ema_trend']:.2f})",
            f"EMA{p.ema_fast} {'above' if up else 'below'} EMA{p.ema_slow}",
            f"ADX {record['adx']:.1f} > {p.adx_min:g}: trending",
            f"MACD histogram turned {'positive' if up else 'negative'}",
            f"RSI {record['rsi']:.1f}",
            f"Stochastic %K {record['stoch_k']:.1f}",
        ]
        values = {
            k: round(float(record[k]), 4)
            for k in (
                "ema_fast",
                "ema_slow",
                "ema_trend",
                "adx",
                "rsi",
                "macd_hist",
                "bb_upper",
                "bb_lower",
                "stoch_k",
                "atr",
            )
        }
        return {"rules": rules, "indicators": values}
