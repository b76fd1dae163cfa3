"""The Revenue page's API: figures from the mirror only, honest without Stripe keys, product filter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from promostack.billing.mrr import RevenueFilter
from tests.fakes.stripe_api import FakeStripe
from tests.integration.admin_support import admin_settings, log_in
from tests.integration.revenue_world import seed

WEBHOOK_SECRET = "whsec_" + "admin-tests"


@pytest.fixture
def stripe_fake() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


def client_for(tmp_path: Path, db_url: str, fake: FakeStripe | None, **overrides: object) -> TestClient:
    from webapp.app import create_app

    keys = {"stripe_secret_key": fake.api_key, "stripe_api_base": fake.base_url, "stripe_webhook_secret": WEBHOOK_SECRET} if fake else {}
    return TestClient(create_app(admin_settings(tmp_path, db_url, **keys, **overrides)))


def test_without_stripe_keys_the_page_says_what_to_set_and_shows_no_numbers(tmp_path: Path, db_url: str) -> None:
    with client_for(tmp_path, db_url, None) as client:
        log_in(client)
        data = client.get("/admin/api/revenue").json()
    assert data == {"configured": False, "missing": ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]}


def test_the_page_reads_the_mirror_and_never_asks_stripe(tmp_path: Path, db_url: str, stripe_fake: FakeStripe) -> None:
    seed(db_url)
    with client_for(tmp_path, db_url, stripe_fake) as client:
        log_in(client)
        data = client.get("/admin/api/revenue").json()
    assert stripe_fake.requests == []
    kpis = {k["currency"]: k for k in data["kpis"]}
    assert (kpis["usd"]["mrr"], kpis["usd"]["subscribers"], kpis["usd"]["arpu"]) == (2000 + 4 * 500, 2, 2000)
    assert (kpis["eur"]["mrr"], kpis["eur"]["arr"]) == (1000, 12000)
    assert kpis["usd"]["net_new_mrr_this_month"] == 4000 and kpis["usd"]["ltv"] is None  # nobody churned
    assert [(r["rebills"], r["rebill_amount"], r["failed_rebills"], r["refund_amount"]) for r in data["rebills"]] == [(1, 2000, 1, 500)]
    assert [f["id"] for f in data["failed_payments"]] == ["in_2"]
    assert {(p["currency"], p["mrr"]) for p in data["chart"]} == {("usd", 4000), ("eur", 1000)}
    assert {p["id"] for p in data["products"]} == {"prod_a", "prod_b"}


def test_filtering_by_product_narrows_mrr_and_rebills(tmp_path: Path, db_url: str, stripe_fake: FakeStripe) -> None:
    seed(db_url)
    with client_for(tmp_path, db_url, stripe_fake) as client:
        log_in(client)
        data = client.get("/admin/api/revenue?product=prod_b").json()
    assert [(k["currency"], k["mrr"], k["subscribers"]) for k in data["kpis"]] == [("usd", 2000, 1)]
    assert data["movements"] is None  # kept for all products together
    assert [f["id"] for f in data["failed_payments"]] == ["in_2"] and data["recent_rebills"] == []
    assert data["refunds"] == []  # the refund belongs to prod_a's invoice


def test_configured_filters_hide_other_products_and_refuse_them_by_name(tmp_path: Path, db_url: str, stripe_fake: FakeStripe) -> None:
    seed(db_url, RevenueFilter.of(product_ids="prod_a"))
    with client_for(tmp_path, db_url, stripe_fake, stripe_product_ids="prod_a") as client:
        log_in(client)
        data = client.get("/admin/api/revenue").json()
        refused = client.get("/admin/api/revenue?product=prod_b")
    assert [p["id"] for p in data["products"]] == ["prod_a"] and data["filters"]["product_ids"] == ["prod_a"]
    assert {(k["currency"], k["mrr"]) for k in data["kpis"]} == {("usd", 2000), ("eur", 1000)}
    assert [r["failed_rebills"] for r in data["rebills"]] == [0]  # the failed renewal is prod_b's
    assert refused.status_code == 422 and "STRIPE_PRODUCT_IDS" in refused.json()["message"]


def test_the_revenue_api_needs_a_session(tmp_path: Path, db_url: str, stripe_fake: FakeStripe) -> None:
    with client_for(tmp_path, db_url, stripe_fake) as client:
        assert client.get("/admin/api/revenue").status_code == 401
        assert client.post("/admin/api/revenue/reconcile").status_code in (401, 403)


def test_reconcile_on_demand_says_when_the_deployment_is_not_registered(
    tmp_path: Path, db_url: str, stripe_fake: FakeStripe, prefect_harness: None
) -> None:
    with client_for(tmp_path, db_url, stripe_fake) as client:
        token = log_in(client)
        answer = client.post("/admin/api/revenue/reconcile", headers={"X-CSRF-Token": token})
    assert answer.status_code == 503 and "no deployment reconcile-stripe" in answer.json()["message"]
