"""The Signals page's optimisation API: stored walk-forward reports, and adopting a window's set
(recorded with who and why, live from the next run), with clear refusals that change nothing."""

from __future__ import annotations

from functools import lru_cache
from uuid import uuid4

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from starlette.testclient import TestClient

from promostack.marketdata.synthetic import synthetic_candles
from promostack.signals.adoptions import live_params, save_walk_forward_run
from promostack.signals.params import StrategyParams
from promostack.signals.search_space import SearchSpace
from promostack.signals.walk_forward import (
    WalkForwardConfig,
    WalkForwardReport,
    optimise_window,
    plan_walk_forward,
    stitch,
)
from tests.fakes.ports import free_port
from tests.integration.admin_support import admin, app_client  # noqa: F401 (fixtures)


@lru_cache(maxsize=1)
def small_report() -> WalkForwardReport:
    warm_up = StrategyParams().startup_candle_count
    candles = synthetic_candles(warm_up + 3000 + 2 * 1000, seed=1, trend=0.0003, regime_candles=400)
    config = WalkForwardConfig(in_sample_candles=3000, out_of_sample_candles=1000, candidates=6)
    plan = plan_walk_forward(candles, StrategyParams(), SearchSpace(), config)
    return stitch(plan, [optimise_window(job) for job in plan.jobs])


def stored_run(client: TestClient) -> int:
    return save_walk_forward_run(client.app.state.runtime.sessions, small_report(), "gold.csv")


def test_the_page_lists_runs_and_shows_a_report_with_its_verdict_and_equity(
    admin: tuple[TestClient, str],
) -> None:
    client, _ = admin
    run_id = stored_run(client)
    listing = client.get("/admin/api/signals/optimisations").json()
    assert [r["id"] for r in listing["runs"]] == [run_id]
    assert listing["live"] == StrategyParams().model_dump(mode="json") and listing["adoptions"] == []
    report = client.get(f"/admin/api/signals/optimisations/{run_id}").json()["report"]
    assert report["out_of_sample"]["verdict"] == small_report().out_of_sample.verdict
    assert len(report["equity"]) == report["out_of_sample"]["trades"]


def test_adopting_a_window_makes_its_set_live_and_records_who_and_why(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    run_id = stored_run(client)
    window = next(w for w in small_report().windows if w.params is not None)
    body = {"run_id": run_id, "window": window.index, "adopted_by": "Dana", "note": "steadier exits"}
    answer = client.post("/admin/api/signals/adoptions", json=body, headers={"X-CSRF-Token": token})
    assert answer.status_code == 201, answer.text
    assert live_params(client.app.state.runtime.sessions, "XAU/USD", "15min") == window.params
    [change] = client.get("/admin/api/signals/optimisations").json()["adoptions"]
    assert (change["adopted_by"], change["note"], change["run_id"], change["window"]) == (
        "Dana", "steadier exits", run_id, window.index,
    )  # fmt: skip
    assert change["previous_params"] == StrategyParams().model_dump(mode="json")
    back = {"defaults": True, "adopted_by": "Dana"}
    assert (
        client.post("/admin/api/signals/adoptions", json=back, headers={"X-CSRF-Token": token}).status_code
        == 201
    )
    assert live_params(client.app.state.runtime.sessions, "XAU/USD", "15min") == StrategyParams()


def test_an_adoption_without_a_name_or_of_an_unknown_run_is_refused_and_changes_nothing(
    admin: tuple[TestClient, str],
) -> None:
    client, token = admin
    run_id = stored_run(client)
    nameless = client.post(
        "/admin/api/signals/adoptions", json={"run_id": run_id, "window": 0}, headers={"X-CSRF-Token": token}
    )
    assert nameless.status_code == 422 and nameless.json()["field"] == "adopted_by"
    unknown = {"run_id": run_id + 99, "window": 0, "adopted_by": "Dana"}
    answer = client.post("/admin/api/signals/adoptions", json=unknown, headers={"X-CSRF-Token": token})
    assert answer.status_code == 404 and answer.json()["field"] == "run_id"
    assert client.get("/admin/api/signals/optimisations").json()["adoptions"] == []


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"window": 999}, 404, "window"),  # a window the run does not have chose nothing
        ({"window": "first"}, 422, "window"),
        ({"run_id": "latest"}, 422, "run_id"),
    ],
    ids=["window-that-chose-nothing", "window-not-a-number", "run-id-not-a-number"],
)
def test_an_adoption_of_a_window_that_cannot_be_found_names_the_field_and_changes_nothing(
    admin: tuple[TestClient, str], body: dict, status: int, field: str
) -> None:
    client, token = admin
    sent = {"run_id": stored_run(client), "window": 0, "adopted_by": "Dana", **body}
    answer = client.post("/admin/api/signals/adoptions", json=sent, headers={"X-CSRF-Token": token})
    assert answer.status_code == status and answer.json()["field"] == field, answer.text
    assert client.get("/admin/api/signals/optimisations").json()["adoptions"] == []


def test_an_adoption_body_that_is_not_an_object_is_400(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    answer = client.post("/admin/api/signals/adoptions", json=["Dana"], headers={"X-CSRF-Token": token})
    assert answer.status_code == 400 and answer.json()["error"] == "malformed_body"
    assert client.get("/admin/api/signals/optimisations").json()["adoptions"] == []


def test_a_report_of_an_unknown_run_is_404_and_of_a_non_number_422(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    unknown = client.get("/admin/api/signals/optimisations/4242")
    assert unknown.status_code == 404
    assert (unknown.json()["error"], unknown.json()["field"]) == ("not_found", "run_id")
    garbled = client.get("/admin/api/signals/optimisations/latest")
    assert (garbled.status_code, garbled.json()["field"]) == (422, "run_id")


def test_following_a_run_by_a_malformed_id_is_422_naming_it(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    answer = client.get("/admin/api/signals/optimisations/progress/not-a-uuid")
    assert (answer.status_code, answer.json()["field"]) == (422, "flow_run_id")


def test_following_a_run_without_a_prefect_api_is_503_saying_what_to_set(
    admin: tuple[TestClient, str],
) -> None:
    client, _ = admin
    with temporary_settings({PREFECT_API_URL: None}):
        answer = client.get(f"/admin/api/signals/optimisations/progress/{uuid4()}")
    assert (answer.status_code, answer.json()["error"]) == (503, "prefect_unavailable")
    assert "PREFECT_API_URL" in answer.json()["message"]


@pytest.mark.prefect
def test_following_a_run_prefect_does_not_know_is_404(
    prefect_harness: None, admin: tuple[TestClient, str]
) -> None:
    client, _ = admin
    answer = client.get(f"/admin/api/signals/optimisations/progress/{uuid4()}")
    assert (answer.status_code, answer.json()["field"]) == (404, "flow_run_id"), answer.text


@pytest.mark.prefect
def test_following_a_run_when_prefect_is_unreachable_is_503(
    prefect_harness: None, admin: tuple[TestClient, str]
) -> None:
    client, _ = admin
    with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"}):
        answer = client.get(f"/admin/api/signals/optimisations/progress/{uuid4()}")
    assert (answer.status_code, answer.json()["error"]) == (503, "prefect_unavailable"), answer.text
    assert "Prefect is not reachable" in answer.json()["message"]


def test_adopting_needs_the_csrf_token_and_reading_needs_a_session(app_client: TestClient) -> None:
    assert app_client.get("/admin/api/signals/optimisations").status_code == 401
    body = {"defaults": True, "adopted_by": "Mallory"}
    assert app_client.post("/admin/api/signals/adoptions", json=body).status_code in (401, 403)


def test_starting_an_optimisation_on_a_history_too_short_says_so_and_starts_nothing(
    admin: tuple[TestClient, str],
) -> None:
    client, token = admin  # no MARKET_REPLAY_CSV: the bundled 12-week sample, shorter than one window
    answer = client.post("/admin/api/signals/optimisations", headers={"X-CSRF-Token": token})
    assert answer.status_code == 422
    assert "walk-forward needs at least" in answer.json()["message"]
    assert "MARKET_REPLAY_CSV" in answer.json()["message"]
