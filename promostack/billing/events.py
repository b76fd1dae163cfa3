"""Stripe webhook events: verify, store once, apply to the mirror, and keep failures for a retry.

The webhook verifies the signature, stores the event (its id is the primary key, so a
duplicate delivery stores nothing and is acknowledged), answers at once, and applies it after.
Applying is idempotent (the mirror refuses older state), so applying twice changes nothing.
An event whose application fails stays `failed` with the reason; the reconcile flow applies
it again later. Events waiting together are applied as a batch (`process_batch`): one
transaction, in the order they happened, with the rows they touch locked and loaded up front;
if any of them fails, the batch is undone and each event applied on its own, so the failure
stays with its event. An event that was stored but never applied (the process died after the
answer) stays `received`, and the reconcile flow picks it up the same way.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from typing import Protocol

import stripe
from sqlalchemy import Engine, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from promostack.billing import batch, mirror
from promostack.billing.mrr import RevenueFilter
from promostack.billing.objects import JsonObject, discounts_expanded, invoice_subscription_id, object_id, ts
from promostack.db.engine import lock_database_for_writing, session_scope
from promostack.db.revenue import StripeEvent, StripeSubscription
from promostack.errors import DependencyError, InvalidInput, NotFound

log = logging.getLogger(__name__)

#: Stripe's own default: a signature older than five minutes is refused (replay protection).
SIGNATURE_TOLERANCE_S = 300
DONE = ("processed", "ignored")


class SubscriptionSource(Protocol):
    """What applying an event may need from Stripe: a subscription with its coupons expanded."""

    def subscription(self, subscription_id: str) -> JsonObject: ...


def verify(raw: bytes, signature: str | None, secret: str, tolerance_s: int = SIGNATURE_TOLERANCE_S) -> JsonObject:
    """The event in `raw`, once its `Stripe-Signature` proves it is Stripe's and recent.

    Raises InvalidInput for a missing, wrong or stale signature, or a body that is not an event.
    """
    try:
        stripe.Webhook.construct_event(raw, signature, secret, tolerance=tolerance_s)
    except stripe.SignatureVerificationError as exc:
        raise InvalidInput(f"the Stripe signature does not verify: {exc.user_message}") from None
    except ValueError:
        raise InvalidInput("the body is not a JSON Stripe event") from None
    # The verified bytes as plain JSON: the SDK's object graph costs twice the verification to
    # turn back into dicts, and nothing here needs it.
    data = json.loads(raw)
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str) or "data" not in data:
        raise InvalidInput("the body is not a Stripe event (id, type and data are required)")
    return data


def store(engine: Engine, raw: bytes, event: JsonObject) -> bool:
    """Store the event; True when it is new, False for a duplicate delivery (nothing changes)."""
    values = {
        "id": event["id"],
        "type": event["type"],
        "created": ts(event.get("created")) or datetime.now(timezone.utc),
        "livemode": bool(event.get("livemode")),
        "payload": raw.decode("utf-8"),
        "status": "received",
        "attempts": 0,
        "received_at": datetime.now(timezone.utc),
    }
    insert = postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert
    # One statement on a connection, not a session: no unit of work to set up for it (a session
    # doubled the CPU this costs each delivery, and the webhook's answer waits on it).
    with engine.begin() as conn:
        result = conn.execute(insert(StripeEvent).values(**values).on_conflict_do_nothing(index_elements=["id"]))
        return result.rowcount == 1


def _subscription_from_stripe(source: SubscriptionSource | None, subscription_id: str, why: str) -> JsonObject:
    if source is None:
        raise DependencyError(f"{why}, and STRIPE_SECRET_KEY is not set to fetch subscription {subscription_id}")
    return source.subscription(subscription_id)


def apply(session: Session, event: JsonObject, flt: RevenueFilter, source: SubscriptionSource | None) -> str:
    """Apply one event to the mirror: "processed", or "ignored" for objects not mirrored."""
    obj = event["data"]["object"]
    kind, created, at = obj.get("object"), int(event["created"]), ts(event["created"])
    if kind == "subscription":
        stamp = created
        if not discounts_expanded(obj):
            # Payloads carry discount ids; MRR needs their coupons: read the subscription as it is now.
            obj, stamp = _subscription_from_stripe(source, obj["id"], "the event names discounts by id"), int(time.time())
        if mirror.upsert_subscription(session, obj, stamp).applied:
            mirror.refresh_customer_mrr(session, flt, at, event["id"], [object_id(obj["customer"])])
        return "processed"
    if kind == "invoice":
        failed_at = at if event["type"] == "invoice.payment_failed" else None
        mirror.upsert_invoice(session, obj, created, payment_failed_at=failed_at)
        subscription_id = invoice_subscription_id(obj)
        if subscription_id and session.get(StripeSubscription, subscription_id) is None:
            # Filters need to know what the invoice bills; its subscription's own event may come later.
            sub = _subscription_from_stripe(source, subscription_id, "the invoice's subscription is not mirrored yet")
            mirror.upsert_subscription(session, sub, int(time.time()))
            mirror.refresh_customer_mrr(session, flt, at, event["id"], [object_id(sub["customer"])])
        return "processed"
    deleted = event["type"].endswith(".deleted")
    if kind == "refund":
        mirror.upsert_refund(session, obj, created)
    elif kind == "customer":
        mirror.upsert_customer(session, {**obj, "deleted": deleted or obj.get("deleted")}, created)
    elif kind == "product":
        mirror.upsert_product(session, {**obj, "active": obj.get("active") and not deleted}, created)
    elif kind == "price":
        mirror.upsert_price(session, {**obj, "active": obj.get("active") and not deleted}, created)
    else:
        return "ignored"
    return "processed"


def process(
    sessions: sessionmaker[Session], event_id: str, flt: RevenueFilter, source: SubscriptionSource | None
) -> str:
    """Apply a stored event once: its final status ("processed", "ignored" or "failed").

    A failure of any kind is recorded on the event (`failed`, the reason, one more attempt) and
    not raised: the event is kept and the reconcile flow applies it again. A write that collides
    with another applier's is tried once more at once: the same new row written first (a
    customer's first ledger row has no row to lock yet) or a deadlock; the second try sees the
    other's committed row.
    """
    for tries_left in (1, 0):
        try:
            return _process_once(sessions, event_id, flt, source)
        except NotFound:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is kept on the event for the retry
            if tries_left and isinstance(exc, (IntegrityError, OperationalError)):
                continue
            return _keep_failed(sessions, event_id, exc)
    raise AssertionError("unreachable: the last try returns")


def _process_once(
    sessions: sessionmaker[Session], event_id: str, flt: RevenueFilter, source: SubscriptionSource | None
) -> str:
    with session_scope(sessions) as session:
        lock_database_for_writing(session)
        row = session.get(StripeEvent, event_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no stored Stripe event {event_id}")
        if row.status in DONE:
            return row.status
        row.status = apply(session, json.loads(row.payload), flt, source)
        row.attempts += 1
        row.last_error = None
        row.processed_at = datetime.now(timezone.utc)
        return row.status


def _keep_failed(sessions: sessionmaker[Session], event_id: str, exc: Exception) -> str:
    """Record why the event failed (one more attempt); "failed"."""
    reason = f"{exc.__class__.__name__}: {exc}"[:2000]
    log.warning("Stripe event %s not applied (kept for a retry): %s", event_id, reason)
    with session_scope(sessions) as session:
        row = session.get(StripeEvent, event_id, with_for_update=True)
        if row is not None and row.status not in DONE:
            row.status, row.last_error, row.attempts = "failed", reason, row.attempts + 1
    return "failed"


def _batch_touches(payloads: list[JsonObject]) -> tuple[set[str], set[str]]:
    """(subscription ids, customer ids) the subscription events of a batch write."""
    subs, customers = set(), set()
    for event in payloads:
        obj = event["data"]["object"]
        if obj.get("object") == "subscription" and obj.get("id") and obj.get("customer"):
            subs.add(obj["id"])
            customers.add(object_id(obj["customer"]))
    return subs, customers


def process_batch(
    sessions: sessionmaker[Session], event_ids: list[str], flt: RevenueFilter, source: SubscriptionSource | None
) -> dict[str, str]:
    """Apply stored events together: the final status of each one this call applied.

    One transaction: the events not yet done are claimed (`FOR UPDATE SKIP LOCKED`: one being
    applied elsewhere is left to it), applied oldest first (`created`, then the order of
    `event_ids`: arrival), and marked in one statement per outcome. If applying any of them
    fails, the whole batch is rolled back and each event goes through `process` on its own, so
    only the one that fails is kept `failed`.
    """
    if len(event_ids) == 1:
        return {event_ids[0]: process(sessions, event_ids[0], flt, source)}
    arrival = {event_id: n for n, event_id in enumerate(event_ids)}
    try:
        with session_scope(sessions) as session:
            lock_database_for_writing(session)
            claim = (
                select(StripeEvent.id, StripeEvent.created, StripeEvent.payload)
                .where(StripeEvent.id.in_(event_ids), StripeEvent.status.not_in(DONE))
                .with_for_update(skip_locked=True)
            )
            rows = sorted(session.execute(claim), key=lambda r: (r.created, arrival[r.id]))
            payloads = [json.loads(r.payload) for r in rows]
            batch.begin(session, mirror.lock_for_batch(session, *_batch_touches(payloads)))
            try:
                statuses = {row.id: apply(session, payload, flt, source) for row, payload in zip(rows, payloads)}
            finally:
                batch.end(session)
            now = datetime.now(timezone.utc)
            table = StripeEvent.__table__
            for status in sorted(set(statuses.values())):
                ids = [event_id for event_id, s in statuses.items() if s == status]
                session.execute(
                    update(table)
                    .where(table.c.id.in_(ids))
                    .values(status=status, attempts=table.c.attempts + 1, last_error=None, processed_at=now)
                )
            return statuses
    except Exception as exc:  # noqa: BLE001 - the batch is undone; each event then keeps its own outcome
        log.info("A batch of %d Stripe events was undone (%s: %s); applying them one by one", len(event_ids), exc.__class__.__name__, exc)
        return {event_id: process(sessions, event_id, flt, source) for event_id in event_ids}


def to_retry(sessions: sessionmaker[Session], received_before: datetime, limit: int = 1000) -> list[str]:
    """Ids of stored events not applied yet (failed, or received before `received_before`), oldest first."""
    with sessions() as session:
        query = (
            select(StripeEvent.id)
            .where(
                (StripeEvent.status == "failed")
                | ((StripeEvent.status == "received") & (StripeEvent.received_at < received_before))
            )
            .order_by(StripeEvent.created, StripeEvent.id)
            .limit(limit)
        )
        return list(session.scalars(query))
