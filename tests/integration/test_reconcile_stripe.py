"""The `reconcile-stripe` flow against a fake Stripe the real SDK talks to: backfill, drift, 429s,
failed events retried, and the daily snapshot."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from promostack.billing import events
from promostack.billing.mrr import NO_FILTER
from promostack.billing.stripe_api import StripeReader
from promostack.billing.sync import sync_resource
from promostack.db.engine import session_scope
from promostack.db.revenue import MrrMovement, MrrSnapshot, StripeEvent, StripeSubscription, StripeSyncState
from promostack.errors import DependencyError
from promostack.runtime import Runtime, build_runtime, install_runtime
from tests.conftest import make_settings
from tests.fakes.stripe_api import (
    NOW,
    FakeStripe,
    coupon,
    customer,
    discount,
    dumps,
    event,
    invoice,
    item,
    price,
    product,
    refund,
    subscription,
)

MONTHLY = price("price_m", "prod_a", 1000)
YEARLY = price("price_y", "prod_a", 12000, interval="year")


@dataclass
class World:
    runtime: Runtime
    stripe: FakeStripe

    def rows(self, model: type) -> list:
        with self.runtime.sessions() as session:
            return list(session.scalars(select(model)))


@pytest.fixture
def stripe_fake() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        fake.put(product("prod_a", "Pro"), MONTHLY, YEARLY, customer("cus_1"), customer("cus_2"))
        fake.put(
            subscription("sub_1", "cus_1", [item("si_1", MONTHLY)]),
            subscription("sub_2", "cus_2", [item("si_2", YEARLY)]),
            invoice("in_1", "cus_1", "sub_1", 1000, payment_intent="pi_1"),
            refund("re_1", 400, payment_intent="pi_1"),
        )
        yield fake


@pytest.fixture
def world(db_url: str, tmp_path: Path, stripe_fake: FakeStripe, prefect_harness: None) -> Iterator[World]:
    settings = make_settings(
        tmp_path, database_url=db_url, stripe_secret_key=stripe_fake.api_key, stripe_api_base=stripe_fake.base_url
    )
    runtime = build_runtime(settings)
    with install_runtime(runtime):
        yield World(runtime, stripe_fake)
    runtime.close()


async def test_the_first_run_fills_the_mirror_without_calling_anything_drift(world: World) -> None:
    from flows.reconcile_stripe import reconcile_stripe

    report = await reconcile_stripe()
    assert report.fetched == {"products": 1, "prices": 2, "customers": 2, "subscriptions": 2, "invoices": 1, "refunds": 1}
    assert report.drift == [] and report.movements == 2  # cus_1 and cus_2 are new
    assert {s.id for s in world.rows(StripeSubscription)} == {"sub_1", "sub_2"}
    assert world.stripe.list_requests("subscriptions")[0]["status"] == "all"


async def test_what_webhooks_missed_is_mirrored_and_reported_as_drift(world: World) -> None:
    from flows.reconcile_stripe import reconcile_stripe

    await reconcile_stripe()
    first_pass_started = world.rows(StripeSyncState)[0].watermark
    # Three webhooks never arrived: an upgrade, a cancellation and a renewal invoice.
    world.stripe.put(
        subscription("sub_1", "cus_1", [item("si_1", MONTHLY, quantity=3)]),
        subscription("sub_2", "cus_2", [item("si_2", YEARLY)], status="canceled"),
        invoice("in_2", "cus_1", "sub_1", 3000, created=int(time.time())),
    )
    report = await reconcile_stripe()
    found = {(d.object, d.id, d.field, d.mirror, d.stripe) for d in report.drift}
    assert found == {
        ("subscription", "sub_1", "items", "price_m×1", "price_m×3"),
        ("subscription", "sub_2", "status", "active", "canceled"),
        ("invoice", "in_2", "(missing)", None, "paid"),
    }
    kinds = sorted((m.customer_id, m.kind) for m in world.rows(MrrMovement) if m.source == "reconcile" and m.kind != "new")
    assert kinds == [("cus_1", "expansion"), ("cus_2", "churn")]
    # Invoices are read from the last pass's start minus the overlap, not from the beginning.
    since = world.stripe.list_requests("invoices")[-1]["created"]["gte"]
    assert int(since) == int((first_pass_started - timedelta(hours=72)).timestamp())


async def test_rate_limits_are_waited_out_and_the_run_completes(world: World) -> None:
    from flows.reconcile_stripe import reconcile_stripe

    world.stripe.fail_next(429, times=2, path="/v1/subscriptions")
    report = await reconcile_stripe()
    assert report.fetched["subscriptions"] == 2
    assert len(world.stripe.list_requests("subscriptions")) == 3  # two refused, then the page


async def test_an_event_that_failed_to_apply_is_applied_by_the_next_reconcile(world: World) -> None:
    from flows.reconcile_stripe import reconcile_stripe

    sub = subscription("sub_3", "cus_3", [item("si_3", MONTHLY)], discounts=[discount("di_3", coupon("co_3", "forever", percent_off=50))])
    raw = dumps(event("evt_3", "customer.subscription.created", sub))
    rt = world.runtime
    assert events.store(rt.engine, raw, json.loads(raw))
    world.stripe.fail_next(503, times=3)  # Stripe down while the webhook applied it
    assert events.process(rt.sessions, "evt_3", NO_FILTER, StripeReader(rt.settings)) == "failed"
    world.stripe.put(sub)

    report = await reconcile_stripe()
    assert report.events_retried["processed"] == 1
    (stored,) = world.rows(StripeEvent)
    assert (stored.status, stored.attempts) == ("processed", 2)
    mine = [m for m in world.rows(MrrMovement) if m.customer_id == "cus_3"]
    assert [(m.kind, m.mrr_after, m.source) for m in mine] == [("new", 500, "evt_3")]


async def test_without_stripe_keys_the_flow_says_so_and_reads_nothing(db_url: str, tmp_path: Path, prefect_harness: None) -> None:
    from flows.reconcile_stripe import reconcile_stripe

    runtime = build_runtime(make_settings(tmp_path, database_url=db_url))
    with install_runtime(runtime):
        report = await reconcile_stripe()
    runtime.close()
    assert report.configured is False


async def test_the_daily_snapshot_keeps_mrr_per_currency_and_product(world: World) -> None:
    from flows.reconcile_stripe import reconcile_stripe
    from flows.revenue_snapshot import revenue_snapshot

    await reconcile_stripe()
    day = datetime.now(timezone.utc).date()
    report = await revenue_snapshot()
    assert (report.day, report.rows) == (day, 2)
    rows = {(r.product_id, r.mrr, r.subscribers) for r in world.rows(MrrSnapshot)}
    assert rows == {("", 1000 + 1000, 2), ("prod_a", 2000, 2)}


def test_a_pass_cut_short_by_rate_limits_resumes_after_its_last_stored_page(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with FakeStripe() as fake:
        fake.put(*[subscription(f"sub_{i:03d}", f"cus_{i}", [item(f"si_{i}", MONTHLY)], created=NOW + i) for i in range(250)])
        settings = make_settings(tmp_path, stripe_secret_key=fake.api_key, stripe_api_base=fake.base_url)
        impatient = StripeReader(settings, pauses=())  # gives up at the first 429
        now = datetime.now(timezone.utc)
        fake.fail_next(429, times=1, path="/v1/subscriptions", after=1)
        with pytest.raises(DependencyError, match="rate-limiting"):
            sync_resource(sessions, impatient, "subscriptions", now, timedelta(hours=1))
        with sessions() as session:
            state = session.get(StripeSyncState, "subscriptions")
            assert state.cursor == "sub_150" and state.watermark is None  # newest first: 249 … 150 stored
            assert len(session.scalars(select(StripeSubscription.id)).all()) == 100

        result = sync_resource(sessions, impatient, "subscriptions", now, timedelta(hours=1))
        assert (result.resumed_from, result.fetched) == ("sub_150", 150)
        assert fake.list_requests("subscriptions")[-2]["starting_after"] == "sub_150"
        with session_scope(sessions) as session:
            state = session.get(StripeSyncState, "subscriptions")
            assert state.cursor is None and state.watermark is not None
            assert len(session.scalars(select(StripeSubscription.id)).all()) == 250
