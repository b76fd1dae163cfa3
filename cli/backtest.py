"""`promostack backtest`: the live strategy and lifecycle replayed over a CSV of candles."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from promostack.errors import InvalidInput

if TYPE_CHECKING:
    from promostack.signals.backtest import BacktestResult

console = Console()


def backtest(
    csv: Path = typer.Option(
        ..., "--csv", help="Candles: time, open, high, low, close (oldest first or not)."
    ),
    chart: Path | None = typer.Option(None, "--chart", help="Write the equity curve (pips) as a PNG here."),
    symbol: str = typer.Option("XAU/USD", help="Symbol of the candles (sets the pip size)."),
    interval: str = typer.Option("15min", help="Candle interval of the file."),
) -> None:
    """Backtest the signals strategy on historical candles and report its performance."""
    # Imported here: pandas and ta would slow every other command of the CLI.
    from promostack.marketdata.replay import read_candles_csv
    from promostack.signals.backtest import run_backtest
    from promostack.signals.equity_chart import equity_png
    from promostack.signals.params import StrategyParams
    from promostack.signals.strategy import TrendStrategy

    try:
        candles = read_candles_csv(csv)
        strategy = TrendStrategy(StrategyParams(symbol=symbol, interval=interval))
        with Progress(
            TextColumn("[bold]backtest[/]"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            bar = progress.add_task("candles", total=len(candles))
            result = run_backtest(
                candles, strategy, progress=lambda done, total: progress.update(bar, completed=done)
            )
    except InvalidInput as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=2) from exc
    console.print(report_table(result, symbol, interval))
    if chart is not None:
        chart.write_bytes(equity_png(result.equity, f"Backtest {symbol} {interval} · equity in pips"))
        console.print(f"equity chart written to [bold]{chart}[/]")


def report_table(result: "BacktestResult", symbol: str, interval: str) -> Table:
    """The backtest's figures as a rich table."""
    report = result.report
    assert report is not None
    table = Table(title=f"Backtest {symbol} {interval} · {result.candles} candles")
    table.add_column("figure")
    table.add_column("value", justify="right")

    def fmt(value: float | None, pattern: str) -> str:
        return "n/a" if value is None else pattern.format(value)

    rows = [
        ("trades", str(report.trades)),
        ("wins / losses", f"{report.wins} / {report.losses}"),
        ("win rate", fmt(None if report.win_rate is None else report.win_rate * 100, "{:.1f}%")),
        ("total pips", f"{report.total_pips:+.1f}"),
        ("profit factor", fmt(report.profit_factor, "{:.2f}")),
        (
            "expectancy",
            f"{fmt(report.expectancy_pips, '{:+.1f}')} pips / {fmt(report.expectancy_r, '{:+.3f}')} R",
        ),
        ("max drawdown", f"{report.max_drawdown_pips:.1f} pips"),
        ("Sharpe (per-trade R, annualised)", fmt(report.sharpe, "{:.2f}")),
        (
            "average duration",
            str(report.average_duration).split(".")[0] if report.average_duration else "n/a",
        ),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table
