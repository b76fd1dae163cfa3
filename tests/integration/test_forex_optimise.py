"""The `optimise-signals` flow end to end: a CSV of candles in, windows optimised in worker
processes, the report stored for the dashboard and shown as Prefect artifacts; the live
parameters untouched (adopting a set is tested through the dashboard's API, test_admin_signals)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from starlette.testclient import TestClient

from flows.optimise_signals import optimise_signals
from promostack.errors import InvalidInput
from promostack.marketdata.synthetic import synthetic_candles, write_candles_csv
from promostack.runtime import Runtime
from promostack.signals.adoptions import (
    adopt,
    adoption_history,
    live_params,
    walk_forward_report,
    walk_forward_runs,
)
from promostack.signals.params import StrategyParams
from tests.integration.admin_support import admin, app_client  # noqa: F401 (fixtures)

pytestmark = pytest.mark.prefect
WARM_UP = StrategyParams().startup_candle_count
SMALL = {"in_sample_candles": 3000, "out_of_sample_candles": 1000, "candidates": 6}


@pytest.fixture
def candles_csv(tmp_path: Path) -> Path:
    path = tmp_path / "xauusd.csv"
    candles = synthetic_candles(WARM_UP + 3000 + 3 * 1000, seed=1, trend=0.0003, regime_candles=400)
    write_candles_csv(candles, str(path))
    return path


def test_optimise_stores_a_report_shows_its_progress_and_leaves_the_live_parameters_alone(
    runtime: Runtime, prefect_harness: None, candles_csv: Path, admin: tuple[TestClient, str]
) -> None:
    state = optimise_signals(csv=str(candles_csv), **SMALL, return_state=True)
    summary = state.result()
    assert summary.windows == 3
    [run] = walk_forward_runs(runtime.sessions)
    assert (run.id, run.windows, run.trades, run.source) == (summary.run_id, 3, summary.trades, "xauusd.csv")
    report = walk_forward_report(runtime.sessions, run.id)
    assert report.out_of_sample.verdict == summary.verdict
    assert [w.index for w in report.windows] == [0, 1, 2]
    assert len(report.equity) == report.out_of_sample.trades
    assert live_params(runtime.sessions, "XAU/USD", "15min") == StrategyParams()  # nothing adopted by itself

    async def artifact_keys() -> set[str]:
        async with get_client() as client:
            return {a.key for a in await client.read_artifacts() if a.key}

    assert {"optimise-signals-report", "optimise-signals-equity"} <= asyncio.run(artifact_keys())
    client, _ = admin  # the dashboard follows a run by its progress artifact
    progress = client.get(
        f"/admin/api/signals/optimisations/progress/{state.state_details.flow_run_id}"
    ).json()
    assert progress == {"state": "Completed", "final": True, "progress": 100.0}


def test_adopting_an_invalid_set_says_why_and_changes_nothing(runtime: Runtime) -> None:
    with pytest.raises(InvalidInput, match="EMA periods must grow"):
        adopt(runtime.sessions, {**StrategyParams().model_dump(), "ema_fast": 80}, adopted_by="ops")
    assert adoption_history(runtime.sessions, "XAU/USD", "15min") == []


def test_a_file_too_short_for_one_window_fails_the_run_with_the_reason(
    runtime: Runtime, prefect_harness: None, tmp_path: Path
) -> None:
    short = tmp_path / "short.csv"
    write_candles_csv(synthetic_candles(3000), str(short))
    with pytest.raises(InvalidInput, match="walk-forward needs at least"):
        optimise_signals(csv=str(short), **SMALL)
    assert walk_forward_runs(runtime.sessions) == []
