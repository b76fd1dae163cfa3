"""The strategy: no look-ahead, an explicit warm-up, ATR-based levels, and the backtest built on it."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from promostack.errors import InvalidInput
from promostack.marketdata.synthetic import synthetic_candles
from promostack.signals.backtest import run_backtest
from promostack.signals.params import StrategyParams
from promostack.signals.strategy import BUY, TrendStrategy


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return synthetic_candles(6000, seed=11)


@pytest.fixture(scope="module")
def analysed(history: pd.DataFrame) -> pd.DataFrame:
    return TrendStrategy().analyse(history)


def test_the_sample_history_raises_both_kinds_of_signal(analysed: pd.DataFrame) -> None:
    # Without this, the look-ahead tests below could pass on a strategy that never fires.
    assert analysed["enter_long"].sum() >= 2 and analysed["enter_short"].sum() >= 2


def test_signals_on_a_prefix_equal_the_full_run_up_to_that_point(
    history: pd.DataFrame, analysed: pd.DataFrame
) -> None:
    strategy = TrendStrategy()
    fired = np.flatnonzero(analysed["enter_long"] | analysed["enter_short"])
    for cut in [int(fired[0]) + 1, int(fired[len(fired) // 2]) + 1, len(history) - 700]:
        prefix = strategy.analyse(history.iloc[:cut])
        pd.testing.assert_frame_equal(
            prefix[["enter_long", "enter_short"]], analysed.iloc[:cut][["enter_long", "enter_short"]]
        )
        np.testing.assert_allclose(prefix["atr"].to_numpy(), analysed["atr"].to_numpy()[:cut], equal_nan=True)


@pytest.mark.parametrize("start", [1, 357, 1200])
def test_signals_from_any_later_start_equal_the_full_run_after_the_warm_up(
    history: pd.DataFrame, analysed: pd.DataFrame, start: int
) -> None:
    strategy = TrendStrategy()
    later = strategy.analyse(history.iloc[start:]).iloc[strategy.startup_candle_count :]
    same_rows = analysed.loc[later.index]
    assert (same_rows["enter_long"] | same_rows["enter_short"]).sum() >= 3  # something to compare
    pd.testing.assert_frame_equal(
        later[["enter_long", "enter_short"]], same_rows[["enter_long", "enter_short"]]
    )
    for row in np.flatnonzero(later["enter_long"] | later["enter_short"]):
        at = analysed.index.get_loc(later.index[row])
        assert strategy.candidate_at(later, int(row)) == strategy.candidate_at(analysed, at)


def test_perturbing_future_candles_changes_nothing_before_them(
    history: pd.DataFrame, analysed: pd.DataFrame
) -> None:
    cut = 4000
    shocked = history.copy()
    shocked.iloc[cut:, :] = shocked.iloc[cut:, :] * 1.05  # a 5 % jump from row 2000 on
    again = TrendStrategy().analyse(shocked)
    pd.testing.assert_frame_equal(again.iloc[:cut], analysed.iloc[:cut])


def test_latest_candidate_is_the_signal_of_the_newest_candle(
    history: pd.DataFrame, analysed: pd.DataFrame
) -> None:
    strategy = TrendStrategy()
    row = int(np.flatnonzero(analysed["enter_long"])[0])
    candidate = strategy.latest_candidate(history.iloc[: row + 1])
    assert candidate is not None and candidate.side == BUY
    assert candidate.candle_time == history.index[row].to_pydatetime()
    assert candidate.entry == round(history["close"].iloc[row], 2)
    atr = analysed["atr"].iloc[row]
    assert candidate.take_profit == pytest.approx(candidate.entry + 2.0 * atr, abs=0.011)
    assert candidate.stop_loss == pytest.approx(candidate.entry - 1.5 * atr, abs=0.011)
    assert any("ADX" in reason for reason in candidate.reasons["rules"])


def test_no_signal_inside_the_warm_up(history: pd.DataFrame) -> None:
    strategy = TrendStrategy()
    frame = strategy.analyse(history)
    assert not (frame["enter_long"] | frame["enter_short"]).iloc[: strategy.startup_candle_count].any()
    assert strategy.latest_candidate(history.iloc[: strategy.startup_candle_count]) is None


def test_params_refuse_ema_periods_out_of_order() -> None:
    with pytest.raises(ValueError, match="EMA periods must grow"):
        StrategyParams(ema_fast=50, ema_slow=21)


def test_backtest_keeps_one_signal_open_at_a_time_and_sums_its_trades(history: pd.DataFrame) -> None:
    result = run_backtest(history)
    trades = [t.trade for t in result.trades]
    assert len(trades) >= 3
    for earlier, later in pairwise(trades):
        assert later.opened_at >= earlier.closed_at
    assert result.report is not None and result.report.trades == len(trades)
    assert result.report.total_pips == pytest.approx(sum(t.pips for t in trades), abs=0.05)
    assert result.equity[-1] == pytest.approx(result.report.total_pips, abs=0.05)


def test_backtest_trades_are_exactly_the_live_signals_of_their_candles(history: pd.DataFrame) -> None:
    strategy = TrendStrategy()
    for bt in run_backtest(history, strategy).trades[:3]:
        row = history.index.get_loc(pd.Timestamp(bt.signal.candle_time))
        assert strategy.latest_candidate(history.iloc[: row + 1]) == bt.signal


def test_backtest_refuses_history_shorter_than_the_warm_up() -> None:
    with pytest.raises(InvalidInput, match="warm-up"):
        run_backtest(synthetic_candles(100))


def test_a_forex_backtest_keeps_the_pairs_five_decimals_in_levels_exits_and_reasons(
    history: pd.DataFrame,
) -> None:
    # The gold-like sample rescaled to EUR/USD prices (about 1.08), quoted to 5 decimals.
    eurusd = (history / 1850).round(5)
    strategy = TrendStrategy(StrategyParams(symbol="EUR/USD"))
    trades = run_backtest(eurusd, strategy).trades
    assert len(trades) >= 3
    prices = [p for t in trades for p in (t.signal.take_profit, t.signal.stop_loss, t.exit_price)]
    assert all(p == round(p, 5) for p in prices)
    assert any(p != round(p, 2) for p in prices)  # not cut to gold's 2 decimals
    signal = trades[0].signal
    assert signal.atr == pytest.approx(
        float(strategy.analyse(eurusd)["atr"].loc[signal.candle_time]), abs=1e-6
    )
    assert signal.reasons["indicators"]["ema_trend"] != round(signal.reasons["indicators"]["ema_trend"], 2)
    assert f"({signal.reasons['indicators']['ema_trend']:.5f})" in signal.reasons["rules"][0]
