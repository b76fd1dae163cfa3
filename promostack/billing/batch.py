"""What a batch of events will touch, locked and loaded once, so applying each event reads memory.

Applying events one by one costs about ten database round trips each (lock the object, replace
its items, load the customer's subscriptions, lock the customer's MRR ledger...). A batch locks
the subscriptions its events name and their customers' ledger rows, loads those customers'
subscriptions, all in a few statements, and hands the mirror this `MirrorBatch` (on
`session.info`). The mirror's upserts read it instead of the database and keep it current as
they write, so each event of the batch sees the state the events before it left, exactly as if
they had been applied one at a time. Anything the batch did not load (an invoice's subscription,
another customer) is read from the database as usual.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from promostack.billing import mrr
from promostack.billing.objects import JsonObject

_KEY = "promostack.mirror_batch"


def coupons(discounts: Iterable[dict[str, Any]] | None) -> tuple[mrr.Coupon, ...]:
    """The coupons of a mirrored `discounts` column."""
    return tuple(
        mrr.Coupon(
            duration=d.get("duration") or "once",
            percent_off=d.get("percent_off"),
            amount_off=d.get("amount_off"),
            currency=d.get("currency"),
        )
        for d in discounts or ()
    )


def item_value(
    price_id: str,
    product_id: str | None,
    unit_amount: int | None,
    quantity: int,
    interval: str,
    interval_count: int,
    usage_type: str,
    billing_scheme: str,
    tiers_mode: str | None,
    tiers: list[dict[str, Any]] | None,
    discounts: list[dict[str, Any]] | None,
) -> mrr.Item:
    """The MRR value of a mirrored subscription item (its columns, in this order)."""
    return mrr.Item(
        price_id, product_id, unit_amount, quantity, interval, interval_count, usage_type, billing_scheme,
        tiers_mode, tuple(tiers or ()), coupons(discounts),
    )


def subscription_value(subscription_id: str, columns: JsonObject, items: list[JsonObject]) -> mrr.Subscription:
    """The MRR value of a subscription from the columns and item columns the mirror writes for it."""
    return mrr.Subscription(
        subscription_id,
        columns["customer_id"],
        columns["status"],
        columns["currency"],
        tuple(
            item_value(
                i["price_id"], i["product_id"], i["unit_amount"], i["quantity"], i["interval"], i["interval_count"],
                i["usage_type"], i["billing_scheme"], i["tiers_mode"], i["tiers"], i["discounts"],
            )
            for i in items
        ),
        coupons(columns["discounts"]),
    )


@dataclass
class MirrorBatch:
    """Rows locked for a batch, and the MRR inputs of its customers, kept current by the mirror."""

    #: (model, id) → the locked row, or None when it did not exist (its id is then reserved here).
    locked: dict[tuple[type, str], Any] = field(default_factory=dict)
    #: customer → subscription id → MRR value, for every customer the batch loaded.
    subscriptions: dict[str, dict[str, mrr.Subscription]] = field(default_factory=dict)
    #: (customer, currency) → the customer's locked MRR ledger row.
    ledger: dict[tuple[str, str], Any] = field(default_factory=dict)
    _owner: dict[str, str] = field(default_factory=dict)

    def covers(self, customer_ids: Iterable[str]) -> bool:
        """True when every one of `customer_ids` was loaded by the batch."""
        return all(c in self.subscriptions for c in customer_ids)

    def subscriptions_of(self, customer_ids: Iterable[str]) -> list[mrr.Subscription]:
        """The current MRR values of the subscriptions of `customer_ids` (all covered)."""
        return [s for c in customer_ids for s in self.subscriptions[c].values()]

    def ledger_of(self, customer_ids: Iterable[str]) -> dict[tuple[str, str], Any]:
        """The ledger rows of `customer_ids` (all covered)."""
        wanted = set(customer_ids)
        return {key: row for key, row in self.ledger.items() if key[0] in wanted}

    def add_loaded(self, customer_ids: Iterable[str], values: Iterable[mrr.Subscription]) -> None:
        """Cover `customer_ids`, whose subscriptions are `values` as loaded from the mirror."""
        for customer in customer_ids:
            self.subscriptions.setdefault(customer, {})
        for value in values:
            self.put(value)

    def put(self, value: mrr.Subscription) -> None:
        """Record a subscription's new state (for a covered customer; others are read from the database)."""
        before = self._owner.get(value.id)
        if before is not None and before != value.customer_id:
            del self.subscriptions[before][value.id]  # Stripe never moves one; never count it twice
            del self._owner[value.id]
        if value.customer_id in self.subscriptions:
            self.subscriptions[value.customer_id][value.id] = value
            self._owner[value.id] = value.customer_id


def batch_of(session: Session) -> MirrorBatch | None:
    """The batch `session` is applying, if any."""
    return session.info.get(_KEY)


def begin(session: Session, batch: MirrorBatch) -> None:
    """Make the mirror's upserts in `session` read and keep `batch`."""
    session.info[_KEY] = batch


def end(session: Session) -> None:
    """Back to one-by-one reads."""
    session.info.pop(_KEY, None)
