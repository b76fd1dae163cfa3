"""Rebills, failed rebills and refunds per month, on invoices worked out by hand."""

from __future__ import annotations

from datetime import datetime, timezone

from promostack.billing.rebills import InvoiceFacts, RefundFacts, monthly_rebills


def on(month: int, day: int) -> datetime:
    return datetime(2026, month, day, tzinfo=timezone.utc)


INVOICES = [
    InvoiceFacts("in_first", "usd", "subscription_create", "paid", 1000, on(9, 1), None),  # a sign-up, not a rebill
    InvoiceFacts("in_r1", "usd", "subscription_cycle", "paid", 1000, on(10, 1), None),
    InvoiceFacts("in_r2", "usd", "subscription_cycle", "paid", 3000, on(10, 15), None),
    # Failed twice in late October (one failure recorded per invoice), paid in November.
    InvoiceFacts("in_r3", "usd", "subscription_cycle", "paid", 2000, on(11, 2), on(10, 30)),
    InvoiceFacts("in_r4", "usd", "subscription_cycle", "open", 0, None, on(11, 20)),
    InvoiceFacts("in_eur", "eur", "subscription_cycle", "paid", 5000, on(10, 3), None),
    InvoiceFacts("in_update", "usd", "subscription_update", "paid", 400, on(10, 20), None),  # a proration
]
REFUNDS = [
    RefundFacts("re_1", "usd", 500, "succeeded", on(10, 16)),
    RefundFacts("re_2", "usd", 900, "failed", on(10, 17)),
]


def test_rebills_failures_and_refunds_are_counted_once_by_month_and_currency() -> None:
    months = {(m.month, m.currency): m for m in monthly_rebills(INVOICES, REFUNDS)}
    assert set(months) == {("2026-10", "usd"), ("2026-10", "eur"), ("2026-11", "usd")}
    october = months[("2026-10", "usd")]
    assert (october.rebills, october.rebill_amount) == (2, 1000 + 3000)
    assert october.failed_rebills == 1  # in_r3
    assert (october.refunds, october.refund_amount) == (1, 500)
    november = months[("2026-11", "usd")]
    assert (november.rebills, november.rebill_amount, november.failed_rebills) == (1, 2000, 1)
    assert (months[("2026-10", "eur")].rebills, months[("2026-10", "eur")].rebill_amount) == (1, 5000)
