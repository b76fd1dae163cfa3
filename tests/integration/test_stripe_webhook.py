"""`POST /stripe/webhook`: real signatures, stored once, applied after the answer, order-safe."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from promostack.db.engine import make_engine, make_session_factory
from promostack.db.revenue import MrrMovement, StripeEvent, StripeInvoice, StripeSubscriptionItem
from tests.conftest import make_settings
from tests.fakes.stripe_api import (
    FakeStripe,
    coupon,
    discount,
    dumps,
    event,
    invoice,
    item,
    price,
    signature_header,
    subscription,
)

SECRET = "whsec_" + "test-endpoint-secret"  # split: no secret-shaped literal
MONTHLY = price("price_m", "prod_a", 1000)


@pytest.fixture
def stripe_fake() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def client(tmp_path: Path, db_url: str, stripe_fake: FakeStripe) -> Iterator[TestClient]:
    from webapp.app import create_app

    settings = make_settings(
        tmp_path,
        database_url=db_url,
        stripe_webhook_secret=SECRET,
        stripe_secret_key=stripe_fake.api_key,
        stripe_api_base=stripe_fake.base_url,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def db(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def deliver(client: TestClient, evt: dict, secret: str = SECRET, timestamp: int | None = None) -> httpx.Response:
    body = dumps(evt)
    headers = {"Stripe-Signature": signature_header(body, secret, timestamp), "Content-Type": "application/json"}
    answer = client.post("/stripe/webhook", content=body, headers=headers)
    settle(client)
    return answer


def settle(client: TestClient, timeout_s: float = 15.0) -> None:
    """Wait until the app has applied every event it accepted (each is applied beside its request)."""
    deadline = time.monotonic() + timeout_s
    applier = getattr(client.app.state, "stripe_applier", None)
    while applier is not None and applier.pending and time.monotonic() < deadline:
        time.sleep(0.01)


def count(db: sessionmaker[Session], model: type) -> int:
    with db() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_signed_subscription_event_is_stored_and_mirrored_with_its_mrr(client: TestClient, db: sessionmaker[Session]) -> None:
    sub = subscription("sub_1", "cus_1", [item("si_1", MONTHLY, quantity=2)])
    answer = deliver(client, event("evt_1", "customer.subscription.created", sub))
    assert answer.status_code == 200 and answer.json() == {"received": True}
    with db() as session:
        stored = session.get(StripeEvent, "evt_1")
        movement = session.scalars(select(MrrMovement)).one()
    assert stored.status == "processed" and '"customer.subscription.created"' in stored.payload
    assert (movement.customer_id, movement.kind, movement.mrr_after) == ("cus_1", "new", 2000)


def test_a_wrong_signature_is_refused_and_nothing_is_stored(client: TestClient, db: sessionmaker[Session]) -> None:
    sub = subscription("sub_1", "cus_1", [item("si_1", MONTHLY)])
    answer = deliver(client, event("evt_1", "customer.subscription.created", sub), secret="whsec_" + "someone-else")
    assert answer.status_code == 400 and "signature" in answer.json()["message"]
    assert count(db, StripeEvent) == 0


def test_a_missing_signature_is_refused(client: TestClient, db: sessionmaker[Session]) -> None:
    answer = client.post("/stripe/webhook", content=dumps(event("evt_1", "customer.created", {"id": "cus_1", "object": "customer"})))
    assert answer.status_code == 400 and count(db, StripeEvent) == 0


def test_a_stale_signature_is_refused_as_a_replay(client: TestClient, db: sessionmaker[Session]) -> None:
    sub = subscription("sub_1", "cus_1", [item("si_1", MONTHLY)])
    answer = deliver(client, event("evt_1", "customer.subscription.created", sub), timestamp=int(time.time()) - 600)
    assert answer.status_code == 400 and "timestamp" in answer.json()["message"].lower()
    assert count(db, StripeEvent) == 0


def test_a_duplicate_delivery_is_acknowledged_and_applied_once(client: TestClient, db: sessionmaker[Session]) -> None:
    evt = event("evt_1", "customer.subscription.created", subscription("sub_1", "cus_1", [item("si_1", MONTHLY)]))
    assert deliver(client, evt).json() == {"received": True}
    again = deliver(client, evt)
    assert again.status_code == 200 and again.json() == {"received": True, "duplicate": True}
    assert count(db, StripeEvent) == 1 and count(db, MrrMovement) == 1


def test_an_older_event_arriving_late_never_overwrites_newer_state(client: TestClient, db: sessionmaker[Session]) -> None:
    now = int(time.time())
    newer = subscription("sub_1", "cus_1", [item("si_1", MONTHLY, quantity=3)])
    older = subscription("sub_1", "cus_1", [item("si_1", MONTHLY, quantity=1)])
    deliver(client, event("evt_2", "customer.subscription.updated", newer, created=now - 10))
    assert deliver(client, event("evt_1", "customer.subscription.created", older, created=now - 60)).status_code == 200
    with db() as session:
        assert session.scalars(select(StripeSubscriptionItem.quantity)).one() == 3
        assert [m.mrr_after for m in session.scalars(select(MrrMovement))] == [3000]
        assert session.get(StripeEvent, "evt_1").status == "processed"


def test_discounts_named_by_id_are_read_from_stripe_with_their_coupons(client: TestClient, db: sessionmaker[Session], stripe_fake: FakeStripe) -> None:
    sub = subscription("sub_1", "cus_1", [item("si_1", MONTHLY)], discounts=[discount("di_1", coupon("co_1", "forever", percent_off=20))])
    stripe_fake.put(sub)
    deliver(client, event("evt_1", "customer.subscription.created", sub))  # the payload carries "di_1" only
    with db() as session:
        assert session.scalars(select(MrrMovement.mrr_after)).one() == 800
    assert ("GET", "/v1/subscriptions/sub_1") in [(m, p) for m, p, _ in stripe_fake.requests]


def test_when_applying_fails_the_event_is_kept_as_failed_with_the_reason(client: TestClient, db: sessionmaker[Session], stripe_fake: FakeStripe) -> None:
    sub = subscription("sub_1", "cus_1", [item("si_1", MONTHLY)], discounts=[discount("di_1", coupon("co_1", "forever", percent_off=20))])
    stripe_fake.put(sub)
    stripe_fake.fail_next(500, times=3)  # the first try and the client's two retries
    answer = deliver(client, event("evt_1", "customer.subscription.created", sub))
    assert answer.status_code == 200  # acknowledged: the event is safe in the database
    with db() as session:
        stored = session.get(StripeEvent, "evt_1")
    assert stored.status == "failed" and "Stripe failed" in stored.last_error and stored.attempts == 1
    assert count(db, MrrMovement) == 0


def test_a_failed_renewal_payment_is_recorded_once_per_invoice(client: TestClient, db: sessionmaker[Session], stripe_fake: FakeStripe) -> None:
    deliver(client, event("evt_s", "customer.subscription.created", subscription("sub_1", "cus_1", [item("si_1", MONTHLY)])))
    failed = invoice("in_1", "cus_1", "sub_1", 1000, status="open", attempt_count=1)
    deliver(client, event("evt_f1", "invoice.payment_failed", failed))
    deliver(client, event("evt_f2", "invoice.payment_failed", {**failed, "attempt_count": 2}))
    deliver(client, event("evt_p", "invoice.paid", invoice("in_1", "cus_1", "sub_1", 1000, attempt_count=3)))
    with db() as session:
        row = session.get(StripeInvoice, "in_1")
    assert row.status == "paid" and row.payment_failed_at is not None and row.amount_paid == 1000


def test_an_invoice_for_an_unknown_subscription_brings_the_subscription_from_stripe(client: TestClient, db: sessionmaker[Session], stripe_fake: FakeStripe) -> None:
    stripe_fake.put(subscription("sub_9", "cus_9", [item("si_9", MONTHLY)]))
    deliver(client, event("evt_p", "invoice.paid", invoice("in_9", "cus_9", "sub_9", 1000)))
    with db() as session:
        assert session.scalars(select(MrrMovement.customer_id)).one() == "cus_9"


def test_an_oversized_body_is_refused_unread(client: TestClient, db: sessionmaker[Session]) -> None:
    answer = client.post("/stripe/webhook", content=b"x" * (1024 * 1024 + 1), headers={"Stripe-Signature": "t=1,v1=00"})
    assert answer.status_code == 413 and count(db, StripeEvent) == 0


def test_without_a_webhook_secret_the_endpoint_says_it_is_not_configured(tmp_path: Path, db_url: str) -> None:
    from webapp.app import create_app

    with TestClient(create_app(make_settings(tmp_path, database_url=db_url))) as plain:
        answer = plain.post("/stripe/webhook", content=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
    assert answer.status_code == 503 and "STRIPE_WEBHOOK_SECRET" in answer.json()["message"]


def test_signature_helper_matches_the_stripe_library() -> None:
    import stripe

    body = dumps({"id": "evt_x"})
    assert signature_header(body, SECRET, 1_700_000_000) == stripe.WebhookSignature.generate_signature_header(
        body.decode(), SECRET, 1_700_000_000
    )


def test_refund_and_catalogue_events_are_mirrored_and_unknown_types_ignored(client: TestClient, db: sessionmaker[Session]) -> None:
    from promostack.db.revenue import StripeProduct, StripeRefund
    from tests.fakes.stripe_api import product, refund

    deliver(client, event("evt_r", "refund.created", refund("re_1", 700, payment_intent="pi_1")))
    deliver(client, event("evt_p", "product.deleted", product("prod_old", "Legacy")))
    deliver(client, event("evt_x", "payment_intent.created", {"id": "pi_1", "object": "payment_intent"}))
    with db() as session:
        assert (session.get(StripeRefund, "re_1").amount, session.get(StripeProduct, "prod_old").active) == (700, False)
        assert session.get(StripeEvent, "evt_x").status == "ignored"
