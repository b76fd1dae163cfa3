"""Signal lifecycle: target, stop, both in one candle (stop first), expiry, gaps, pips and R."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from promostack.signals.lifecycle import EXPIRED, STOP_LOSS, TAKE_PROFIT, pip_size, resolve

SIGNAL_TIME = datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc)
STEP = timedelta(minutes=15)


def candles(
    rows: list[tuple[float, float, float, float]],
    start: datetime = SIGNAL_TIME + STEP,
    times: list[datetime] | None = None,
) -> pd.DataFrame:
    index = times or [start + i * STEP for i in range(len(rows))]
    return pd.DataFrame(
        rows, columns=["open", "high", "low", "close"], index=pd.DatetimeIndex(index, name="time")
    )


def buy(frame: pd.DataFrame, expiry: int = 10, entry: float = 2000.0, tp: float = 2004.0, sl: float = 1997.0):
    return resolve("XAU/USD", "15min", "BUY", SIGNAL_TIME, entry, tp, sl, frame, expiry)


def test_buy_reaching_its_target_wins_with_pips_and_r() -> None:
    outcome = buy(candles([(2000, 2002, 1999, 2001), (2001, 2004.5, 2000.5, 2004)]))
    assert outcome is not None
    assert (outcome.status, outcome.exit_price, outcome.pips) == (TAKE_PROFIT, 2004.0, 40.0)
    assert outcome.r_multiple == pytest.approx(4 / 3, abs=1e-3)
    assert outcome.closed_at == SIGNAL_TIME + 3 * STEP  # the close of the second later candle
    assert outcome.candles_held == 2


def test_buy_reaching_its_stop_loses_one_r() -> None:
    outcome = buy(candles([(2000, 2001, 1996.5, 1998)]))
    assert outcome is not None
    assert (outcome.status, outcome.exit_price, outcome.pips, outcome.r_multiple) == (
        STOP_LOSS,
        1997.0,
        -30.0,
        -1.0,
    )


def test_candle_touching_both_levels_counts_as_the_stop() -> None:
    outcome = buy(candles([(2000, 2005, 1996, 2003)]))
    assert outcome is not None and outcome.status == STOP_LOSS and outcome.pips == -30.0


def test_sell_mirrors_the_levels() -> None:
    frame = candles([(2000, 2001, 1995.5, 1996)])
    outcome = resolve("XAU/USD", "15min", "SELL", SIGNAL_TIME, 2000.0, 1996.0, 2003.0, frame, 10)
    assert outcome is not None and outcome.status == TAKE_PROFIT and outcome.pips == 40.0


def test_signal_still_inside_its_window_stays_open() -> None:
    assert buy(candles([(2000, 2001, 1999, 2000.5)] * 3), expiry=4) is None


def test_signal_expires_at_the_close_of_its_last_candle() -> None:
    outcome = buy(candles([(2000, 2001, 1999, 2000.5)] * 3 + [(2000.5, 2002, 2000, 2001.2)]), expiry=4)
    assert outcome is not None
    assert (outcome.status, outcome.exit_price, outcome.pips) == (EXPIRED, 2001.2, 12.0)
    assert outcome.closed_at == SIGNAL_TIME + 5 * STEP


def test_the_signal_candle_itself_never_decides() -> None:
    frame = candles([(2000, 2010, 1990, 2000), (2000, 2001, 1999, 2000)], start=SIGNAL_TIME)
    assert buy(frame) is None


def test_weekend_gap_through_the_stop_exits_at_the_monday_open_and_does_not_count_as_candles() -> None:
    friday = datetime(2026, 3, 6, 20, 45, tzinfo=timezone.utc)
    sunday = datetime(2026, 3, 8, 22, 0, tzinfo=timezone.utc)
    frame = candles([(1995.0, 1996.0, 1994.0, 1995.5)], times=[sunday])
    outcome = resolve("XAU/USD", "15min", "BUY", friday, 2000.0, 2004.0, 1997.0, frame, 1)
    assert outcome is not None
    # The gap makes it worse than the stop: the open is the first price anyone could get.
    assert (outcome.status, outcome.exit_price, outcome.pips) == (STOP_LOSS, 1995.0, -50.0)
    assert outcome.r_multiple == pytest.approx(-5 / 3, abs=1e-3)
    assert outcome.closed_at == sunday + STEP


def test_pip_convention_gold_tenth_of_a_dollar_and_forex_pairs() -> None:
    assert (pip_size("XAU/USD"), pip_size("USD/JPY"), pip_size("EUR/USD")) == (0.1, 0.01, 0.0001)


def test_gap_through_the_target_wins_at_the_open_even_when_the_candle_then_falls_through_the_stop() -> None:
    outcome = buy(candles([(2006.0, 2007.0, 1995.0, 1996.0)]))
    assert outcome is not None
    assert (outcome.status, outcome.exit_price, outcome.pips) == (TAKE_PROFIT, 2006.0, 60.0)


def test_sell_gapping_through_its_target_wins_at_the_open() -> None:
    frame = candles([(1994.0, 2005.0, 1993.0, 2004.0)])
    outcome = resolve("XAU/USD", "15min", "SELL", SIGNAL_TIME, 2000.0, 1996.0, 2003.0, frame, 10)
    assert outcome is not None
    assert (outcome.status, outcome.exit_price, outcome.pips) == (TAKE_PROFIT, 1994.0, 60.0)


def test_gap_through_the_stop_loses_at_the_open_even_when_the_candle_then_reaches_the_target() -> None:
    outcome = buy(candles([(1995.0, 2005.0, 1994.0, 2004.5)]))
    assert outcome is not None
    assert (outcome.status, outcome.exit_price, outcome.pips) == (STOP_LOSS, 1995.0, -50.0)


def test_forex_exit_prices_keep_five_decimals() -> None:
    frame = candles([(1.08500, 1.08910, 1.08490, 1.08900)])
    outcome = resolve("EUR/USD", "15min", "BUY", SIGNAL_TIME, 1.08500, 1.08875, 1.08219, frame, 10)
    assert outcome is not None
    assert (outcome.status, outcome.exit_price, outcome.pips) == (TAKE_PROFIT, 1.08875, 37.5)
