"""The Stripe mirror in the database: upserts that never let older state win, and MRR from it.

Every row carries `source_ts`, the Unix time of the state it holds. An upsert with an older
`source_ts` than the row's is refused, so events arriving out of order (Stripe does not
guarantee order) cannot roll a subscription back. Webhook events upsert at their `created`
time; the reconcile flow at the time it fetched the object (which is newer than any event it
has seen). The customer MRR ledger turns each change into a classified movement.

A batch of events applied in one transaction first locks and loads what it will touch
(`promostack.billing.batch`); the upserts here then read that instead of asking the database
once per event, and keep it current as they write.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from promostack.billing import mrr
from promostack.billing.batch import MirrorBatch, batch_of, coupons, item_value, subscription_value
from promostack.billing.movements import Movement, classify
from promostack.billing.objects import (
    JsonObject,
    customer_columns,
    invoice_columns,
    price_columns,
    product_columns,
    refund_columns,
    subscription_columns,
)
from promostack.db.revenue import (
    CustomerMrr,
    MrrMovement,
    StripeCustomer,
    StripeInvoice,
    StripePrice,
    StripeProduct,
    StripeRefund,
    StripeSubscription,
    StripeSubscriptionItem,
)

#: Fields the reconcile flow compares, per object: a difference means a webhook was missed.
DRIFT_FIELDS = {
    "subscription": ("status", "cancel_at_period_end", "items"),
    "invoice": ("status", "amount_paid", "attempt_count"),
    "refund": ("status", "amount"),
}


@dataclass(frozen=True)
class Drift:
    """One field where the mirror and Stripe disagreed (mirror None: the object was missing)."""

    object: str
    id: str
    field: str
    mirror: str | None
    stripe: str


@dataclass
class Upserted:
    """What an upsert did: applied (False when the mirror held newer state), any drift seen, and
    whether the row is new."""

    applied: bool
    drift: list[Drift]
    created: bool = False


def _upsert(
    session: Session, model: type, object_id: str, columns: JsonObject, source_ts: int, kind: str | None = None
) -> Upserted:
    batch = batch_of(session)
    locked = batch is not None and (model, object_id) in batch.locked
    row = batch.locked[(model, object_id)] if locked else session.get(model, object_id, with_for_update=True)
    drift: list[Drift] = []
    if row is None:
        if kind is not None:
            drift.append(Drift(kind, object_id, "(missing)", None, str(columns.get("status", "present"))))
        row = model(id=object_id, source_ts=source_ts, **columns)
        session.add(row)
        if locked:
            batch.locked[(model, object_id)] = row  # a later event of the batch updates it
        return Upserted(True, drift, created=True)
    if row.source_ts > source_ts:
        return Upserted(False, drift)
    if kind is not None:
        for name in DRIFT_FIELDS[kind]:
            if name in columns and getattr(row, name) != columns[name]:
                drift.append(Drift(kind, object_id, name, str(getattr(row, name)), str(columns[name])))
    for name, value in columns.items():
        setattr(row, name, value)
    row.source_ts = source_ts
    return Upserted(True, drift)


def _items_signature(pairs: Iterable[tuple[str, int]]) -> str:
    """Items as sorted "price×quantity", for drift reports."""
    return ", ".join(sorted(f"{price}×{quantity}" for price, quantity in pairs)) or "(none)"


def upsert_subscription(session: Session, sub: JsonObject, source_ts: int, compare: bool = False) -> Upserted:
    """Write a subscription and replace its items, unless the mirror holds newer state."""
    columns, items = subscription_columns(sub)
    before = None
    if compare:
        existing = session.execute(
            select(StripeSubscriptionItem.price_id, StripeSubscriptionItem.quantity).where(
                StripeSubscriptionItem.subscription_id == sub["id"]
            )
        ).all()
        before = _items_signature((p, q) for p, q in existing) if existing else None
    result = _upsert(session, StripeSubscription, sub["id"], columns, source_ts, "subscription" if compare else None)
    if not result.applied:
        return result
    after = _items_signature((i["price_id"], i["quantity"]) for i in items)
    if before is not None and before != after:
        result.drift.append(Drift("subscription", sub["id"], "items", before, after))
    if not result.created:  # a new subscription has no items to replace
        session.execute(delete(StripeSubscriptionItem).where(StripeSubscriptionItem.subscription_id == sub["id"]))
        session.flush()
    session.add_all(StripeSubscriptionItem(**item) for item in items)
    batch = batch_of(session)
    if batch is not None:
        batch.put(subscription_value(sub["id"], columns, items))
    return result


def upsert_invoice(
    session: Session,
    invoice: JsonObject,
    source_ts: int,
    payment_failed_at: datetime | None = None,
    compare: bool = False,
) -> Upserted:
    """Write an invoice; a recorded payment failure is kept (only a newer failure replaces it)."""
    columns = invoice_columns(invoice)
    row = session.get(StripeInvoice, invoice["id"])
    kept = row.payment_failed_at if row is not None else None
    if payment_failed_at is not None and (kept is None or payment_failed_at > kept):
        kept = payment_failed_at
    columns["payment_failed_at"] = kept
    if row is not None and not columns["payment_intent_id"]:
        columns["payment_intent_id"] = row.payment_intent_id  # webhook payloads omit payments
    result = _upsert(session, StripeInvoice, invoice["id"], columns, source_ts, "invoice" if compare else None)
    if not result.applied and row is not None:
        row.payment_failed_at = kept  # a failure reported after newer state still happened
    return result


def upsert_refund(session: Session, refund: JsonObject, source_ts: int, compare: bool = False) -> Upserted:
    """Write a refund."""
    return _upsert(session, StripeRefund, refund["id"], refund_columns(refund), source_ts, "refund" if compare else None)


def upsert_customer(session: Session, customer: JsonObject, source_ts: int) -> Upserted:
    """Write a customer."""
    return _upsert(session, StripeCustomer, customer["id"], customer_columns(customer), source_ts)


def upsert_product(session: Session, product: JsonObject, source_ts: int) -> Upserted:
    """Write a product."""
    return _upsert(session, StripeProduct, product["id"], product_columns(product), source_ts)


def upsert_price(session: Session, price: JsonObject, source_ts: int) -> Upserted:
    """Write a price."""
    return _upsert(session, StripePrice, price["id"], price_columns(price), source_ts)


# --- MRR from the mirror ------------------------------------------------------------------------


def load_subscriptions(
    session: Session, customer_ids: Iterable[str] | None = None, product_id: str | None = None
) -> list[mrr.Subscription]:
    """The mirrored subscriptions (of `customer_ids`, with an item of `product_id`, or all) as MRR values.

    Plain column rows, not ORM objects: the dashboard loads every subscription on each view.
    """
    sub_t, item_t = StripeSubscription.__table__, StripeSubscriptionItem.__table__
    subs_query = select(sub_t.c.id, sub_t.c.customer_id, sub_t.c.status, sub_t.c.currency, sub_t.c.discounts)
    items_query = select(
        item_t.c.subscription_id,
        item_t.c.price_id,
        item_t.c.product_id,
        item_t.c.unit_amount,
        item_t.c.quantity,
        item_t.c.interval,
        item_t.c.interval_count,
        item_t.c.usage_type,
        item_t.c.billing_scheme,
        item_t.c.tiers_mode,
        item_t.c.tiers,
        item_t.c.discounts,
    )
    if customer_ids is not None:
        ids = list(customer_ids)
        subs_query = subs_query.where(sub_t.c.customer_id.in_(ids))
        items_query = items_query.join(sub_t, sub_t.c.id == item_t.c.subscription_id).where(sub_t.c.customer_id.in_(ids))
    if product_id is not None:
        having = select(item_t.c.subscription_id).where(item_t.c.product_id == product_id)
        subs_query = subs_query.where(sub_t.c.id.in_(having))
        items_query = items_query.where(item_t.c.subscription_id.in_(having))
    items: dict[str, list[mrr.Item]] = defaultdict(list)
    for sid, *values in session.execute(items_query):
        items[sid].append(item_value(*values))
    return [
        mrr.Subscription(sid, customer, status, currency, tuple(items.get(sid, ())), coupons(discounts))
        for sid, customer, status, currency, discounts in session.execute(subs_query)
    ]


def lock_for_batch(session: Session, subscription_ids: Iterable[str], customer_ids: Iterable[str]) -> MirrorBatch:
    """Lock the subscriptions and the customers' ledger rows a batch of events will write, and load
    those customers' subscriptions: a few statements for the whole batch (see `billing.batch`).

    Locks are taken in the one-by-one order (subscriptions, then ledger rows), each set sorted by
    id, so a batch and a single event wait for each other instead of deadlocking.
    """
    batch = MirrorBatch()
    subs, customers = sorted(set(subscription_ids)), sorted(set(customer_ids))
    if subs:
        batch.locked = {(StripeSubscription, sid): None for sid in subs}
        query = select(StripeSubscription).where(StripeSubscription.id.in_(subs)).order_by(StripeSubscription.id)
        for row in session.scalars(query.with_for_update()):
            batch.locked[(StripeSubscription, row.id)] = row
    if customers:
        query = select(CustomerMrr).where(CustomerMrr.customer_id.in_(customers))
        query = query.order_by(CustomerMrr.customer_id, CustomerMrr.currency).with_for_update()
        batch.ledger = {(r.customer_id, r.currency): r for r in session.scalars(query)}
        # Loaded once the ledger rows are locked: whoever changes these customers' subscriptions now
        # waits for those locks before computing their MRR, and computes it after this batch commits.
        batch.add_loaded(customers, load_subscriptions(session, customers))
    return batch


def refresh_customer_mrr(
    session: Session,
    flt: mrr.RevenueFilter,
    at: datetime,
    source: str,
    customer_ids: Iterable[str] | None = None,
) -> list[Movement]:
    """Recompute the MRR of `customer_ids` (or everyone) from the mirror; record each movement."""
    ids = None if customer_ids is None else sorted(set(customer_ids))
    batch = batch_of(session)
    if batch is not None and ids is not None and batch.covers(ids):
        values = mrr.customer_mrr(batch.subscriptions_of(ids), flt)
        rows = batch.ledger_of(ids)
    else:
        batch = None
        rows_query = select(CustomerMrr).order_by(CustomerMrr.customer_id, CustomerMrr.currency)
        if ids is not None:
            rows_query = rows_query.where(CustomerMrr.customer_id.in_(ids))
        rows = {(r.customer_id, r.currency): r for r in session.scalars(rows_query.with_for_update())}
        # Read once the ledger rows are locked: a concurrent change to another subscription of the
        # same customer is then either committed and seen here, or waits and recomputes after.
        values = mrr.customer_mrr(load_subscriptions(session, ids), flt)
    movements = []
    for key in sorted(set(values) | set(rows)):
        row = rows.get(key)
        before, after = (row.mrr if row else 0.0), values.get(key, 0.0)
        kind = classify(before, after, bool(row and row.ever_paid))
        if kind is None:
            continue
        movement = Movement(key[0], key[1], kind, before, after, at)
        movements.append(movement)
        session.add(
            MrrMovement(
                customer_id=key[0], currency=key[1], kind=kind, mrr_before=before, mrr_after=after, at=at, source=source
            )
        )
        if row is None:
            row = CustomerMrr(customer_id=key[0], currency=key[1], mrr=after, ever_paid=False)
            session.add(row)
            if batch is not None:
                batch.ledger[key] = row
        row.mrr = after
        row.ever_paid = bool(row.ever_paid) or after > 0
        row.updated_at = at
    return movements
