"""The Analytics JSON API: views and CSV over the export, clear refusals, the export trigger."""

from __future__ import annotations

import csv
import io

from promostack.db import make_engine
from tests.integration.admin_support import admin, app_client  # noqa: F401 - fixtures
from tests.integration.analytics_world import NOW, add_events, event, export_recent


def exported(client, db_url: str, rows: list[dict]) -> None:
    engine = make_engine(db_url)
    try:
        add_events(engine, rows)
        export_recent(engine, client.app.state.runtime.store)
    finally:
        engine.dispose()


def test_views_answer_json_from_the_export(admin, db_url) -> None:
    client, _ = admin
    exported(client, db_url, [event(NOW, coupon_code="SPRING"), event(NOW, success=False, coupon_code="SPRING")])
    kpis = client.get("/admin/api/analytics/kpis?range=24h").json()
    assert kpis["current"]["generations"] == 2
    assert client.get("/admin/api/analytics/series?range=7d").json()["bucket"] == "day"
    assert client.get("/admin/api/analytics/coupons?range=7d&q=spr").json()["coupons"][0]["attempts"] == 2
    status = client.get("/admin/api/analytics/status").json()
    assert status["version"] == 1 and status["exported_at"]


def test_tables_download_as_csv(admin, db_url) -> None:
    client, _ = admin
    exported(client, db_url, [event(NOW, template_slug="gold"), event(NOW, template_slug="gold", success=False)])
    answer = client.get("/admin/api/analytics/templates?range=24h&format=csv")
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert list(csv.DictReader(io.StringIO(answer.text))) == [
        {"name": "gold", "attempts": "2", "successes": "1", "success_rate": "0.5"}
    ]


def test_a_bad_range_or_page_is_refused_with_the_reason(admin) -> None:
    client, _ = admin
    answer = client.get("/admin/api/analytics/kpis?range=forever")
    assert answer.status_code == 422 and "range" in answer.json()["message"]
    answer = client.get("/admin/api/analytics/coupons?range=7d&page=abc")
    assert answer.status_code == 422 and "page" in answer.json()["message"]


def test_views_need_a_session(app_client) -> None:
    assert app_client.get("/admin/api/analytics/kpis").status_code == 401


def test_refresh_without_prefect_says_why_and_needs_csrf(admin) -> None:
    client, token = admin
    assert client.post("/admin/api/analytics/export").status_code == 403
    answer = client.post("/admin/api/analytics/export", headers={"X-CSRF-Token": token})
    assert answer.status_code == 503 and "Prefect" in answer.json()["message"]
