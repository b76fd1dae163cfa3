"""The Broadcasts admin API on SQLite and Postgres: bad HTML refused before saving, compose with a
photo, test to the admin, live counts, pause/cancel, the run started on Prefect, channels."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from flows.broadcast import broadcast as broadcast_flow
from promostack import audience
from promostack.broadcasts import control
from promostack.runtime import build_runtime, install_runtime
from tests.fakes.bot_api import FakeBotApi
from tests.integration.admin_support import admin_settings, log_in
from webapp.app import create_app

TOKEN = "700300:admin-broadcast-token"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00"
    b"\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def dash(tmp_path: Path, db_url: str, bot_api: FakeBotApi) -> Iterator[tuple[TestClient, str]]:
    """A logged-in dashboard client whose promo bot talks to the fake Bot API, and its CSRF token."""
    settings = admin_settings(
        tmp_path, db_url, telegram_bot_token=TOKEN, telegram_api_base=bot_api.api_base, admin_telegram_ids="900",
        broadcast_rate_per_s=200,
    )
    with TestClient(create_app(settings)) as client:
        yield client, log_in(client)


def _post(client: TestClient, token: str, url: str, body: object = None) -> httpx.Response:
    return client.post(url, json=body, headers={"X-CSRF-Token": token})


def _sessions(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.runtime.sessions


def test_html_telegram_would_refuse_is_refused_before_anything_is_saved(dash: tuple[TestClient, str]) -> None:
    client, token = dash
    answer = _post(client, token, "/admin/api/broadcasts", {"bot": "promo", "text": "<b>Sale"})
    assert answer.status_code == 422 and answer.json()["field"] == "text"
    assert "never closed" in answer.json()["message"]
    assert client.get("/admin/api/broadcasts").json()["broadcasts"] == []


def test_compose_with_an_uploaded_photo_then_send_a_test_to_the_admin(dash: tuple[TestClient, str], bot_api: FakeBotApi) -> None:
    client, token = dash
    draft = {"bot": "promo", "text": "<b>Hello</b>", "photo": "upload", "buttons": [{"text": "Go", "url": "https://x.example"}]}
    answer = client.post(
        "/admin/api/broadcasts", data={"draft": json.dumps(draft)}, files={"photo": ("p.png", PNG, "image/png")},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["status"] == "draft" and created["has_photo"]
    test = _post(client, token, f"/admin/api/broadcasts/{created['id']}/test")
    assert test.status_code == 200
    [photo] = bot_api.calls_of("sendPhoto")
    assert photo.params["chat_id"] == 900 and photo.files["photo"] == PNG


def test_sending_without_prefect_says_so_and_leaves_a_draft_to_send_later(dash: tuple[TestClient, str]) -> None:
    client, token = dash
    created = _post(client, token, "/admin/api/broadcasts", {"bot": "promo", "text": "hi"}).json()
    answer = _post(client, token, f"/admin/api/broadcasts/{created['id']}/send", {"at": None})
    assert answer.status_code == 503
    assert client.get(f"/admin/api/broadcasts/{created['id']}").json()["status"] == "draft"


def test_a_scheduled_send_without_prefect_is_refused_and_the_draft_keeps_no_time(dash: tuple[TestClient, str]) -> None:
    client, token = dash
    created = _post(client, token, "/admin/api/broadcasts", {"bot": "promo", "text": "later"}).json()
    naive = _post(client, token, f"/admin/api/broadcasts/{created['id']}/send", {"at": "2030-01-01T10:00:00"})
    assert naive.status_code == 422 and naive.json()["field"] == "at"
    answer = _post(client, token, f"/admin/api/broadcasts/{created['id']}/send", {"at": "2030-01-01T10:00:00Z"})
    assert answer.status_code == 503
    shown = client.get(f"/admin/api/broadcasts/{created['id']}").json()
    assert (shown["status"], shown["scheduled_at"]) == ("draft", None)


def test_pause_and_cancel_answer_with_the_new_status_and_refuse_what_does_not_apply(dash: tuple[TestClient, str]) -> None:
    client, token = dash
    created = _post(client, token, "/admin/api/broadcasts", {"bot": "promo", "text": "hi"}).json()
    control.apply(_sessions(client), created["id"], "start")
    assert _post(client, token, f"/admin/api/broadcasts/{created['id']}/pause").json()["status"] == "paused"
    assert _post(client, token, f"/admin/api/broadcasts/{created['id']}/cancel").json()["status"] == "cancelled"
    refused = _post(client, token, f"/admin/api/broadcasts/{created['id']}/pause")
    assert refused.status_code == 409


def test_registering_a_channel_where_the_bot_is_not_admin_is_a_422_with_what_to_do(dash: tuple[TestClient, str]) -> None:
    client, token = dash
    answer = _post(client, token, "/admin/api/channels", {"bot": "promo", "chat": "@deals"})
    assert answer.status_code == 422 and "administrator" in answer.json()["message"]
    assert client.get("/admin/api/channels").json()["channels"] == []


@pytest.mark.prefect
def test_send_starts_a_broadcast_run_and_the_flow_reports_with_artifacts(
    tmp_path: Path, db_url: str, bot_api: FakeBotApi, prefect_harness: None
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments.runner import RunnerDeployment

    settings = admin_settings(tmp_path, db_url, telegram_bot_token=TOKEN, telegram_api_base=bot_api.api_base, broadcast_rate_per_s=200)
    RunnerDeployment.from_flow(broadcast_flow, name="broadcast").apply()
    with TestClient(create_app(settings)) as client:
        token = log_in(client)
        for chat in (1, 2, 3):
            audience.register(_sessions(client), "promo", audience.Person(chat))
        created = _post(client, token, "/admin/api/broadcasts", {"bot": "promo", "text": "<i>hi</i>"}).json()
        queued = _post(client, token, f"/admin/api/broadcasts/{created['id']}/send", {"at": None})
        assert queued.status_code == 202 and queued.json()["status"] == "queued"
        assert queued.json()["flow_run_id"]

        # The worker's part: the flow itself, on the same database.
        rt = build_runtime(settings)
        with install_runtime(rt):
            report = asyncio.run(broadcast_flow(created["id"]))
        rt.close()
        assert report.sent == 3 and report.status == "done"  # type: ignore[union-attr]
        shown = client.get(f"/admin/api/broadcasts/{created['id']}").json()
        assert shown["counts"]["sent"] == 3 and shown["counts"]["remaining"] == 0

    async def artifact_keys() -> list[str]:
        async with get_client() as prefect:
            return [a.key for a in await prefect.read_artifacts() if a.key]

    assert f"broadcast-{created['id']}-report" in asyncio.run(artifact_keys())
