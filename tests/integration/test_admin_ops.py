"""The coupon registry page's API, and the flow-runs page reading the Prefect API."""

from __future__ import annotations

import pytest
from prefect import flow
from prefect.settings import PREFECT_API_URL, temporary_settings
from starlette.testclient import TestClient

from tests.fakes.ports import free_port
from tests.integration.admin_support import admin, app_client  # noqa: F401 (fixtures)


def test_add_list_and_deactivate_coupons(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    headers = {"X-CSRF-Token": token}
    added = client.post(
        "/admin/api/coupons",
        json={
            "code": " summer25 ",
            "discount": "25",
            "description": "Summer",
            "expires_on": "2030-08-31",
            "max_uses": "100",
        },
        headers=headers,
    )
    assert added.status_code == 201, added.text
    assert added.json()["code"] == "SUMMER25" and added.json()["expires_at"].startswith("2030-08-31")
    client.post("/admin/api/coupons", json={"code": "WELCOME"}, headers=headers)

    listed = client.get("/admin/api/coupons").json()
    assert [(c["code"], c["active"]) for c in listed["coupons"]] == [("SUMMER25", True), ("WELCOME", True)]
    assert listed["validator"] == "local"

    off = client.post("/admin/api/coupons/WELCOME/deactivate", headers=headers)
    assert off.status_code == 200 and off.json()["active"] is False
    assert [c["active"] for c in client.get("/admin/api/coupons").json()["coupons"]] == [True, False]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"code": "BAD CODE!"}, 422, "code"),
        ({"code": "OK1", "discount": 150}, 422, "discount"),
        ({"code": "OK2", "max_uses": "lots"}, 422, "max_uses"),
        ({"code": "OK3", "expires_on": "31/12/2030"}, 422, "expires_on"),
    ],
    ids=["malformed-code", "discount-over-100", "max-uses-not-a-number", "bad-date"],
)
def test_bad_coupons_are_refused_with_the_field_and_not_stored(
    admin: tuple[TestClient, str], body: dict, status: int, words: str
) -> None:
    client, token = admin
    answer = client.post("/admin/api/coupons", json=body, headers={"X-CSRF-Token": token})
    assert answer.status_code == status and words in answer.json()["message"], answer.text
    assert client.get("/admin/api/coupons").json()["coupons"] == []


def test_a_duplicate_coupon_is_a_conflict(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    client.post("/admin/api/coupons", json={"code": "TWICE"}, headers={"X-CSRF-Token": token})
    again = client.post("/admin/api/coupons", json={"code": "twice"}, headers={"X-CSRF-Token": token})
    assert again.status_code == 409 and "already exists" in again.json()["message"]


def test_deactivating_an_unknown_coupon_is_404(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    assert (
        client.post("/admin/api/coupons/NOPE/deactivate", headers={"X-CSRF-Token": token}).status_code == 404
    )


def test_a_deactivated_coupon_can_be_reactivated_and_validates_again(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    headers = {"X-CSRF-Token": token}
    client.post("/admin/api/coupons", json={"code": "COMEBACK", "max_uses": 5}, headers=headers)
    client.post("/admin/api/coupons/COMEBACK/deactivate", headers=headers)
    on = client.post("/admin/api/coupons/comeback/reactivate", headers=headers)
    assert on.status_code == 200 and on.json()["active"] is True and on.json()["max_uses"] == 5
    assert client.post("/api/coupons/validate", json={"code": "COMEBACK"}).json()["valid"] is True


def test_reactivating_needs_the_csrf_token_and_a_known_code(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    client.post("/admin/api/coupons", json={"code": "OFFNOW"}, headers={"X-CSRF-Token": token})
    client.post("/admin/api/coupons/OFFNOW/deactivate", headers={"X-CSRF-Token": token})
    assert client.post("/admin/api/coupons/OFFNOW/reactivate").status_code == 403
    assert [c["active"] for c in client.get("/admin/api/coupons").json()["coupons"]] == [False]
    assert client.post("/admin/api/coupons/NOPE/reactivate", headers={"X-CSRF-Token": token}).status_code == 404


@flow(name="admin-dashboard-probe")
def probe_flow() -> int:
    return 42


@pytest.mark.prefect
def test_flow_runs_lists_recent_runs_with_prefect_ui_links(
    prefect_harness: None, admin: tuple[TestClient, str]
) -> None:
    client, _ = admin
    probe_flow()
    answer = client.get("/admin/api/flow-runs")
    assert answer.status_code == 200, answer.text
    runs = [r for r in answer.json()["runs"] if r["flow"] == "admin-dashboard-probe"]
    assert runs, answer.json()
    run = runs[0]
    assert run["state"] == "Completed" and run["start"] and run["duration_s"] is not None
    assert run["ui_url"] == f"http://127.0.0.1:4200/runs/flow-run/{run['id']}"


@pytest.mark.prefect
def test_flow_runs_says_plainly_when_prefect_is_unreachable(
    prefect_harness: None, admin: tuple[TestClient, str]
) -> None:
    client, _ = admin
    dead = f"http://127.0.0.1:{free_port()}/api"
    with temporary_settings({PREFECT_API_URL: dead}):
        answer = client.get("/admin/api/flow-runs")
    assert answer.status_code == 503
    assert answer.json()["message"].startswith(f"the Prefect API at {dead} is unreachable")
    assert answer.json()["configured"] is True


@pytest.mark.prefect
def test_flow_runs_says_prefect_is_not_configured_when_no_api_url_is_set(
    prefect_harness: None, admin: tuple[TestClient, str]
) -> None:
    client, _ = admin
    with temporary_settings({PREFECT_API_URL: None}):
        answer = client.get("/admin/api/flow-runs")
    assert answer.status_code == 503 and answer.json()["configured"] is False
    assert "PREFECT_API_URL" in answer.json()["message"]
