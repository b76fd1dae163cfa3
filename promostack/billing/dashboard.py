"""The Revenue page's figures, read from the mirror alone (never from Stripe), and daily snapshots.

MRR, ARR, paying customers and ARPU are computed from the mirrored subscriptions at the time
of asking, for the configured filter or one product of it. Movements and churn come from the
customer MRR ledger, which is kept for the configured filter as a whole, so they are shown
without a product filter only. Rebills, failed renewals and refunds are the invoices and
refunds of counted subscriptions (refunds reach them through the invoice's payment intent;
with no filter configured every refund counts).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from promostack.billing import mrr
from promostack.billing.mirror import load_subscriptions
from promostack.billing.movements import Movement, churn_figures, monthly
from promostack.billing.rebills import RENEWAL, InvoiceFacts, RefundFacts, monthly_rebills
from promostack.db.revenue import (
    CustomerMrr,
    MrrMovement,
    MrrSnapshot,
    StripeEvent,
    StripeInvoice,
    StripeProduct,
    StripeRefund,
    StripeSubscriptionItem,
    StripeSyncState,
)

CHURN_WINDOW = timedelta(days=30)
LIST_LENGTH = 20


def counted_subscription_ids(session: Session, flt: mrr.RevenueFilter) -> set[str] | None:
    """Ids of the subscriptions with an item the filter lets count (any status); None: no filter."""
    if not flt.restricted:
        return None
    query = select(StripeSubscriptionItem.subscription_id).distinct()
    if flt.product_ids:
        query = query.where(StripeSubscriptionItem.product_id.in_(sorted(flt.product_ids)))
    if flt.price_ids:
        query = query.where(StripeSubscriptionItem.price_id.in_(sorted(flt.price_ids)))
    if flt.subscription_ids:
        query = query.where(StripeSubscriptionItem.subscription_id.in_(sorted(flt.subscription_ids)))
    return set(session.scalars(query))


def ledger_totals(session: Session) -> list[mrr.MrrTotal]:
    """MRR and paying customers per currency from the customer MRR ledger (one aggregate query).

    The ledger is kept for the configured filter by every applied event and every reconcile,
    so the whole-book figures never need the 100 000 subscriptions loaded.
    """
    rows = session.execute(
        select(CustomerMrr.currency, func.sum(CustomerMrr.mrr), func.count())
        .where(CustomerMrr.mrr > 0)
        .group_by(CustomerMrr.currency)
        .order_by(CustomerMrr.currency)
    )
    return [mrr.MrrTotal(currency, float(total), int(count)) for currency, total, count in rows]


def snapshot(session: Session, flt: mrr.RevenueFilter, day: date) -> int:
    """Write `day`'s MRR per currency (product "") and per (currency, product); rows written."""
    subs = load_subscriptions(session)
    rows = {(t.currency, ""): (t.mrr, t.subscribers) for t in mrr.mrr_totals(subs, flt)}
    rows.update(mrr.mrr_by_product(subs, flt))
    for (currency, product_id), (value, subscribers) in rows.items():
        found = session.get(MrrSnapshot, (day, currency, product_id))
        if found is None:
            session.add(MrrSnapshot(day=day, currency=currency, product_id=product_id, mrr=value, subscribers=subscribers))
        else:
            found.mrr, found.subscribers = value, subscribers
    return len(rows)


@dataclass(frozen=True)
class CurrencyKpis:
    """The headline figures of one currency (rates are fractions; None when undefined or filtered)."""

    currency: str
    mrr: float
    arr: float
    subscribers: int
    arpu: float | None
    net_new_mrr_this_month: float | None = None
    subscriber_churn_rate: float | None = None
    gross_mrr_churn_rate: float | None = None
    net_mrr_churn_rate: float | None = None
    ltv: float | None = None


def _kpis(session: Session, totals: list[mrr.MrrTotal], whole: bool, now: datetime) -> list[CurrencyKpis]:
    if not whole:
        return [
            CurrencyKpis(t.currency, t.mrr, t.arr, t.subscribers, t.mrr / t.subscribers if t.subscribers else None)
            for t in totals
        ]
    window = [
        Movement(m.customer_id, m.currency, m.kind, m.mrr_before, m.mrr_after, m.at)
        for m in session.scalars(select(MrrMovement).where(MrrMovement.at >= now - CHURN_WINDOW))
    ]
    month = now.strftime("%Y-%m")
    this_month = {m.currency: m.net_new for m in monthly(_movements(session, now.replace(day=1, hour=0, minute=0, second=0, microsecond=0))) if m.month == month}
    out = []
    currencies = sorted({t.currency for t in totals} | {m.currency for m in window})
    by_currency = {t.currency: t for t in totals}
    for currency in currencies:
        total = by_currency.get(currency, mrr.MrrTotal(currency, 0.0, 0))
        figures = churn_figures(currency, total.mrr, total.subscribers, window)
        out.append(
            CurrencyKpis(
                currency=currency,
                mrr=total.mrr,
                arr=total.arr,
                subscribers=total.subscribers,
                arpu=figures.arpu,
                net_new_mrr_this_month=this_month.get(currency, 0.0),
                subscriber_churn_rate=figures.subscriber_churn_rate,
                gross_mrr_churn_rate=figures.gross_mrr_churn_rate,
                net_mrr_churn_rate=figures.net_mrr_churn_rate,
                ltv=figures.ltv,
            )
        )
    return out


def _movements(session: Session, since: datetime) -> list[Movement]:
    rows = session.scalars(select(MrrMovement).where(MrrMovement.at >= since).order_by(MrrMovement.at))
    return [Movement(m.customer_id, m.currency, m.kind, m.mrr_before, m.mrr_after, m.at) for m in rows]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def overview(
    session: Session, flt: mrr.RevenueFilter, now: datetime, product_id: str | None = None, months: int = 12
) -> dict[str, Any]:
    """Everything the Revenue page shows, as JSON-ready values."""
    view = flt.narrowed_to_product(product_id)
    if product_id is None:
        totals = ledger_totals(session)
    else:
        totals = mrr.mrr_totals(load_subscriptions(session, product_id=product_id), view)
    counted = counted_subscription_ids(session, view)
    since = (now - timedelta(days=31 * months)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    invoices = [
        i
        for i in session.scalars(
            select(StripeInvoice).where(StripeInvoice.billing_reason == RENEWAL, StripeInvoice.created >= since - timedelta(days=60))
        )
        if counted is None or i.subscription_id in counted
    ]
    intents = {i.payment_intent_id for i in invoices if i.payment_intent_id}
    refunds = [
        r
        for r in session.scalars(select(StripeRefund).where(StripeRefund.created >= since))
        if counted is None or r.payment_intent_id in intents
    ]
    facts = [
        InvoiceFacts(i.id, i.currency, i.billing_reason, i.status, i.amount_paid, i.paid_at, i.payment_failed_at)
        for i in invoices
    ]
    rebill_months = [
        asdict(m)
        for m in monthly_rebills(facts, [RefundFacts(r.id, r.currency, r.amount, r.status, r.created) for r in refunds])
        if m.month >= since.strftime("%Y-%m")
    ]
    movement_months = [
        {**asdict(m), "net_new": m.net_new} for m in monthly(_movements(session, since))
    ] if product_id is None else None

    chart = [
        {"day": s.day.isoformat(), "currency": s.currency, "mrr": s.mrr, "subscribers": s.subscribers}
        for s in session.scalars(
            select(MrrSnapshot)
            .where(MrrSnapshot.product_id == (product_id or ""), MrrSnapshot.day >= (now - timedelta(days=365)).date())
            .order_by(MrrSnapshot.day)
        )
    ]
    paid = sorted((i for i in invoices if i.status == "paid" and i.paid_at), key=lambda i: i.paid_at, reverse=True)  # type: ignore[arg-type,return-value]
    failed = sorted((i for i in invoices if i.payment_failed_at), key=lambda i: i.payment_failed_at, reverse=True)  # type: ignore[arg-type,return-value]
    products = [
        {"id": p.id, "name": p.name}
        for p in session.scalars(select(StripeProduct).order_by(StripeProduct.name))
        if not flt.product_ids or p.id in flt.product_ids
    ]
    status_counts = dict(session.execute(select(StripeEvent.status, func.count()).group_by(StripeEvent.status)).all())
    last_event = session.scalar(select(func.max(StripeEvent.received_at)))
    reconciled = session.get(StripeSyncState, "subscriptions")
    return {
        "product": product_id,
        "kpis": [asdict(k) for k in _kpis(session, totals, product_id is None, now)],
        "chart": chart,
        "movements": movement_months,
        "rebills": rebill_months,
        "recent_rebills": [
            {"id": i.id, "customer": i.customer_id, "amount": i.amount_paid, "currency": i.currency, "paid_at": _iso(i.paid_at)}
            for i in paid[:LIST_LENGTH]
        ],
        "failed_payments": [
            {
                "id": i.id,
                "customer": i.customer_id,
                "amount": i.amount_due,
                "currency": i.currency,
                "failed_at": _iso(i.payment_failed_at),
                "status": i.status,
                "attempts": i.attempt_count,
            }
            for i in failed[:LIST_LENGTH]
        ],
        "refunds": [
            {"id": r.id, "amount": r.amount, "currency": r.currency, "status": r.status, "created": _iso(r.created)}
            for r in sorted(refunds, key=lambda r: r.created, reverse=True)[:LIST_LENGTH]
        ],
        "products": products,
        "events": {
            "processed": status_counts.get("processed", 0) + status_counts.get("ignored", 0),
            "failed": status_counts.get("failed", 0),
            "waiting": status_counts.get("received", 0),
            "last_received_at": _iso(last_event),
        },
        "last_reconciled_at": _iso(reconciled.watermark if reconciled else None),
    }
