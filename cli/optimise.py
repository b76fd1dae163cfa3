"""`promostack optimise`: walk-forward optimisation of the signals strategy over a CSV of candles.

It runs the same steps as the `optimise-signals` flow (plan the windows, optimise them in
parallel processes, stitch) directly rather than through Prefect, so it works without a
Prefect server and shows a rich progress bar; the report is stored in the database like the
flow's (`--no-save` to skip), where the dashboard's Signals page lists it for adoption.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.templates import cli_errors
from promostack.config import get_settings

if TYPE_CHECKING:
    from promostack.signals.walk_forward import WalkForwardReport

console = Console()


def optimise(
    csv: Path = typer.Option(..., "--csv", help="Candles: time, open, high, low, close."),
    symbol: str = typer.Option("XAU/USD", help="Symbol of the candles (sets pip size and decimals)."),
    interval: str = typer.Option("15min", help="Candle interval of the file."),
    in_sample: int = typer.Option(6000, "--in-sample", help="Candles each window tunes on."),
    out_of_sample: int = typer.Option(
        1500, "--out-of-sample", help="Candles each window is judged on (the step)."
    ),
    candidates: int = typer.Option(200, help="Parameter sets tried per window."),
    seed: int = typer.Option(7, help="Seed of the parameter-set draw."),
    workers: int = typer.Option(2, min=1, max=64, help="Processes optimising windows in parallel."),
    chart: Path | None = typer.Option(
        None, "--chart", help="Write the stitched out-of-sample equity as a PNG."
    ),
    save: bool = typer.Option(
        True, "--save/--no-save", help="Store the report for the dashboard's Signals page."
    ),
) -> None:
    """Walk-forward optimise the strategy: tune on each window, judge on the next, report out of sample."""
    # Imported here: pandas would slow every other command of the CLI.
    from promostack.marketdata.replay import read_candles_csv
    from promostack.runtime import build_runtime
    from promostack.signals.adoptions import live_params, save_walk_forward_run
    from promostack.signals.equity_chart import equity_png
    from promostack.signals.params import StrategyParams
    from promostack.signals.search_space import SearchSpace
    from promostack.signals.walk_forward import WalkForwardConfig, optimise_window, plan_walk_forward, stitch

    runtime = build_runtime(get_settings()) if save else None
    try:
        with cli_errors():
            config = WalkForwardConfig(
                in_sample_candles=in_sample,
                out_of_sample_candles=out_of_sample,
                candidates=candidates,
                seed=seed,
            )
            candles = read_candles_csv(csv)
            base = (
                live_params(runtime.sessions, symbol, interval)
                if runtime
                else StrategyParams(symbol=symbol, interval=interval)
            )
            plan = plan_walk_forward(candles, base, SearchSpace(), config)
            results = []
            with Progress(
                TextColumn("[bold]walk-forward[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=console, transient=True,
            ) as progress, ProcessPoolExecutor(max_workers=workers) as pool:  # fmt: skip
                bar = progress.add_task("windows", total=len(plan.jobs))
                for future in as_completed([pool.submit(optimise_window, job) for job in plan.jobs]):
                    results.append(future.result())
                    progress.advance(bar)
            report = stitch(plan, results)
            run_id = save_walk_forward_run(runtime.sessions, report, csv.name) if runtime else None
    finally:
        if runtime:
            runtime.close()
    console.print(report_table(report))
    console.print(f"[bold]{report.out_of_sample.verdict}[/]")
    if run_id is not None:
        console.print(f"stored as walk-forward run {run_id}: adopt a set on the dashboard's Signals page")
    if chart is not None:
        curve = [0.0] + [p.pips for p in report.equity]
        chart.write_bytes(
            equity_png(curve, f"Walk-forward {symbol} {interval} · out-of-sample equity in pips")
        )
        console.print(f"equity chart written to [bold]{chart}[/]")


def report_table(report: WalkForwardReport) -> Table:
    """The out-of-sample figures, one row per window, and the parameters' stability."""
    oos = report.out_of_sample
    table = Table(title=f"Walk-forward {report.symbol} {report.interval} · {len(report.windows)} windows")
    for column in ("window", "out of sample from", "chosen set", "in-sample trades / R", "OOS trades / pips"):
        table.add_column(column, justify="right")
    for w in report.windows:
        r = "n/a" if w.in_sample_expectancy_r is None else f"{w.in_sample_expectancy_r:+.3f}"
        table.add_row(
            str(w.index),
            f"{w.out_of_sample_start:%Y-%m-%d %H:%M}",
            "none" if w.chosen is None else f"#{w.chosen}",
            f"{w.in_sample_trades} / {r}",
            f"{len(w.trades)} / {sum(t.pips for t in w.trades):+.1f}",
        )
    expectancy = "n/a" if oos.expectancy_r is None else f"{oos.expectancy_r:+.3f} R"
    in_sample = "n/a" if report.in_sample_expectancy_r is None else f"{report.in_sample_expectancy_r:+.3f} R"
    table.caption = (
        f"out of sample: {oos.trades} trades, win rate "
        f"{'n/a' if oos.win_rate is None else f'{oos.win_rate * 100:.1f}%'}, expectancy {expectancy} "
        f"(in-sample {in_sample}), {oos.total_pips:+.1f} pips, "
        f"max drawdown {oos.max_drawdown_pips:.1f} pips; "
        "parameter spread (0 stable, ~0.29 random): "
        + ", ".join(f"{s.name} {s.spread:.2f}" for s in report.stability)
    )
    return table
