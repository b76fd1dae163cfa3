"""Monthly recurring revenue, following Stripe Billing's definition (values in, values out).

MRR is the monthly-normalised value of the `active` and `past_due` subscriptions that pass the
revenue filter, per currency, in the currency's minor unit (cents):

- every *licensed* item counts, at `unit_amount × quantity` (tiered prices per their tiers);
  metered items do not (their amount is unknown until usage is reported);
- a period of `interval_count` intervals is normalised to a month: a year ÷ 12, a quarter
  (3 months) ÷ 3, a week × 52 ÷ 12, a day × 365 ÷ 12;
- trials (`trialing`), `incomplete`, `unpaid`, `paused` and `canceled` subscriptions count zero;
  a cancel-at-period-end subscription counts until it actually ends (Stripe does the same);
- only `duration=forever` coupons reduce MRR (once and repeating ones are temporary); percent
  coupons scale, amount coupons subtract their amount per billing period (never below zero);
  a subscription-level coupon is shared between the counted items in proportion to their value;
- tax is not in MRR: amounts are the prices' own, before tax.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from promostack.config import Settings
from promostack.errors import InvalidInput

#: Statuses whose subscriptions are revenue (Stripe: "active and past due").
COUNTED_STATUSES = frozenset({"active", "past_due"})

# Months in one interval of each kind.
_MONTHS_PER_INTERVAL = {"month": 1.0, "year": 12.0, "week": 12.0 / 52.0, "day": 12.0 / 365.0}


@dataclass(frozen=True, slots=True)
class Coupon:
    """What a discount takes off: a percentage or an amount (in `currency`), for how long."""

    duration: str  # forever | once | repeating
    percent_off: float | None = None
    amount_off: int | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """A subscription item with the fields of its price that MRR needs."""

    price_id: str
    product_id: str | None
    unit_amount: int | None
    quantity: int = 1
    interval: str = "month"
    interval_count: int = 1
    usage_type: str = "licensed"
    billing_scheme: str = "per_unit"
    tiers_mode: str | None = None
    tiers: tuple[dict, ...] = ()
    coupons: tuple[Coupon, ...] = ()


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription as MRR sees it."""

    id: str
    customer_id: str
    status: str
    currency: str
    items: tuple[Item, ...]
    coupons: tuple[Coupon, ...] = ()


def _id_set(value: str | Iterable[str] | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    parts = value.split(",") if isinstance(value, str) else value
    return frozenset(p.strip() for p in parts if p and p.strip())


@dataclass(frozen=True)
class RevenueFilter:
    """Which subscriptions and items count; an empty set means "no restriction".

    A subscription counts when its id is allowed; within it, an item counts when its price and
    its product are allowed. A subscription with no counted item contributes nothing.
    """

    product_ids: frozenset[str] = field(default_factory=frozenset)
    price_ids: frozenset[str] = field(default_factory=frozenset)
    subscription_ids: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(
        cls,
        product_ids: str | Iterable[str] | None = None,
        price_ids: str | Iterable[str] | None = None,
        subscription_ids: str | Iterable[str] | None = None,
    ) -> RevenueFilter:
        """A filter from comma-separated strings or iterables of ids."""
        return cls(_id_set(product_ids), _id_set(price_ids), _id_set(subscription_ids))

    @classmethod
    def from_settings(cls, settings: Settings) -> RevenueFilter:
        """The filter `STRIPE_PRODUCT_IDS`, `STRIPE_PRICE_IDS` and `STRIPE_SUBSCRIPTION_IDS` set."""
        return cls.of(settings.stripe_product_ids, settings.stripe_price_ids, settings.stripe_subscription_ids)

    @property
    def restricted(self) -> bool:
        """True when any id list is set."""
        return bool(self.product_ids or self.price_ids or self.subscription_ids)

    def narrowed_to_product(self, product_id: str | None) -> RevenueFilter:
        """This filter, also restricted to `product_id` (unchanged when None).

        Raises InvalidInput when the configured product list leaves that product out.
        """
        if not product_id:
            return self
        if self.product_ids and product_id not in self.product_ids:
            raise InvalidInput(f"product {product_id} is not among STRIPE_PRODUCT_IDS, so it never counts")
        return RevenueFilter(frozenset({product_id}), self.price_ids, self.subscription_ids)

    def allows_subscription(self, subscription_id: str) -> bool:
        """True when the subscription may count at all."""
        return not self.subscription_ids or subscription_id in self.subscription_ids

    def allows_item(self, item: Item) -> bool:
        """True when the item's price and product are allowed."""
        if self.price_ids and item.price_id not in self.price_ids:
            return False
        return not self.product_ids or (item.product_id or "") in self.product_ids


NO_FILTER = RevenueFilter()


def months_per_period(interval: str, interval_count: int) -> float:
    """How many months one billing period of `interval_count` × `interval` lasts."""
    try:
        return _MONTHS_PER_INTERVAL[interval] * max(1, interval_count)
    except KeyError:
        raise ValueError(f"unknown billing interval {interval!r}") from None


def _tiered_amount(tiers: tuple[dict, ...], mode: str | None, quantity: int) -> float:
    """The amount of `quantity` units under graduated or volume tiers (Stripe's rules)."""
    if mode == "volume":
        for tier in tiers:
            if tier.get("up_to") is None or quantity <= tier["up_to"]:
                return (tier.get("unit_amount") or 0) * quantity + (tier.get("flat_amount") or 0)
        return 0.0
    total, below = 0.0, 0
    for tier in tiers:  # graduated: each tier prices the units that fall inside it
        if quantity <= below:
            break
        top = quantity if tier.get("up_to") is None else min(quantity, tier["up_to"])
        total += (tier.get("unit_amount") or 0) * (top - below) + (tier.get("flat_amount") or 0)
        below = top
    return total


def _discounted(amount: float, coupons: Iterable[Coupon], currency: str) -> float:
    """`amount` (one billing period) after the forever coupons: percentages first, then amounts."""
    for coupon in coupons:
        if coupon.duration == "forever" and coupon.percent_off:
            amount *= 1 - coupon.percent_off / 100
    for coupon in coupons:
        if coupon.duration == "forever" and coupon.amount_off and (coupon.currency or currency) == currency:
            amount -= coupon.amount_off
    return max(0.0, amount)


def period_amount(item: Item, currency: str) -> float:
    """One billing period of a licensed item, after its own forever coupons (0 for metered)."""
    if item.usage_type != "licensed":
        return 0.0
    if item.billing_scheme == "tiered" and item.tiers:
        amount = _tiered_amount(item.tiers, item.tiers_mode, item.quantity)
    else:
        amount = float((item.unit_amount or 0) * item.quantity)
    return _discounted(amount, item.coupons, currency)


def item_mrrs(subscription: Subscription, flt: RevenueFilter = NO_FILTER) -> list[tuple[Item, float]]:
    """Each counted item of `subscription` with its share of the subscription's MRR."""
    if subscription.status not in COUNTED_STATUSES or not flt.allows_subscription(subscription.id):
        return []
    counted = [
        (item, period_amount(item, subscription.currency))
        for item in subscription.items
        if item.usage_type == "licensed" and flt.allows_item(item)
    ]
    monthly = [(item, amount / months_per_period(item.interval, item.interval_count)) for item, amount in counted]
    before = sum(m for _, m in monthly)
    if not subscription.coupons or before <= 0:
        return monthly
    # Subscription-level coupons apply per invoice, i.e. per billing period of its items.
    months = months_per_period(counted[0][0].interval, counted[0][0].interval_count)
    after = _discounted(before * months, subscription.coupons, subscription.currency) / months
    return [(item, m * after / before) for item, m in monthly]


def subscription_mrr(subscription: Subscription, flt: RevenueFilter = NO_FILTER) -> float:
    """The subscription's MRR in its currency's minor unit (0 when it does not count).

    The same rules as `item_mrrs`, summed in one pass: this runs once per subscription on
    every dashboard view and ledger refresh, so it allocates nothing per item.
    """
    if subscription.status not in COUNTED_STATUSES or (
        flt.subscription_ids and subscription.id not in flt.subscription_ids
    ):
        return 0.0
    narrowed = bool(flt.price_ids or flt.product_ids)
    currency = subscription.currency
    total, months_first = 0.0, 0.0
    for item in subscription.items:
        if item.usage_type != "licensed" or (narrowed and not flt.allows_item(item)):
            continue
        months = _MONTHS_PER_INTERVAL[item.interval] * (item.interval_count or 1)
        months_first = months_first or months
        if item.billing_scheme == "tiered" and item.tiers:
            amount = _tiered_amount(item.tiers, item.tiers_mode, item.quantity)
        else:
            amount = (item.unit_amount or 0) * item.quantity
        if item.coupons:
            amount = _discounted(amount, item.coupons, currency)
        total += amount / months
    if subscription.coupons and total > 0:
        total = _discounted(total * months_first, subscription.coupons, currency) / months_first
    return total


@dataclass(frozen=True)
class MrrTotal:
    """MRR and paying customers in one currency."""

    currency: str
    mrr: float
    subscribers: int

    @property
    def arr(self) -> float:
        """Annual run rate: 12 × MRR."""
        return 12 * self.mrr


def customer_mrr(
    subscriptions: Iterable[Subscription], flt: RevenueFilter = NO_FILTER
) -> dict[tuple[str, str], float]:
    """MRR per (customer id, currency), for customers with any counted subscription."""
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for sub in subscriptions:
        value = subscription_mrr(sub, flt)
        if value > 0:
            totals[(sub.customer_id, sub.currency)] += value
    return dict(totals)


def mrr_totals(subscriptions: Iterable[Subscription], flt: RevenueFilter = NO_FILTER) -> list[MrrTotal]:
    """MRR and paying customers per currency, sorted by currency; a customer pays when MRR > 0."""
    per_currency: dict[str, list[float]] = defaultdict(list)
    for (_, currency), value in customer_mrr(subscriptions, flt).items():
        per_currency[currency].append(value)
    return [MrrTotal(c, sum(v), len(v)) for c, v in sorted(per_currency.items())]


def mrr_by_product(
    subscriptions: Iterable[Subscription], flt: RevenueFilter = NO_FILTER
) -> dict[tuple[str, str], tuple[float, int]]:
    """(MRR, paying customers) per (currency, product id)."""
    values: dict[tuple[str, str], float] = defaultdict(float)
    customers: dict[tuple[str, str], set[str]] = defaultdict(set)
    for sub in subscriptions:
        for item, value in item_mrrs(sub, flt):
            if value > 0:
                key = (sub.currency, item.product_id or "")
                values[key] += value
                customers[key].add(sub.customer_id)
    return {key: (value, len(customers[key])) for key, value in values.items()}
