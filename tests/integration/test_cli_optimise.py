"""`promostack optimise`: windows optimised in processes behind a progress bar, the report printed
and stored for the dashboard, and a clear error for a file too short."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from promostack.config import get_settings
from promostack.marketdata.synthetic import synthetic_candles, write_candles_csv
from promostack.runtime import build_runtime
from promostack.signals.adoptions import walk_forward_report, walk_forward_runs
from promostack.signals.params import StrategyParams

WARM_UP = StrategyParams().startup_candle_count
SMALL = ["--in-sample", "3000", "--out-of-sample", "1000", "--candidates", "6", "--workers", "2"]


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A runner on a fresh, migrated embedded install."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    yield runner
    get_settings.cache_clear()


def test_optimise_prints_the_out_of_sample_verdict_stores_the_report_and_draws_the_curve(
    embedded: CliRunner, tmp_path: Path
) -> None:
    csv = tmp_path / "gold.csv"
    write_candles_csv(
        synthetic_candles(WARM_UP + 3000 + 2 * 1000, seed=1, trend=0.0003, regime_candles=400), str(csv)
    )
    chart = tmp_path / "oos.png"
    result = embedded.invoke(
        app, ["optimise", "--csv", str(csv), *SMALL, "--chart", str(chart)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    runtime = build_runtime(get_settings())
    try:
        [run] = walk_forward_runs(runtime.sessions)
        report = walk_forward_report(runtime.sessions, run.id)
    finally:
        runtime.close()
    assert report.out_of_sample.verdict in result.output
    assert f"stored as walk-forward run {run.id}" in result.output
    assert "Walk-forward XAU/USD 15min · 2 windows" in result.output
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_optimise_of_a_file_too_short_says_how_many_candles_it_needs(
    embedded: CliRunner, tmp_path: Path
) -> None:
    csv = tmp_path / "short.csv"
    write_candles_csv(synthetic_candles(3000), str(csv))
    result = embedded.invoke(
        app, ["optimise", "--csv", str(csv), *SMALL, "--no-save"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 1
    assert f"needs at least {WARM_UP + 4000} candles" in result.output
