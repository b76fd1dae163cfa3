"""Benchmark: the signal pass and the backtest, each beside a baseline measured in the same run.

* `signal_pass_ms`: one full live pass on 5 000 candles (indicators, rules, the newest
  candle's signal) — target <= 50 ms. Baseline `ta_indicators_5k_ms`: the same eight
  indicators computed straight with the `ta` package and nothing else.
* `backtest_100k_s`: the whole backtest (indicators, rules, lifecycle, report) on 100 000
  candles — target <= 5 s. Baseline `ta_indicators_100k_s`: the eight `ta` indicators alone.

* `walk_forward_s`: a walk-forward optimisation of 2 years of 15-minute candles (about 49 000),
  200 parameter sets per window, windows of 6 000 in-sample + 1 500 out-of-sample candles,
  optimised in 2 processes — target <= 120 s on 2 cores. Baseline `walk_forward_1proc_s`: the
  same windows one after another in this process (so the figure also shows what the processes
  bring), and `backtests_naive_s`, the time the same 200 x windows full-strategy backtests take
  without the indicator cache, estimated from one window's worth measured here.

Candles are synthetic (see `promostack.marketdata.synthetic`). Medians of several rounds
(walk-forward: one round each, it is long). Run: `.venv/bin/python bench/signals.py`.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
from ta.momentum import RSIIndicator, StochasticOscillator  # noqa: E402
from ta.trend import MACD, ADXIndicator, EMAIndicator  # noqa: E402
from ta.volatility import AverageTrueRange, BollingerBands  # noqa: E402

from promostack.marketdata.synthetic import synthetic_candles  # noqa: E402
from promostack.signals.backtest import run_backtest  # noqa: E402
from promostack.signals.params import StrategyParams  # noqa: E402
from promostack.signals.search_space import SearchSpace  # noqa: E402
from promostack.signals.strategy import TrendStrategy  # noqa: E402
from promostack.signals.walk_forward import (  # noqa: E402
    WalkForwardConfig,
    optimise_window,
    plan_walk_forward,
    stitch,
)

#: Two years of gold's 15-minute candles: about 23 trading hours x 5 days x 52 weeks x 2.
TWO_YEARS_15MIN = 4 * 23 * 5 * 52 * 2


def ta_indicators(candles: pd.DataFrame, p: StrategyParams) -> None:
    """The baseline: every indicator the strategy reads, computed directly with `ta`."""
    close, high, low = candles["close"], candles["high"], candles["low"]
    for window in (p.ema_fast, p.ema_slow, p.ema_trend):
        EMAIndicator(close, window).ema_indicator()
    RSIIndicator(close, p.rsi_window).rsi()
    MACD(close, p.macd_slow, p.macd_fast, p.macd_signal).macd_diff()
    BollingerBands(close, p.bb_window, p.bb_dev).bollinger_hband()
    StochasticOscillator(high, low, close, p.stoch_window, p.stoch_smooth).stoch()
    AverageTrueRange(high, low, close, p.atr_window).average_true_range()
    ADXIndicator(high, low, close, p.adx_window).adx()


def median_s(fn: Callable[[], object], rounds: int) -> float:
    """The median wall time of `fn` over `rounds` runs, after one warm-up run."""
    fn()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    """Print the figures."""
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"python={platform.python_version()} pandas={pd.__version__}"
    )
    strategy = TrendStrategy()
    small = synthetic_candles(5_000, seed=3)
    large = synthetic_candles(100_000, seed=3)

    baseline_small = median_s(lambda: ta_indicators(small, strategy.params), 15)
    signal_pass = median_s(lambda: strategy.latest_candidate(small), 15)
    baseline_note = "(baseline: the eight indicators straight from ta)"
    print(f"ta_indicators_5k_ms: {baseline_small * 1000:.1f}   {baseline_note}")
    ratio = signal_pass / baseline_small
    print(f"signal_pass_ms: {signal_pass * 1000:.1f}   (target <= 50; {ratio:.2f}x the baseline)")

    baseline_large = median_s(lambda: ta_indicators(large, strategy.params), 3)
    backtest = median_s(lambda: run_backtest(large, strategy), 3)
    trades = len(run_backtest(large, strategy).trades)
    print(f"ta_indicators_100k_s: {baseline_large:.2f}   {baseline_note}")
    ratio = backtest / baseline_large
    print(f"backtest_100k_s: {backtest:.2f}   (target <= 5; {ratio:.2f}x the baseline; {trades} trades)")

    history = synthetic_candles(TWO_YEARS_15MIN, seed=3)
    config = WalkForwardConfig(in_sample_candles=6000, out_of_sample_candles=1500, candidates=200)
    started = time.perf_counter()
    plan = plan_walk_forward(history, StrategyParams(), SearchSpace(), config)
    with ProcessPoolExecutor(max_workers=2) as pool:
        report = stitch(plan, list(pool.map(optimise_window, plan.jobs)))
    walk_forward = time.perf_counter() - started
    started = time.perf_counter()
    serial = stitch(plan, [optimise_window(job) for job in plan.jobs])
    one_process = time.perf_counter() - started
    assert serial.out_of_sample == report.out_of_sample  # same answer however it is run
    window = plan.jobs[0].candles
    started = time.perf_counter()
    for params in plan.candidates[:20]:
        run_backtest(window, TrendStrategy(params))
    naive = (time.perf_counter() - started) / 20 * len(plan.candidates) * len(plan.jobs)
    print(f"walk_forward_1proc_s: {one_process:.1f}   (baseline: the same windows in one process)")
    print(f"backtests_naive_s: {naive:.1f}   (baseline: plain backtests of every set on every window, est.)")
    print(
        f"walk_forward_s: {walk_forward:.1f}   (target <= 120; {len(history)} candles, "
        f"{len(plan.jobs)} windows x {len(plan.candidates)} sets, 2 processes; "
        f"{one_process / walk_forward:.2f}x faster than 1 process; "
        f"{report.out_of_sample.trades} out-of-sample trades)"
    )


if __name__ == "__main__":
    main()
