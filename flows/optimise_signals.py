"""The `optimise-signals` flow: walk-forward optimisation of the strategy's parameters.

Table of contents: read the candles, start from the live parameters, cut the history into
windows, optimise the windows in parallel processes (one task run each, with a progress
artifact), stitch the out-of-sample parts into one report, store it, and show it as artifacts
(the report and the stitched equity curve). It never changes the live strategy: an admin
adopts a parameter set on the dashboard's Signals page, and that change is recorded.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.futures import as_completed
from prefect.task_runners import ProcessPoolTaskRunner
from pydantic import BaseModel

from promostack.marketdata import replay_csv
from promostack.runtime import current_runtime
from promostack.signals.search_space import SearchSpace
from promostack.signals.walk_forward import WalkForwardConfig, WalkForwardReport, plan_walk_forward, stitch
from tasks.optimise_signals import optimise_window, read_candles, save_report
from tasks.signals import load_live_params

#: Key of the progress artifact (percent of windows done) the dashboard polls.
PROGRESS_KEY = "optimise-signals-progress"


class OptimisationSummary(BaseModel):
    """What a run of `optimise-signals` found, and where its full report is."""

    run_id: int
    windows: int
    trades: int
    expectancy_r: float | None
    edge: bool
    verdict: str
    latest_params: dict[str, float] | None


@flow(name="optimise-signals", task_runner=ProcessPoolTaskRunner())
def optimise_signals(
    csv: str | None = None,
    symbol: str = "XAU/USD",
    interval: str = "15min",
    in_sample_candles: int = 6000,
    out_of_sample_candles: int = 1500,
    candidates: int = 200,
    seed: int = 7,
) -> OptimisationSummary:
    """The summary of a walk-forward optimisation over a CSV of candles (default: the replay file)."""
    runtime = current_runtime()
    path = Path(csv) if csv else replay_csv(runtime.settings)
    config = WalkForwardConfig(
        in_sample_candles=in_sample_candles,
        out_of_sample_candles=out_of_sample_candles,
        candidates=candidates,
        seed=seed,
    )
    candles = read_candles(path)
    space = SearchSpace()
    plan = plan_walk_forward(candles, load_live_params(runtime, symbol, interval), space, config)
    get_run_logger().info(
        "%d windows of %d + %d candles, %d parameter sets each", len(plan.jobs), in_sample_candles,
        out_of_sample_candles, len(plan.candidates),
    )  # fmt: skip
    progress = create_progress_artifact(0.0, key=PROGRESS_KEY, description="Windows optimised")
    futures = [optimise_window.submit(job) for job in plan.jobs]
    results = []
    for future in as_completed(futures):
        results.append(future.result())
        update_progress_artifact(progress, 100.0 * len(results) / len(futures))
    report = stitch(plan, results)
    run_id = save_report(runtime, report, path.name)
    create_markdown_artifact(
        key="optimise-signals-report",
        markdown=report_markdown(report, run_id),
        description="Walk-forward report",
    )
    create_table_artifact(
        key="optimise-signals-equity",
        table=[{"closed_at": p.time.isoformat(), "cumulative_pips": p.pips} for p in report.equity],
        description="Stitched out-of-sample equity curve (cumulative pips after each trade)",
    )
    latest = report.latest_params
    return OptimisationSummary(
        run_id=run_id,
        windows=len(report.windows),
        trades=report.out_of_sample.trades,
        expectancy_r=report.out_of_sample.expectancy_r,
        edge=report.out_of_sample.edge,
        verdict=report.out_of_sample.verdict,
        latest_params=space.searched(latest) if latest else None,
    )


def report_markdown(report: WalkForwardReport, run_id: int) -> str:
    """The report as Markdown: verdict, out-of-sample figures, windows, parameter stability."""
    oos = report.out_of_sample

    def show(value: float | None, pattern: str) -> str:
        return "n/a" if value is None else pattern.format(value)

    lines = [
        f"# Walk-forward {report.symbol} {report.interval} (run {run_id})",
        "",
        f"**{oos.verdict}**",
        "",
        f"{report.candles} candles, {report.first_candle:%Y-%m-%d} to {report.last_candle:%Y-%m-%d}; "
        f"{len(report.windows)} windows of {report.config.in_sample_candles} in-sample + "
        f"{report.config.out_of_sample_candles} out-of-sample candles; {report.config.candidates} sets each.",
        "",
        "| out of sample | value |",
        "|---|---|",
        f"| trades | {oos.trades} |",
        f"| win rate | {show(oos.win_rate and oos.win_rate * 100, '{:.1f}%')} |",
        f"| expectancy | {show(oos.expectancy_pips, '{:+.1f}')} pips"
        f" / {show(oos.expectancy_r, '{:+.3f}')} R |",
        f"| in-sample expectancy of the chosen sets | {show(report.in_sample_expectancy_r, '{:+.3f}')} R |",
        f"| total | {oos.total_pips:+.1f} pips |",
        f"| max drawdown | {oos.max_drawdown_pips:.1f} pips |",
        f"| t-statistic of R | {show(oos.t_stat, '{:.2f}')} |",
        "",
        "| window | out of sample from | chosen set | in-sample trades / R | out-of-sample trades / pips |",
        "|---|---|---|---|---|",
    ]
    for w in report.windows:
        pips = sum(t.pips for t in w.trades)
        chosen = "none traded enough" if w.chosen is None else f"#{w.chosen}"
        lines.append(
            f"| {w.index} | {w.out_of_sample_start:%Y-%m-%d %H:%M} | {chosen} | "
            f"{w.in_sample_trades} / {show(w.in_sample_expectancy_r, '{:+.3f}')} | "
            f"{len(w.trades)} / {pips:+.1f} |"
        )
    lines += [
        "",
        "| parameter | bounds | chosen values | spread (0 stable, ~0.29 random) |",
        "|---|---|---|---|",
    ]
    for s in report.stability:
        values = ", ".join(f"{v:g}" for v in s.values)
        lines.append(f"| {s.name} | {s.low:g}–{s.high:g} | {values} | {s.spread:.2f} |")
    return "\n".join(lines) + "\n"
