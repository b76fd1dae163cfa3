"""Rebills, failed rebills and refunds per month and currency (values in, values out).

A rebill is a subscription renewal: an invoice with `billing_reason = "subscription_cycle"`.
It counts once per invoice when paid (by the month it was paid, at `amount_paid`); a failed
rebill is a renewal invoice whose payment failed at least once (`invoice.payment_failed`),
counted once per invoice however many attempts failed, by the month of the last failure.
Refunds count when `succeeded`, by the month they were created.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

RENEWAL = "subscription_cycle"


@dataclass(frozen=True)
class InvoiceFacts:
    """What rebills need of an invoice."""

    id: str
    currency: str
    billing_reason: str | None
    status: str | None
    amount_paid: int
    paid_at: datetime | None
    payment_failed_at: datetime | None


@dataclass(frozen=True)
class RefundFacts:
    """What the refund totals need of a refund."""

    id: str
    currency: str
    amount: int
    status: str | None
    created: datetime


@dataclass
class MonthRebills:
    """One month in one currency: rebills paid, renewals that failed, refunds."""

    month: str
    currency: str
    rebills: int = 0
    rebill_amount: int = 0
    failed_rebills: int = 0
    refunds: int = 0
    refund_amount: int = 0


def monthly_rebills(invoices: Iterable[InvoiceFacts], refunds: Iterable[RefundFacts]) -> list[MonthRebills]:
    """Rebills, failed rebills and refunds per (UTC month, currency), oldest first."""
    months: dict[tuple[str, str], MonthRebills] = {}

    def row(at: datetime, currency: str) -> MonthRebills:
        key = (at.strftime("%Y-%m"), currency)
        return months.setdefault(key, MonthRebills(*key))

    for inv in invoices:
        if inv.billing_reason != RENEWAL:
            continue
        if inv.status == "paid" and inv.paid_at is not None:
            month = row(inv.paid_at, inv.currency)
            month.rebills += 1
            month.rebill_amount += inv.amount_paid
        if inv.payment_failed_at is not None:
            row(inv.payment_failed_at, inv.currency).failed_rebills += 1
    for refund in refunds:
        if refund.status == "succeeded":
            month = row(refund.created, refund.currency)
            month.refunds += 1
            month.refund_amount += refund.amount
    return [months[k] for k in sorted(months)]
