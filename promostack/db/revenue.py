"""Tables of the revenue feature: the Stripe mirror, the events received, and what is derived.

Stripe is the source of truth; these tables are its mirror, written by the webhook's event
processing and by the reconcile flow, and read by the dashboard (never Stripe per page view).
Every mirrored row keeps `source_ts`: the Unix time of the state it holds (an event's `created`,
or the moment the reconcile flow fetched it), so an older event never overwrites newer state.
Amounts are in the currency's minor unit (cents), as Stripe sends them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from promostack.db.models import Base, utcnow


class StripeCustomer(Base):
    """A Stripe customer."""

    __tablename__ = "stripe_customers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime | None]
    source_ts: Mapped[int] = mapped_column(BigInteger)


class StripeProduct(Base):
    """A Stripe product (what a price sells)."""

    __tablename__ = "stripe_products"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source_ts: Mapped[int] = mapped_column(BigInteger)


class StripePrice(Base):
    """A Stripe price: amount, currency and, when recurring, its billing interval."""

    __tablename__ = "stripe_prices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_id: Mapped[str | None] = mapped_column(String(64), index=True)
    currency: Mapped[str] = mapped_column(String(8))
    unit_amount: Mapped[int | None] = mapped_column(BigInteger)
    billing_scheme: Mapped[str] = mapped_column(String(16), default="per_unit")
    interval: Mapped[str | None] = mapped_column(String(8))
    interval_count: Mapped[int | None] = mapped_column(Integer)
    usage_type: Mapped[str | None] = mapped_column(String(16))
    nickname: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source_ts: Mapped[int] = mapped_column(BigInteger)


class StripeSubscription(Base):
    """A Stripe subscription (any status); its items are `StripeSubscriptionItem` rows."""

    __tablename__ = "stripe_subscriptions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(24))
    currency: Mapped[str] = mapped_column(String(8))
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime]
    start_date: Mapped[datetime | None]
    canceled_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    trial_end: Mapped[datetime | None]
    # Coupons of the subscription's discounts: [{"percent_off", "amount_off", "currency", "duration"}].
    discounts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    source_ts: Mapped[int] = mapped_column(BigInteger)


class StripeSubscriptionItem(Base):
    """One item of a subscription, with its price's fields copied (Stripe prices never change amount)."""

    __tablename__ = "stripe_subscription_items"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(64), index=True)
    price_id: Mapped[str] = mapped_column(String(64))
    product_id: Mapped[str | None] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    currency: Mapped[str] = mapped_column(String(8))
    unit_amount: Mapped[int | None] = mapped_column(BigInteger)
    billing_scheme: Mapped[str] = mapped_column(String(16), default="per_unit")
    tiers_mode: Mapped[str | None] = mapped_column(String(16))
    tiers: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    interval: Mapped[str] = mapped_column(String(8))
    interval_count: Mapped[int] = mapped_column(Integer, default=1)
    usage_type: Mapped[str] = mapped_column(String(16), default="licensed")
    discounts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    current_period_start: Mapped[datetime | None]
    current_period_end: Mapped[datetime | None]


class StripeInvoice(Base):
    """A Stripe invoice; `payment_failed_at` is set when a payment attempt failed."""

    __tablename__ = "stripe_invoices"
    __table_args__ = (Index("ix_stripe_invoices_created", "created"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    subscription_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str | None] = mapped_column(String(24))
    billing_reason: Mapped[str | None] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(8))
    amount_due: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    payment_failed_at: Mapped[datetime | None]
    payment_intent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    source_ts: Mapped[int] = mapped_column(BigInteger)


class StripeRefund(Base):
    """A Stripe refund."""

    __tablename__ = "stripe_refunds"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    charge_id: Mapped[str | None] = mapped_column(String(64))
    payment_intent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(8))
    status: Mapped[str | None] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(40))
    created: Mapped[datetime]
    source_ts: Mapped[int] = mapped_column(BigInteger)


class StripeEvent(Base):
    """Every webhook event received, unique by Stripe's event id, with the raw body kept.

    `status`: received (stored, not processed yet) → processed | ignored (a type we do not
    mirror) | failed (`last_error` says why; the reconcile flow retries it).
    """

    __tablename__ = "stripe_events"
    __table_args__ = (Index("ix_stripe_events_status", "status"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    created: Mapped[datetime]
    livemode: Mapped[bool] = mapped_column(Boolean, default=False)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="received")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


class CustomerMrr(Base):
    """A customer's current MRR in one currency (counted subscriptions only), and whether it was
    ever above zero (to tell a new customer from a reactivation)."""

    __tablename__ = "revenue_customer_mrr"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(String(8), primary_key=True)
    mrr: Mapped[float] = mapped_column(Float, default=0.0)
    ever_paid: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MrrMovement(Base):
    """One change of a customer's MRR: new, expansion, contraction, churn or reactivation."""

    __tablename__ = "revenue_movements"
    __table_args__ = (Index("ix_revenue_movements_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    currency: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    mrr_before: Mapped[float] = mapped_column(Float)
    mrr_after: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(64))  # an event id, or "reconcile"


class MrrSnapshot(Base):
    """MRR and paying customers at the end of a UTC day, per currency and product ("" = all)."""

    __tablename__ = "revenue_snapshots"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(8), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    mrr: Mapped[float] = mapped_column(Float)
    subscribers: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)


class StripeSyncState(Base):
    """Where the reconcile flow is, per listed resource: the page cursor of an unfinished pass
    (resumed after a crash or a rate limit) and the watermark of the last finished one."""

    __tablename__ = "stripe_sync_state"

    resource: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(64))
    pass_started_at: Mapped[datetime | None]
    watermark: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
