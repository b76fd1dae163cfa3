"""Stored Stripe events applied together (`events.process_batch`): in the order they happened,
each once, with the same mirror and ledger as one by one, and a failure kept on its own event."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from promostack.billing import events
from promostack.billing.mrr import NO_FILTER
from promostack.billing.stripe_api import StripeReader
from promostack.db.revenue import CustomerMrr, MrrMovement, StripeEvent, StripeSubscription, StripeSubscriptionItem
from tests.conftest import make_settings
from tests.fakes.stripe_api import FakeStripe, coupon, discount, dumps, event, item, price, signature_header, subscription

SECRET = "whsec_" + "test-endpoint-secret"  # split: no secret-shaped literal
MONTHLY = price("price_m", "prod_a", 1000)
YEARLY = price("price_y", "prod_a", 12000, interval="year")
NOW = int(time.time())


@pytest.fixture
def stripe_fake() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


def stored(engine: Engine, *evts: dict) -> list[str]:
    """Store `evts` as the webhook does (in this arrival order); their ids."""
    for evt in evts:
        raw = dumps(evt)
        assert events.store(engine, raw, json.loads(raw))
    return [evt["id"] for evt in evts]


def movements(sessions: sessionmaker[Session]) -> list[tuple[str, str, float, str]]:
    with sessions() as session:
        rows = session.scalars(select(MrrMovement).order_by(MrrMovement.id))
        return [(m.customer_id, m.kind, m.mrr_after, m.source) for m in rows]


def statuses(sessions: sessionmaker[Session]) -> dict[str, tuple[str, int]]:
    with sessions() as session:
        return {e.id: (e.status, e.attempts) for e in session.scalars(select(StripeEvent))}


def test_a_batch_applies_its_events_in_the_order_they_happened_not_the_order_they_arrived(db_engine: Engine, sessions: sessionmaker[Session]) -> None:
    created = event("evt_1", "customer.subscription.created", subscription("sub_1", "cus_1", [item("si_1", MONTHLY)]), created=NOW - 60)
    grown = event("evt_2", "customer.subscription.updated", subscription("sub_1", "cus_1", [item("si_1", MONTHLY, quantity=3)]), created=NOW - 30)
    shrunk = event("evt_3", "customer.subscription.updated", subscription("sub_1", "cus_1", [item("si_1", MONTHLY, quantity=2)]), created=NOW - 10)
    ids = stored(db_engine, shrunk, created, grown)

    assert events.process_batch(sessions, ids, NO_FILTER, None) == {"evt_1": "processed", "evt_2": "processed", "evt_3": "processed"}

    assert movements(sessions) == [
        ("cus_1", "new", 1000, "evt_1"), ("cus_1", "expansion", 3000, "evt_2"), ("cus_1", "contraction", 2000, "evt_3"),
    ]
    with sessions() as session:
        assert session.scalars(select(StripeSubscriptionItem.quantity)).one() == 2
    assert statuses(sessions) == {"evt_1": ("processed", 1), "evt_2": ("processed", 1), "evt_3": ("processed", 1)}


def test_a_batch_counts_the_customers_subscriptions_already_mirrored(db_engine: Engine, sessions: sessionmaker[Session]) -> None:
    first = stored(db_engine, event("evt_a", "customer.subscription.created", subscription("sub_a", "cus_1", [item("si_a", MONTHLY)]), created=NOW - 90))
    assert events.process(sessions, first[0], NO_FILTER, None) == "processed"
    ids = stored(
        db_engine,
        event("evt_b", "customer.subscription.created", subscription("sub_b", "cus_1", [item("si_b", YEARLY, quantity=2)]), created=NOW - 60),
        event("evt_c", "customer.subscription.created", subscription("sub_c", "cus_2", [item("si_c", MONTHLY)]), created=NOW - 50),
        event("evt_d", "customer.subscription.deleted", subscription("sub_a", "cus_1", [item("si_a", MONTHLY)], status="canceled"), created=NOW - 40),
    )

    events.process_batch(sessions, ids, NO_FILTER, None)

    # cus_1: 1000 (sub_a), + 2 × 12000 / 12 = 3000 (sub_b), − 1000 (sub_a canceled) = 2000.
    assert movements(sessions) == [
        ("cus_1", "new", 1000, "evt_a"), ("cus_1", "expansion", 3000, "evt_b"), ("cus_2", "new", 1000, "evt_c"),
        ("cus_1", "contraction", 2000, "evt_d"),
    ]
    with sessions() as session:
        ledger = {r.customer_id: r.mrr for r in session.scalars(select(CustomerMrr))}
        status = dict(session.execute(select(StripeSubscription.id, StripeSubscription.status)).all())
    assert ledger == {"cus_1": 2000, "cus_2": 1000}
    assert status == {"sub_a": "canceled", "sub_b": "active", "sub_c": "active"}


def test_an_event_older_than_the_mirror_changes_nothing_inside_a_batch(db_engine: Engine, sessions: sessionmaker[Session]) -> None:
    newer = stored(db_engine, event("evt_new", "customer.subscription.updated", subscription("sub_1", "cus_1", [item("si_1", MONTHLY, quantity=3)]), created=NOW - 10))
    events.process(sessions, newer[0], NO_FILTER, None)
    ids = stored(
        db_engine,
        event("evt_old", "customer.subscription.created", subscription("sub_1", "cus_1", [item("si_1", MONTHLY)]), created=NOW - 60),
        event("evt_other", "customer.subscription.created", subscription("sub_2", "cus_2", [item("si_2", MONTHLY)]), created=NOW - 5),
    )

    assert events.process_batch(sessions, ids, NO_FILTER, None) == {"evt_old": "processed", "evt_other": "processed"}

    with sessions() as session:
        assert session.scalars(select(StripeSubscriptionItem.quantity).where(StripeSubscriptionItem.subscription_id == "sub_1")).one() == 3
    assert movements(sessions) == [("cus_1", "new", 3000, "evt_new"), ("cus_2", "new", 1000, "evt_other")]


def test_a_failure_inside_a_batch_leaves_only_that_event_failed(db_engine: Engine, sessions: sessionmaker[Session], stripe_fake: FakeStripe, tmp_path: Path) -> None:
    reader = StripeReader(make_settings(tmp_path, stripe_secret_key=stripe_fake.api_key, stripe_api_base=stripe_fake.base_url))
    # Its discounts are named by id, and Stripe does not know the subscription: it cannot be applied.
    broken = subscription("sub_2", "cus_2", [item("si_2", MONTHLY)], discounts=[discount("di_2", coupon("co_2", "forever", percent_off=50))])
    ids = stored(
        db_engine,
        event("evt_1", "customer.subscription.created", subscription("sub_1", "cus_1", [item("si_1", MONTHLY)]), created=NOW - 30),
        event("evt_2", "customer.subscription.created", broken, created=NOW - 20),
        event("evt_3", "customer.subscription.created", subscription("sub_3", "cus_3", [item("si_3", MONTHLY)]), created=NOW - 10),
    )

    outcome = events.process_batch(sessions, ids, NO_FILTER, reader)

    assert outcome == {"evt_1": "processed", "evt_2": "failed", "evt_3": "processed"}
    assert statuses(sessions) == {"evt_1": ("processed", 1), "evt_2": ("failed", 1), "evt_3": ("processed", 1)}
    with sessions() as session:
        assert "No such subscription" in session.get(StripeEvent, "evt_2").last_error
        assert sorted(session.scalars(select(StripeSubscription.id))) == ["sub_1", "sub_3"]
    assert movements(sessions) == [("cus_1", "new", 1000, "evt_1"), ("cus_3", "new", 1000, "evt_3")]


def test_events_already_applied_are_left_out_of_a_batch(db_engine: Engine, sessions: sessionmaker[Session]) -> None:
    ids = stored(
        db_engine,
        event("evt_1", "customer.subscription.created", subscription("sub_1", "cus_1", [item("si_1", MONTHLY)]), created=NOW - 30),
        event("evt_2", "customer.subscription.created", subscription("sub_2", "cus_2", [item("si_2", MONTHLY)]), created=NOW - 20),
    )
    events.process(sessions, "evt_1", NO_FILTER, None)

    assert events.process_batch(sessions, ids, NO_FILTER, None) == {"evt_2": "processed"}
    assert statuses(sessions) == {"evt_1": ("processed", 1), "evt_2": ("processed", 1)}
    assert [m[3] for m in movements(sessions)] == ["evt_1", "evt_2"]


def test_a_burst_of_deliveries_is_acknowledged_and_each_event_applied_once(tmp_path: Path, db_url: str, sessions: sessionmaker[Session]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from webapp.app import create_app

    bodies = [
        dumps(event(f"evt_{i}", "customer.subscription.created", subscription(f"sub_{i}", f"cus_{i % 7}", [item(f"si_{i}", MONTHLY)])))
        for i in range(40)
    ]
    with TestClient(create_app(make_settings(tmp_path, database_url=db_url, stripe_webhook_secret=SECRET))) as client:
        def deliver(body: bytes) -> int:
            headers = {"Stripe-Signature": signature_header(body, SECRET), "Content-Type": "application/json"}
            return client.post("/stripe/webhook", content=body, headers=headers).status_code

        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(deliver, bodies + bodies[:5]))
        deadline = time.monotonic() + 60  # SQLite's writers queue on its one lock: slow under load, not stuck
        while client.app.state.stripe_applier.pending and time.monotonic() < deadline:
            time.sleep(0.01)

    assert set(answers) == {200}
    assert set(statuses(sessions).values()) == {("processed", 1)} and len(statuses(sessions)) == 40
    with sessions() as session:
        ledger = {r.customer_id: r.mrr for r in session.scalars(select(CustomerMrr))}
    # 40 subscriptions of 1000 over 7 customers: cus_0 … cus_4 hold 6 each, cus_5 and cus_6 hold 5.
    assert ledger == {f"cus_{c}": 1000 * (6 if c < 5 else 5) for c in range(7)}
    assert len(movements(sessions)) == 40
