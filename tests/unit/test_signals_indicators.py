"""Indicators equal TA-Lib's definitions: reference loops written from TA-Lib's C source, plus
first values worked out by hand, on a short fixture series (no TA-Lib install needed)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from promostack.marketdata.synthetic import synthetic_candles
from promostack.signals.indicators import populate_indicators
from promostack.signals.params import StrategyParams

# fmt: off
CLOSES = [2000.0, 2001.5, 2000.8, 2002.9, 2004.1, 2003.0, 2001.2, 2002.6, 2005.3, 2006.0,
          2004.4, 2003.9, 2006.8, 2008.1, 2007.2, 2005.0, 2004.3, 2006.6, 2009.9, 2011.2,
          2010.1, 2008.7, 2007.9, 2009.4, 2012.0, 2013.6, 2012.2, 2010.8, 2011.5, 2014.3]
# fmt: on
HIGHS = [c + 0.9 + (i % 3) * 0.3 for i, c in enumerate(CLOSES)]
LOWS = [c - 1.1 - (i % 4) * 0.2 for i, c in enumerate(CLOSES)]
OPENS = [CLOSES[0]] + CLOSES[:-1]
N = 5
PARAMS = StrategyParams(
    ema_fast=N, ema_slow=8, ema_trend=12, rsi_window=N, atr_window=N, adx_window=N,
    macd_fast=3, macd_slow=6, macd_signal=4, stoch_window=N, stoch_smooth=3, bb_window=N,
)  # fmt: skip


@pytest.fixture(scope="module")
def computed() -> pd.DataFrame:
    candles = pd.DataFrame(
        {"open": OPENS, "high": HIGHS, "low": LOWS, "close": CLOSES},
        index=pd.date_range("2026-01-05", periods=len(CLOSES), freq="15min", tz="UTC", name="time"),
    )
    return populate_indicators(candles, PARAMS)


# Reference loops, each a transcription of the TA-Lib function named in its docstring.


def ta_lib_ema(values: list[float], n: int, start: int = 0) -> list[float | None]:
    """TA_EMA (default compatibility): the mean of the first n values, then prev + k*(x - prev)."""
    k = 2 / (n + 1)
    out: list[float | None] = [None] * len(values)
    prev = sum(values[start : start + n]) / n
    out[start + n - 1] = prev
    for i in range(start + n, len(values)):
        prev = (values[i] - prev) * k + prev
        out[i] = prev
    return out


def ta_lib_macd(values: list[float], fast: int, slow: int, signal: int) -> list[float | None]:
    """TA_MACD's histogram: both EMAs start on row slow-1 (the fast one from its last `fast` closes)."""
    slow_ema = ta_lib_ema(values, slow)
    fast_ema = ta_lib_ema(values, fast, start=slow - fast)
    line = [f - s for f, s in zip(fast_ema[slow - 1 :], slow_ema[slow - 1 :], strict=True)]  # type: ignore[operator]
    signal_line = ta_lib_ema(line, signal)
    hist: list[float | None] = [None] * (slow - 1)
    hist += [None if s is None else m - s for m, s in zip(line, signal_line, strict=True)]
    return hist


def ta_lib_rsi(values: list[float], n: int) -> list[float | None]:
    """TA_RSI: average gain/loss of the first n changes, then Wilder's (prev*(n-1) + x)/n."""
    out: list[float | None] = [None] * len(values)
    gain = loss = 0.0
    for i in range(1, n + 1):
        change = values[i] - values[i - 1]
        gain, loss = gain + max(change, 0), loss + max(-change, 0)
    gain, loss = gain / n, loss / n
    out[n] = 100 * gain / (gain + loss)
    for i in range(n + 1, len(values)):
        change = values[i] - values[i - 1]
        gain = (gain * (n - 1) + max(change, 0)) / n
        loss = (loss * (n - 1) + max(-change, 0)) / n
        out[i] = 100 * gain / (gain + loss)
    return out


def true_ranges() -> list[float]:
    return [
        max(HIGHS[i], CLOSES[i - 1]) - min(LOWS[i], CLOSES[i - 1]) if i else math.nan
        for i in range(len(CLOSES))
    ]


def ta_lib_atr(n: int) -> list[float | None]:
    """TA_ATR: the mean of TRANGE's first n values (rows 1..n), then Wilder's smoothing."""
    tr = true_ranges()
    out: list[float | None] = [None] * len(CLOSES)
    atr = sum(tr[1 : n + 1]) / n
    out[n] = atr
    for i in range(n + 1, len(CLOSES)):
        atr = (atr * (n - 1) + tr[i]) / n
        out[i] = atr
    return out


def ta_lib_adx(n: int) -> list[float | None]:
    """TA_ADX: sums of the first n-1 TR/±DM, Wilder steps from row n, ADX = mean of n DX, then Wilder."""
    tr = true_ranges()
    plus, minus = [0.0], [0.0]
    for i in range(1, len(CLOSES)):
        up, down = HIGHS[i] - HIGHS[i - 1], LOWS[i - 1] - LOWS[i]
        plus.append(up if up > down and up > 0 else 0.0)
        minus.append(down if down > up and down > 0 else 0.0)
    s_tr, s_plus, s_minus = sum(tr[1:n]), sum(plus[1:n]), sum(minus[1:n])
    dx: list[float] = []
    out: list[float | None] = [None] * len(CLOSES)
    adx = 0.0
    for i in range(n, len(CLOSES)):
        s_tr = s_tr - s_tr / n + tr[i]
        s_plus = s_plus - s_plus / n + plus[i]
        s_minus = s_minus - s_minus / n + minus[i]
        plus_di, minus_di = 100 * s_plus / s_tr, 100 * s_minus / s_tr
        dx.append(100 * abs(minus_di - plus_di) / (minus_di + plus_di))
        if len(dx) == n:
            adx = sum(dx) / n
            out[i] = adx
        elif len(dx) > n:
            adx = (adx * (n - 1) + dx[-1]) / n
            out[i] = adx
    return out


def ta_lib_slow_k(n: int, smooth: int) -> list[float | None]:
    """TA_STOCH's slow %K with SMA smoothing: the mean of the last `smooth` fast %K values."""
    fast = [
        100
        * (CLOSES[i] - min(LOWS[i - n + 1 : i + 1]))
        / (max(HIGHS[i - n + 1 : i + 1]) - min(LOWS[i - n + 1 : i + 1]))
        if i >= n - 1
        else None
        for i in range(len(CLOSES))
    ]
    return [
        sum(fast[i - smooth + 1 : i + 1]) / smooth if i >= n - 1 + smooth - 1 else None  # type: ignore[arg-type]
        for i in range(len(CLOSES))
    ]


def assert_matches(series: pd.Series, expected: list[float | None]) -> None:
    for row, (got, want) in enumerate(zip(series.tolist(), expected, strict=True)):
        if want is None:
            assert math.isnan(got), f"row {row} should still be warming up"
        else:
            assert got == pytest.approx(want, abs=1e-6), f"row {row}"


def test_ema_is_seeded_with_the_simple_average_of_its_first_closes(computed: pd.DataFrame) -> None:
    # By hand: (2000 + 2001.5 + 2000.8 + 2002.9 + 2004.1) / 5 = 2001.86, then + (2003.0 - 2001.86) / 3.
    assert computed["ema_fast"].iloc[4] == pytest.approx(2001.86, abs=1e-9)
    assert computed["ema_fast"].iloc[5] == pytest.approx(2002.24, abs=1e-9)
    assert_matches(computed["ema_fast"], ta_lib_ema(CLOSES, N))
    assert_matches(computed["ema_trend"], ta_lib_ema(CLOSES, 12))


def test_macd_histogram_equals_ta_lib_macd(computed: pd.DataFrame) -> None:
    assert_matches(computed["macd_hist"], ta_lib_macd(CLOSES, 3, 6, 4))


def test_rsi_is_seeded_with_the_average_gain_and_loss_of_its_first_changes(computed: pd.DataFrame) -> None:
    # By hand: changes +1.5 -0.7 +2.1 +1.2 -1.1: gains 4.8 / 5, losses 1.8 / 5 -> 100 * 0.96 / 1.32.
    assert computed["rsi"].iloc[5] == pytest.approx(100 * 0.96 / 1.32, abs=1e-9)
    assert_matches(computed["rsi"], ta_lib_rsi(CLOSES, N))


def test_atr_equals_ta_lib_atr(computed: pd.DataFrame) -> None:
    assert_matches(computed["atr"], ta_lib_atr(N))


def test_adx_equals_ta_lib_adx(computed: pd.DataFrame) -> None:
    assert_matches(computed["adx"], ta_lib_adx(N))


def test_the_rules_stochastic_k_is_the_smoothed_one(computed: pd.DataFrame) -> None:
    assert_matches(computed["stoch_k"], ta_lib_slow_k(N, 3))


def test_bollinger_bands_use_the_population_deviation(computed: pd.DataFrame) -> None:
    window = CLOSES[-N:]
    mean = sum(window) / N
    deviation = math.sqrt(sum((c - mean) ** 2 for c in window) / N)
    assert computed["bb_upper"].iloc[-1] == pytest.approx(mean + 2 * deviation, abs=1e-9)
    assert computed["bb_lower"].iloc[-1] == pytest.approx(mean - 2 * deviation, abs=1e-9)


def test_after_the_warm_up_indicators_no_longer_depend_on_where_the_data_started() -> None:
    params = StrategyParams()
    history = synthetic_candles(params.startup_candle_count + 600, seed=5)
    full = populate_indicators(history, params)
    later = populate_indicators(history.iloc[400:], params)
    columns = ["ema_trend", "ema_slow", "macd_hist", "rsi", "atr", "adx", "stoch_k", "bb_upper"]
    warm = params.startup_candle_count
    np.testing.assert_allclose(
        later[columns].iloc[warm:].to_numpy(), full[columns].iloc[400 + warm :].to_numpy(), rtol=0, atol=1e-6
    )
