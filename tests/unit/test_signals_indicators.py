"""Indicators: EMA, RSI and ATR equal values computed by hand; ADX and ATR equal `ta`'s."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from ta.trend import ADXIndicator
from ta.volatility import AverageTrueRange

from promostack.marketdata.synthetic import synthetic_candles
from promostack.signals.indicators import average_directional_index, average_true_range, populate_indicators
from promostack.signals.params import StrategyParams

CLOSES = [
    2000.0,
    2001.5,
    2000.8,
    2002.9,
    2004.1,
    2003.0,
    2001.2,
    2002.6,
    2005.3,
    2006.0,
    2004.4,
    2003.9,
    2006.8,
    2008.1,
    2007.2,
    2005.0,
    2004.3,
    2006.6,
    2009.9,
    2011.2,
]
HIGHS = [c + 0.9 + (i % 3) * 0.3 for i, c in enumerate(CLOSES)]
LOWS = [c - 1.1 - (i % 4) * 0.2 for i, c in enumerate(CLOSES)]
OPENS = [CLOSES[0]] + CLOSES[:-1]
WINDOW = 5


@pytest.fixture
def computed() -> pd.DataFrame:
    candles = pd.DataFrame(
        {"open": OPENS, "high": HIGHS, "low": LOWS, "close": CLOSES},
        index=pd.date_range("2026-01-05", periods=len(CLOSES), freq="15min", tz="UTC", name="time"),
    )
    params = StrategyParams(
        ema_fast=WINDOW, ema_slow=8, ema_trend=12, rsi_window=WINDOW, atr_window=WINDOW, adx_window=WINDOW
    )
    return populate_indicators(candles, params)


def hand_ema(values: list[float], n: int) -> list[float | None]:
    alpha = 2 / (n + 1)
    out: list[float | None] = []
    ema = values[0]
    for i, v in enumerate(values):
        ema = v if i == 0 else alpha * v + (1 - alpha) * ema
        out.append(ema if i >= n - 1 else None)
    return out


def hand_rsi(values: list[float], n: int) -> list[float | None]:
    # Wilder's smoothing in its exponential form (alpha = 1/n), the first move counted as 0.
    up_avg = down_avg = 0.0
    out: list[float | None] = []
    for i in range(len(values)):
        change = values[i] - values[i - 1] if i else 0.0
        up_avg = up_avg * (1 - 1 / n) + max(change, 0.0) / n if i else 0.0
        down_avg = down_avg * (1 - 1 / n) + max(-change, 0.0) / n if i else 0.0
        if i < n - 1:
            out.append(None)
        elif down_avg == 0:
            out.append(100.0)
        else:
            out.append(100 - 100 / (1 + up_avg / down_avg))
    return out


def hand_atr(highs: list[float], lows: list[float], closes: list[float], n: int) -> list[float | None]:
    ranges = []
    for i in range(len(closes)):
        if i == 0:
            ranges.append(highs[0] - lows[0])
        else:
            ranges.append(
                max(highs[i] - lows[i], abs(highs[i] - closes[i - 1]), abs(lows[i] - closes[i - 1]))
            )
    out: list[float | None] = [None] * (n - 1)
    atr = sum(ranges[:n]) / n
    out.append(atr)
    for i in range(n, len(closes)):
        atr = (atr * (n - 1) + ranges[i]) / n
        out.append(atr)
    return out


def assert_matches(series: pd.Series, expected: list[float | None]) -> None:
    for got, want in zip(series.tolist(), expected, strict=True):
        if want is None:
            assert math.isnan(got)
        else:
            assert got == pytest.approx(want, abs=1e-9)


def test_ema_equals_the_hand_computed_exponential_average(computed: pd.DataFrame) -> None:
    assert_matches(computed["ema_fast"], hand_ema(CLOSES, WINDOW))


def test_rsi_equals_the_hand_computed_wilder_rsi(computed: pd.DataFrame) -> None:
    assert_matches(computed["rsi"], hand_rsi(CLOSES, WINDOW))


def test_atr_equals_the_hand_computed_wilder_atr(computed: pd.DataFrame) -> None:
    assert_matches(computed["atr"], hand_atr(HIGHS, LOWS, CLOSES, WINDOW))


def test_fast_atr_and_adx_give_the_numbers_of_the_ta_package() -> None:
    candles = synthetic_candles(1500, seed=5)
    high, low, close = (candles[c].to_numpy() for c in ("high", "low", "close"))
    ours_atr = average_true_range(high, low, close, 14)
    ta_atr = AverageTrueRange(candles["high"], candles["low"], candles["close"], 14).average_true_range()
    np.testing.assert_allclose(ours_atr[13:], ta_atr.to_numpy()[13:], rtol=0, atol=1e-9)
    ours_adx = average_directional_index(high, low, close, 14)
    ta_adx = ADXIndicator(candles["high"], candles["low"], candles["close"], 14).adx()
    np.testing.assert_allclose(ours_adx[27:], ta_adx.to_numpy()[27:], rtol=0, atol=1e-9)
    # ta writes 0 in the warm-up; we leave it empty so no rule can read a fake value.
    assert np.isnan(ours_adx[:27]).all() and np.isnan(ours_atr[:13]).all()
