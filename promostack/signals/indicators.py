"""The indicator columns the strategy reads, by TA-Lib's definitions (what charting tools show).

Definitions, each checked against numbers worked by hand from TA-Lib's C source
(tests/unit/test_signals_indicators.py):

* EMA(n): seeded on row n-1 with the simple average of the first n closes, then
  y = y_prev + 2/(n+1) * (x - y_prev). (Seeding with the first close instead, as the `ta`
  package and pandas' `ewm` do, leaves a start-dependent error that EMA200 carries for
  thousands of candles.)
* MACD(fast, slow, signal): both EMAs are seeded on row slow-1 (the fast one with the average
  of the `fast` closes ending there, as TA-Lib does), the signal line is an EMA of the MACD
  line seeded with the average of its first `signal` values; all three start on the signal's
  first row.
* RSI(n) and ATR(n): Wilder's smoothing (alpha = 1/n) seeded on row n with the average of the
  first n changes / true ranges (row 0 has no previous close, so it has neither).
* ADX(n): Wilder sums of TR, +DM and -DM seeded with the sum of the first n-1 values, DX from
  row n, ADX seeded on row 2n-1 with the average of the first n DX values.
* Stochastic(k, s): the slow stochastic. Raw %K = where the close sits in the k-candle range
  (0 when the range is flat); %K = its s-candle simple average; %D = the s-candle average of %K.
  The rules read the smoothed %K, the number a chart labels "Stoch %K (14, 3)".
* Bollinger Bands(n, d): n-candle simple average +/- d population standard deviations.

Recursive smoothing runs through pandas' `ewm` (the loop in C). Warm-up rows are NaN, never 0,
and every column at row t depends on rows up to t only: nothing here looks ahead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from promostack.signals.params import StrategyParams


def _smooth(
    values: np.ndarray, seed_at: int, seed: float, alpha: float, step_weight: float | None = None
) -> np.ndarray:
    """y[seed_at] = seed, then y[t] = y[t-1] * (1 - alpha) + step_weight * values[t] (NaN before).

    `step_weight` defaults to `alpha` (an exponential average); Wilder's running sums use 1.
    """
    out = np.full(len(values), np.nan)
    if seed_at >= len(values):
        return out
    weight = alpha if step_weight is None else step_weight
    series = np.empty(len(values) - seed_at)
    series[0] = seed
    series[1:] = values[seed_at + 1 :] * (weight / alpha)
    out[seed_at:] = pd.Series(series).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return out


def exponential_average(values: np.ndarray, window: int, seed_at: int | None = None) -> np.ndarray:
    """TA-Lib's EMA of `values`: seeded on `seed_at` (default window-1) with the mean of the
    `window` values ending there."""
    seed_at = window - 1 if seed_at is None else seed_at
    if seed_at >= len(values):
        return np.full(len(values), np.nan)
    seed = float(values[seed_at - window + 1 : seed_at + 1].mean())
    return _smooth(values, seed_at, seed, 2.0 / (window + 1))


def macd(close: np.ndarray, fast: int, slow: int, signal: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(MACD line, signal line, histogram) as TA-Lib's MACD, NaN before the signal's first row."""
    line = exponential_average(close, fast, seed_at=slow - 1) - exponential_average(close, slow)
    first = slow - 1 + signal - 1
    signal_line = np.full(len(close), np.nan)
    if first < len(close):
        signal_line[slow - 1 :] = exponential_average(line[slow - 1 :], signal)
    line[:first] = np.nan
    return line, signal_line, line - signal_line


def relative_strength_index(close: np.ndarray, window: int) -> np.ndarray:
    """Wilder's RSI as TA-Lib: average gain and loss seeded with the mean of the first `window` changes."""
    out = np.full(len(close), np.nan)
    if len(close) <= window:
        return out
    change = np.diff(close, prepend=np.nan)
    gain = np.where(change > 0, change, 0.0)
    loss = np.where(change < 0, -change, 0.0)
    alpha = 1.0 / window
    avg_gain = _smooth(gain, window, float(gain[1 : window + 1].mean()), alpha)
    avg_loss = _smooth(loss, window, float(loss[1 : window + 1].mean()), alpha)
    total = avg_gain + avg_loss
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total > 0, 100.0 * avg_gain / total, 0.0)  # TA-Lib writes 0 for a flat stretch
    out[:window] = np.nan
    return out


def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Each candle's true range; NaN on the first candle, which has no previous close."""
    prev_close = np.concatenate(([np.nan], close[:-1]))
    return np.maximum(high, prev_close) - np.minimum(low, prev_close)


def average_true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int) -> np.ndarray:
    """Wilder's ATR as TA-Lib: seeded on row `window` with the mean of the first `window` true ranges."""
    tr = true_range(high, low, close)
    if len(tr) <= window:
        return np.full(len(tr), np.nan)
    return _smooth(tr, window, float(tr[1 : window + 1].mean()), 1.0 / window)


def average_directional_index(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int
) -> np.ndarray:
    """ADX as TA-Lib: Wilder sums of TR and ±DM, DX from row `window`, ADX from row 2*window-1."""
    n = len(close)
    if n < 2 * window:
        return np.full(n, np.nan)
    tr = true_range(high, low, close)
    up = np.concatenate(([np.nan], high[1:] - high[:-1]))
    down = np.concatenate(([np.nan], low[:-1] - low[1:]))
    plus_dm = np.where((up > down) & (up > 0), up, 0.0)
    minus_dm = np.where((down > up) & (down > 0), down, 0.0)
    alpha = 1.0 / window
    # The sums start with rows 1..window-1 (row 0 has no previous candle); row `window` is the first step.
    sums = [_smooth(v, window - 1, float(v[1:window].sum()), alpha, 1.0) for v in (tr, plus_dm, minus_dm)]
    tr_sum, plus_sum, minus_sum = sums
    with np.errstate(invalid="ignore", divide="ignore"):
        total = plus_sum + minus_sum
        dx = np.where((total != 0) & (tr_sum != 0), 100.0 * np.abs(plus_sum - minus_sum) / total, 0.0)
    first = 2 * window - 1
    return _smooth(dx, first, float(dx[window : first + 1].mean()), alpha)


def stochastic(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int, smooth: int
) -> tuple[np.ndarray, np.ndarray]:
    """(%K, %D) of the slow stochastic as TA-Lib's STOCH with simple averages."""
    highest = pd.Series(high).rolling(window).max().to_numpy()
    lowest = pd.Series(low).rolling(window).min().to_numpy()
    span = highest - lowest
    with np.errstate(invalid="ignore", divide="ignore"):
        raw_k = np.where(span > 0, 100.0 * (close - lowest) / span, np.where(span == 0, 0.0, np.nan))
    k = pd.Series(raw_k).rolling(smooth).mean()
    return k.to_numpy(), k.rolling(smooth).mean().to_numpy()


#: Indicator columns already computed for one candle frame, keyed by indicator and its periods.
IndicatorCache = dict[tuple[object, ...], object]


def populate_indicators(
    candles: pd.DataFrame, params: StrategyParams, cache: IndicatorCache | None = None
) -> pd.DataFrame:
    """A copy of `candles` with the strategy's indicator columns added.

    `cache` (one dict per candle frame, never shared across frames) keeps each indicator by its
    own periods, so an optimiser trying hundreds of parameter sets on the same candles computes
    an EMA(34) or the ADX(14) once, not once per set.
    """
    p = params
    memo: IndicatorCache = {} if cache is None else cache
    close, high, low = candles["close"], candles["high"], candles["low"]
    c, h, lo = close.to_numpy(), high.to_numpy(), low.to_numpy()

    def once(key: tuple[object, ...], compute: Callable[[], Any]) -> Any:
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    columns: dict[str, Any] = {
        "ema_fast": once(("ema", p.ema_fast), lambda: exponential_average(c, p.ema_fast)),
        "ema_slow": once(("ema", p.ema_slow), lambda: exponential_average(c, p.ema_slow)),
        "ema_trend": once(("ema", p.ema_trend), lambda: exponential_average(c, p.ema_trend)),
        "rsi": once(("rsi", p.rsi_window), lambda: relative_strength_index(c, p.rsi_window)),
    }
    columns["macd"], columns["macd_signal"], columns["macd_hist"] = once(
        ("macd", p.macd_fast, p.macd_slow, p.macd_signal),
        lambda: macd(c, p.macd_fast, p.macd_slow, p.macd_signal),
    )
    columns["bb_upper"], columns["bb_middle"], columns["bb_lower"] = once(
        ("bb", p.bb_window, p.bb_dev), lambda: bollinger_bands(c, p.bb_window, p.bb_dev)
    )
    columns["stoch_k"], columns["stoch_d"] = once(
        ("stoch", p.stoch_window, p.stoch_smooth),
        lambda: stochastic(h, lo, c, p.stoch_window, p.stoch_smooth),
    )
    columns["atr"] = once(("atr", p.atr_window), lambda: average_true_range(h, lo, c, p.atr_window))
    columns["adx"] = once(("adx", p.adx_window), lambda: average_directional_index(h, lo, c, p.adx_window))
    # One concat, not a column insert per indicator: inserts cost pandas milliseconds each.
    return pd.concat([candles, pd.DataFrame(columns, index=candles.index)], axis=1)


def bollinger_bands(
    close: np.ndarray, window: int, deviations: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(upper, middle, lower) Bollinger Bands: a simple average +/- population deviations."""
    rolling = pd.Series(close).rolling(window)
    middle = rolling.mean().to_numpy()
    spread = deviations * rolling.std(ddof=0).to_numpy()
    return middle + spread, middle, middle - spread
