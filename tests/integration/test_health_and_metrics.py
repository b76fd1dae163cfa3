"""What a load balancer and Prometheus see: /healthz, /readyz and /metrics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from promostack.db.engine import make_engine, make_session_factory
from promostack.db.updates import store_update
from tests.conftest import make_settings
from tests.fakes.json_http import JsonHandler, serve_in_thread, stop_server
from tests.fakes.ports import free_port
from webapp.app import create_app


class _PrefectHealth(JsonHandler):
    """The one Prefect API route /readyz calls: `GET /api/health` answers `true`."""

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self._send(200 if self.path == "/api/health" else 404, True)


@pytest.fixture
def prefect_api() -> Iterator[str]:
    port = free_port()
    server = serve_in_thread(port, _PrefectHealth)
    yield f"http://127.0.0.1:{port}/api"
    stop_server(server)


def _client(tmp_path: Path, **overrides: object) -> TestClient:
    return TestClient(create_app(make_settings(tmp_path, **overrides)))


def test_healthz_answers_while_the_process_lives(tmp_path: Path, db_url: str) -> None:
    with _client(tmp_path, database_url=db_url) as client:
        assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_ready_when_every_dependency_answers(tmp_path: Path, db_url: str, prefect_api: str) -> None:
    with _client(tmp_path, database_url=db_url, prefect_api_url=prefect_api) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.json()["status"] == "ready"
    assert set(answer.json()["checks"]) == {"database", "storage", "prefect_api"}


def test_readyz_stays_in_the_pool_but_says_degraded_when_prefect_is_down(tmp_path: Path, db_url: str) -> None:
    down = f"http://127.0.0.1:{free_port()}/api"
    with _client(tmp_path, database_url=db_url, prefect_api_url=down) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.json()["status"] == "degraded"
    assert answer.json()["checks"]["prefect_api"]["ok"] is False
    assert answer.json()["checks"]["database"]["ok"] is True


def test_readyz_takes_the_process_out_when_the_database_is_unreachable(tmp_path: Path, prefect_api: str) -> None:
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/promostack"
    with _client(tmp_path, database_url=nowhere, prefect_api_url=prefect_api) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["status"] == "unready"
    assert "OperationalError" in answer.json()["checks"]["database"]["detail"]


def test_readyz_reports_a_bot_telegram_did_not_let_start(tmp_path: Path, db_url: str, prefect_api: str) -> None:
    telegram_down = f"http://127.0.0.1:{free_port()}"
    with _client(
        tmp_path, database_url=db_url, prefect_api_url=prefect_api,
        telegram_bot_token="123:abc", telegram_api_base=telegram_down,
    ) as client:
        answer = client.get("/readyz")
    assert answer.json()["status"] == "degraded"
    assert answer.json()["checks"]["bot:promo"]["ok"] is False


def test_metrics_expose_requests_and_queue_depths_in_prometheus_format(tmp_path: Path, db_url: str) -> None:
    engine = make_engine(db_url)
    store_update(make_session_factory(engine), "promo", 7, {"update_id": 7}, timedelta(seconds=30))
    engine.dispose()
    with _client(tmp_path, database_url=db_url) as client:
        client.get("/healthz")
        client.get("/healthz")
        client.get("/no/such/page")
        text = client.get("/metrics").text
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    healthz = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert samples[("promostack_http_requests_total", healthz)] == 2
    assert samples[("promostack_http_requests_total", (("method", "GET"), ("route", "unmatched"), ("status", "404")))] == 1
    assert samples[("promostack_queue_depth", (("queue", "telegram_updates"),))] == 1
    assert ("promostack_queue_depth", (("queue", "promo_attempts"),)) in samples


def test_metrics_need_the_token_when_one_is_set(tmp_path: Path, db_url: str) -> None:
    with _client(tmp_path, database_url=db_url, metrics_token="s3cret") as client:
        refused = client.get("/metrics")
        allowed = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert refused.status_code == 401 and "promostack_http_requests" not in refused.text
    assert allowed.status_code == 200 and "promostack_http_requests_total" in allowed.text
