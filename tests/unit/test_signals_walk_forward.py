"""Walk-forward optimisation: a planted edge is found out of sample, a random walk shows none,
and nothing a window chooses depends on the candles it is judged on."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from promostack.errors import InvalidInput
from promostack.marketdata.synthetic import synthetic_candles
from promostack.signals.params import StrategyParams
from promostack.signals.search_space import SearchSpace
from promostack.signals.walk_forward import (
    WalkForwardConfig,
    WalkForwardReport,
    optimise_window,
    plan_walk_forward,
    stitch,
)

CONFIG = WalkForwardConfig(in_sample_candles=3000, out_of_sample_candles=1000, candidates=20, seed=7)
WARM_UP = StrategyParams().startup_candle_count  # the default bounds leave EMA200 alone
CANDLES = WARM_UP + 3000 + 10 * 1000  # ten windows


def walk_forward(candles: pd.DataFrame) -> WalkForwardReport:
    plan = plan_walk_forward(candles, StrategyParams(), SearchSpace(), CONFIG)
    return stitch(plan, [optimise_window(job) for job in plan.jobs])


@pytest.fixture(scope="module")
def planted() -> WalkForwardReport:
    # Long, strong drifts (0.03 % a candle for 400 candles): trends a trend follower can ride.
    return walk_forward(synthetic_candles(CANDLES, seed=1, trend=0.0003, regime_candles=400))


@pytest.fixture(scope="module")
def random_walk() -> WalkForwardReport:
    return walk_forward(synthetic_candles(CANDLES, seed=1, trend=0.0))


def test_a_planted_trend_edge_is_found_out_of_sample(planted: WalkForwardReport) -> None:
    oos = planted.out_of_sample
    assert oos.edge, oos.verdict
    assert oos.expectancy_r is not None and oos.expectancy_r > 0.2
    assert oos.verdict.startswith("edge:")


def test_a_random_walk_reports_no_edge_however_good_the_in_sample_looked(
    random_walk: WalkForwardReport,
) -> None:
    oos = random_walk.out_of_sample
    assert oos.trades >= 30  # enough trades to judge, so "no edge" is a verdict, not a shrug
    assert not oos.edge and oos.verdict.startswith("no edge:")
    # The in-sample best of 20 always looks good; out of sample the shine is gone.
    assert random_walk.in_sample_expectancy_r is not None and oos.expectancy_r is not None
    assert random_walk.in_sample_expectancy_r > oos.expectancy_r


def test_out_of_sample_parts_tile_the_history_and_stitch_into_one_curve(planted: WalkForwardReport) -> None:
    windows = planted.windows
    assert len(windows) == 10
    for earlier, later in zip(windows, windows[1:], strict=False):
        assert earlier.out_of_sample_end < later.out_of_sample_start
        assert later.in_sample_start > earlier.in_sample_start
    trades = [t for w in windows for t in w.trades]
    for window in windows:
        assert all(window.out_of_sample_start < t.opened_at for t in window.trades)
    assert len(planted.equity) == len(trades) == planted.out_of_sample.trades
    assert planted.equity[-1].pips == pytest.approx(planted.out_of_sample.total_pips, abs=0.1)
    assert [p.time for p in planted.equity] == sorted(p.time for p in planted.equity)


def test_the_report_says_how_stable_each_searched_parameter_was(planted: WalkForwardReport) -> None:
    names = [s.name for s in planted.stability]
    assert names == list(SearchSpace().bounds)
    for item in planted.stability:
        assert len(item.values) == sum(w.params is not None for w in planted.windows)
        assert all(item.low <= v <= item.high for v in item.values)
        assert item.spread >= 0
    assert 1 <= planted.distinct_choices <= len(planted.windows)


def test_a_windows_choice_ignores_the_candles_it_is_judged_on() -> None:
    candles = synthetic_candles(WARM_UP + 3000 + 1000, seed=4, trend=0.0003, regime_candles=400)
    job = plan_walk_forward(candles, StrategyParams(), SearchSpace(), CONFIG).jobs[0]
    shocked = candles.copy()
    shocked.iloc[WARM_UP + 3000 :] *= 1.03  # rewrite the out-of-sample future
    shocked_job = plan_walk_forward(shocked, StrategyParams(), SearchSpace(), CONFIG).jobs[0]
    first, again = optimise_window(job), optimise_window(shocked_job)
    assert first.chosen is not None
    assert (again.chosen, again.in_sample_score) == (first.chosen, first.in_sample_score)


def test_a_history_too_short_for_one_window_says_how_many_candles_it_needs() -> None:
    with pytest.raises(InvalidInput, match=f"at least {WARM_UP + 4000} candles"):
        plan_walk_forward(synthetic_candles(5000), StrategyParams(), SearchSpace(), CONFIG)


def test_the_first_candidate_is_the_live_set_and_the_rest_stay_within_bounds() -> None:
    base = StrategyParams(adx_min=22.0)
    space = SearchSpace(bounds={"adx_min": (18.0, 30.0), "ema_fast": (5, 40)})
    candidates = space.candidates(base, 50, seed=3)
    assert candidates[0] == base and len(candidates) == 50
    assert all(18.0 <= c.adx_min <= 30.0 and c.ema_fast < c.ema_slow for c in candidates)
    assert space.candidates(base, 50, seed=3) == candidates  # a run can be repeated


def test_search_bounds_refuse_a_parameter_the_strategy_does_not_have() -> None:
    with pytest.raises(ValidationError, match="not a numeric strategy parameter"):
        SearchSpace(bounds={"leverage": (1, 10)})
