"""`promostack backtest`: figures, an equity PNG, and a clear error for a bad file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from promostack.marketdata.synthetic import synthetic_candles, write_candles_csv
from promostack.signals.backtest import run_backtest


def test_backtest_reports_the_figures_and_writes_the_equity_chart(tmp_path: Path) -> None:
    candles = synthetic_candles(6000, seed=11)
    csv = tmp_path / "candles.csv"
    write_candles_csv(candles, str(csv))
    chart = tmp_path / "equity.png"
    result = CliRunner().invoke(
        app, ["backtest", "--csv", str(csv), "--chart", str(chart)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    expected = run_backtest(candles).report
    assert expected is not None
    for figure in (
        "trades",
        "win rate",
        "profit factor",
        "expectancy",
        "max drawdown",
        "Sharpe",
        "average duration",
    ):
        assert figure in result.output
    assert f"{expected.total_pips:+.1f}" in result.output
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_backtest_of_a_file_too_short_says_why_and_exits_2(tmp_path: Path) -> None:
    csv = tmp_path / "short.csv"
    write_candles_csv(synthetic_candles(50), str(csv))
    result = CliRunner().invoke(app, ["backtest", "--csv", str(csv)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "warm-up" in result.output


def test_backtest_of_a_missing_file_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["backtest", "--csv", str(tmp_path / "nope.csv")], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 2 and "does not exist" in result.output
