"""Bodies: lying about their length, JSON built to crash a parser, texts built to flood the log."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from promostack.db import GenerationEvent
from tests.integration.admin_support import log_in
from tests.integration.public_world import VALID_CODE
from tests.security.conftest import Instance
from webapp.routes.admin_templates import MAX_UPLOAD_BODY

MIB = 1024 * 1024


class Drip:
    """A chunked request straight into the app (no Content-Length, as a socket would deliver it),
    counting the bytes the app pulled before it answered. (The test client reads a whole body
    before the app sees it, so it cannot show where a reader stopped.)"""

    def __init__(self, head: bytes, total: int, chunk: int = 64 * 1024) -> None:
        self.head, self.total, self.chunk, self.pulled = head, total, chunk, 0

    def post(self, client: TestClient, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The status and JSON body of the app's answer to the dripped request."""
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        raw_headers = [(k.lower().encode(), v.encode()) for k, v in {**headers, "cookie": cookie}.items()]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": raw_headers,
            "client": ("203.0.113.7", 50000), "server": ("testserver", 80), "state": {},
        }
        sent: list[dict[str, Any]] = []
        chunks = iter([self.head, *([b"x" * self.chunk] * (self.total // self.chunk))])

        async def receive() -> dict[str, Any]:
            chunk = next(chunks, None)
            if chunk is None:
                return {"type": "http.request", "body": b"", "more_body": False}
            self.pulled += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": True}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        async def call() -> None:
            await client.app(scope, receive, send)

        assert client.portal is not None, "use the client inside `with`"
        client.portal.call(call)
        status = next(m["status"] for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return status, json.loads(body)


def _events(instance: Instance) -> int:
    with instance.runtime.sessions() as session:
        return session.scalar(select(func.count(GenerationEvent.id))) or 0


def test_a_chunked_400_mb_admin_upload_is_cut_off_at_the_cap_not_spooled(instance: Instance) -> None:
    with instance.client() as client:
        token = log_in(client)
        body = Drip(b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n', 400 * MIB)
        status, answer = body.post(
            client, "/admin/api/templates", {"X-CSRF-Token": token, "Content-Type": "multipart/form-data; boundary=b"}
        )
    assert status == 413 and "too large" in answer["message"]
    assert body.pulled <= MAX_UPLOAD_BODY + MIB


@pytest.mark.parametrize(
    ("path", "cap"),
    [("/api/render", 8 * MIB), ("/api/coupons/validate", 16 * 1024), ("/admin/api/coupons", 256 * 1024), ("/stripe/webhook", MIB)],
)
def test_every_body_is_counted_as_it_arrives_whatever_its_length_says(instance: Instance, path: str, cap: int) -> None:
    with instance.client() as client:
        token = log_in(client)
        body = Drip(b'{"code": "', 64 * MIB)
        status, answer = body.post(client, path, {"X-CSRF-Token": token, "Content-Type": "application/json"})
    assert status == 413 and answer["error"] == "body_too_large"
    assert body.pulled <= cap + 64 * 1024


# 8 000 levels: eight times what Python's parser can recurse, and still under the smallest cap.
DEEP = b"[" * 8_000 + b"]" * 8_000
HUGE_NUMBER = b'{"code": ' + b"9" * 5_000 + b"}"


@pytest.mark.parametrize("path", ["/api/render", "/api/coupons/validate", "/admin/api/coupons"])
@pytest.mark.parametrize(("body", "reason"), [(DEEP, "nests deeper"), (HUGE_NUMBER, "number")])
def test_json_built_to_crash_the_parser_is_a_400_with_the_reason(
    instance: Instance, path: str, body: bytes, reason: str
) -> None:
    with instance.client() as client:
        token = log_in(client)
        answer = client.post(path, content=body, headers={"X-CSRF-Token": token, "Content-Type": "application/json"})
    assert answer.status_code == 400 and reason in answer.json()["message"]


@pytest.mark.parametrize("size", [600, 512 * 1024, 8 * MIB - 1024])
def test_a_huge_text_is_refused_at_the_edge_and_never_reaches_the_log(
    instance: Instance, site: TestClient, size: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"template": "black-friday", "code": VALID_CODE, "texts": {"headline": "x" * size}}
    answer = site.post("/api/render", json=body)
    assert answer.status_code == 400 and answer.json()["field"] == "texts.headline"
    assert len(answer.text) < 1000
    assert _events(instance) == 0  # refused before anything was recorded or rendered
    assert all(len(record.getMessage()) < 2000 for record in caplog.records)


def test_a_text_over_its_areas_limit_is_refused_before_anything_runs(instance: Instance, site: TestClient) -> None:
    meta = instance.runtime.templates.get("black-friday")
    limit = meta.area("headline").max_chars
    answer = site.post(
        "/api/render", json={"template": "black-friday", "code": VALID_CODE, "texts": {"headline": "x" * (limit + 1)}}
    )
    assert answer.status_code == 422 and answer.json()["field"] == "texts.headline"
    assert _events(instance) == 0
