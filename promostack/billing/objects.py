"""Stripe objects (API version 2026-10-28.endive, as plain JSON dicts) → the mirror's column values.

Shapes of this API version that matter: billing periods, price and quantity live on subscription
items; an invoice reaches its subscription through `parent.subscription_details.subscription`;
a discount's coupon is `discount.source.coupon`; `discounts` are ids unless expanded.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from promostack.errors import InvalidInput

JsonObject = dict[str, Any]


def ts(value: int | None) -> datetime | None:
    """A Unix timestamp as an aware UTC datetime (None stays None)."""
    return None if value is None else datetime.fromtimestamp(int(value), timezone.utc)


def object_id(value: Any) -> str | None:
    """The id of an expandable field (a string, or an expanded object)."""
    if value is None or isinstance(value, str):
        return value
    return value.get("id")


def coupon_of(discount: Any) -> JsonObject | None:
    """The coupon fields of an expanded discount; None when the discount is only an id."""
    if not isinstance(discount, dict):
        return None
    coupon = (discount.get("source") or {}).get("coupon")
    if not isinstance(coupon, dict):
        return None
    return {
        "id": coupon.get("id"),
        "duration": coupon.get("duration"),
        "percent_off": coupon.get("percent_off"),
        "amount_off": coupon.get("amount_off"),
        "currency": coupon.get("currency"),
    }


def discounts_expanded(subscription: JsonObject) -> bool:
    """True when every discount of the subscription and its items is an object, not an id.

    Webhook payloads carry discount ids only; the coupons behind them (needed for MRR) are
    then fetched with the subscription.
    """
    lists = [subscription.get("discounts") or []]
    lists += [item.get("discounts") or [] for item in (subscription.get("items") or {}).get("data", [])]
    return all(isinstance(d, dict) for group in lists for d in group)


def _coupons(discounts: list[Any] | None) -> list[JsonObject]:
    return [c for c in (coupon_of(d) for d in discounts or []) if c is not None]


def subscription_columns(sub: JsonObject) -> tuple[JsonObject, list[JsonObject]]:
    """(the subscription's columns, its items' columns)."""
    if sub.get("object") != "subscription" or not sub.get("id"):
        raise InvalidInput("not a Stripe subscription object")
    columns = {
        "customer_id": object_id(sub.get("customer")),
        "status": sub["status"],
        "currency": sub.get("currency") or "",
        "cancel_at_period_end": bool(sub.get("cancel_at_period_end")),
        "created": ts(sub.get("created")),
        "start_date": ts(sub.get("start_date")),
        "canceled_at": ts(sub.get("canceled_at")),
        "ended_at": ts(sub.get("ended_at")),
        "trial_end": ts(sub.get("trial_end")),
        "discounts": _coupons(sub.get("discounts")),
    }
    items = []
    for item in (sub.get("items") or {}).get("data", []):
        price = item.get("price") or {}
        recurring = price.get("recurring") or {}
        items.append(
            {
                "id": item["id"],
                "subscription_id": sub["id"],
                "price_id": price.get("id") or "",
                "product_id": object_id(price.get("product")),
                "quantity": item.get("quantity") if item.get("quantity") is not None else 1,
                "currency": price.get("currency") or columns["currency"],
                "unit_amount": price.get("unit_amount"),
                "billing_scheme": price.get("billing_scheme") or "per_unit",
                "tiers_mode": price.get("tiers_mode"),
                "tiers": price.get("tiers"),
                "interval": recurring.get("interval") or "month",
                "interval_count": recurring.get("interval_count") or 1,
                "usage_type": recurring.get("usage_type") or "licensed",
                "discounts": _coupons(item.get("discounts")),
                "current_period_start": ts(item.get("current_period_start")),
                "current_period_end": ts(item.get("current_period_end")),
            }
        )
    return columns, items


def invoice_subscription_id(invoice: JsonObject) -> str | None:
    """The subscription an invoice bills, through `parent.subscription_details.subscription`."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return object_id(details.get("subscription"))


def invoice_columns(invoice: JsonObject) -> JsonObject:
    """The invoice's columns (`payment_failed_at` is set by the event that says so, not here)."""
    payments = (invoice.get("payments") or {}).get("data") or []
    intents = [object_id((p.get("payment") or {}).get("payment_intent")) for p in payments]
    return {
        "customer_id": object_id(invoice.get("customer")),
        "subscription_id": invoice_subscription_id(invoice),
        "status": invoice.get("status"),
        "billing_reason": invoice.get("billing_reason"),
        "currency": invoice.get("currency") or "",
        "amount_due": invoice.get("amount_due") or 0,
        "amount_paid": invoice.get("amount_paid") or 0,
        "total": invoice.get("total") or 0,
        "attempt_count": invoice.get("attempt_count") or 0,
        "created": ts(invoice.get("created")),
        "paid_at": ts((invoice.get("status_transitions") or {}).get("paid_at")),
        "payment_intent_id": next((i for i in intents if i), None),
    }


def refund_columns(refund: JsonObject) -> JsonObject:
    """The refund's columns."""
    return {
        "charge_id": object_id(refund.get("charge")),
        "payment_intent_id": object_id(refund.get("payment_intent")),
        "amount": refund.get("amount") or 0,
        "currency": refund.get("currency") or "",
        "status": refund.get("status"),
        "reason": refund.get("reason"),
        "created": ts(refund.get("created")),
    }


def customer_columns(customer: JsonObject) -> JsonObject:
    """The customer's columns."""
    return {
        "email": customer.get("email"),
        "name": customer.get("name"),
        "deleted": bool(customer.get("deleted")),
        "created": ts(customer.get("created")),
    }


def product_columns(product: JsonObject) -> JsonObject:
    """The product's columns."""
    return {"name": product.get("name"), "active": bool(product.get("active", True))}


def price_columns(price: JsonObject) -> JsonObject:
    """The price's columns."""
    recurring = price.get("recurring") or {}
    return {
        "product_id": object_id(price.get("product")),
        "currency": price.get("currency") or "",
        "unit_amount": price.get("unit_amount"),
        "billing_scheme": price.get("billing_scheme") or "per_unit",
        "interval": recurring.get("interval"),
        "interval_count": recurring.get("interval_count"),
        "usage_type": recurring.get("usage_type"),
        "nickname": price.get("nickname"),
        "active": bool(price.get("active", True)),
    }
