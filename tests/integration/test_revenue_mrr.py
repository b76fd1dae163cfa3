"""MRR of fixture accounts, mirrored from Stripe-shaped objects, against figures computed by hand."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from promostack.billing import mirror
from promostack.billing.mrr import RevenueFilter, mrr_by_product, mrr_totals
from promostack.db.engine import session_scope
from tests.fakes.stripe_api import NOW, coupon, discount, item, price, subscription

MONTHLY = price("price_month", "prod_a", 1000)
QUARTERLY = price("price_quarter", "prod_a", 6000, interval_count=3)
YEARLY = price("price_year", "prod_a", 24000, interval="year")
SEAT = price("price_seat", "prod_b", 500)
ADDON = price("price_addon", "prod_b", 300)
METERED = price("price_api", "prod_b", 2, usage_type="metered")
FREE = price("price_free", "prod_a", 0)
EUR = price("price_eur", "prod_a", 5000, currency="eur")
OTHER = price("price_other", "prod_other", 3000)
WEEKLY = price("price_week", "prod_a", 700, interval="week")
TIERED = price(
    "price_tiered", "prod_b", None,
    tiers=[{"up_to": 5, "unit_amount": 1000, "flat_amount": None}, {"up_to": None, "unit_amount": 500, "flat_amount": None}],
    tiers_mode="graduated",
)


def forever_percent(pct: float) -> list[dict]:
    return [discount("di_fp", coupon("co_fp", "forever", percent_off=pct))]


ACCOUNTS = [
    # (subscription, its MRR in cents worked out by hand)
    (subscription("sub_month", "cus_month", [item("si_1", MONTHLY)]), 1000),
    (subscription("sub_quarter", "cus_quarter", [item("si_2", QUARTERLY)]), 6000 / 3),
    (subscription("sub_year", "cus_year", [item("si_3", YEARLY)]), 24000 / 12),
    (subscription("sub_qty", "cus_qty", [item("si_4", SEAT, quantity=3)]), 500 * 3),
    # Two licensed items count, the metered one does not.
    (subscription("sub_multi", "cus_multi", [item("si_5", MONTHLY), item("si_6", ADDON, quantity=2), item("si_7", METERED)]), 1000 + 300 * 2),
    (subscription("sub_fpct", "cus_fpct", [item("si_8", price("price_20", "prod_a", 2000))], discounts=forever_percent(25)), 2000 * 0.75),
    (subscription("sub_famt", "cus_famt", [item("si_9", price("price_y12", "prod_a", 12000, interval="year"))],
                  discounts=[discount("di_fa", coupon("co_fa", "forever", amount_off=1200, currency="usd"))]), (12000 - 1200) / 12),
    (subscription("sub_once", "cus_once", [item("si_10", MONTHLY)], discounts=[discount("di_o", coupon("co_o", "once", percent_off=50))]), 1000),
    (subscription("sub_rep", "cus_rep", [item("si_11", MONTHLY)],
                  discounts=[discount("di_r", coupon("co_r", "repeating", amount_off=500, currency="usd", duration_in_months=3))]), 1000),
    (subscription("sub_item_coupon", "cus_item_coupon", [item("si_12", MONTHLY, discounts=forever_percent(10))]), 900),
    (subscription("sub_trial", "cus_trial", [item("si_13", MONTHLY)], status="trialing"), 0),
    (subscription("sub_past_due", "cus_past_due", [item("si_14", price("price_7", "prod_a", 700))], status="past_due"), 700),
    (subscription("sub_unpaid", "cus_unpaid", [item("si_15", price("price_8", "prod_a", 800))], status="unpaid"), 0),
    (subscription("sub_canceled", "cus_canceled", [item("si_16", price("price_9", "prod_a", 900))], status="canceled"), 0),
    (subscription("sub_cape", "cus_cape", [item("si_17", price("price_4", "prod_a", 400))], cancel_at_period_end=True), 400),
    (subscription("sub_metered", "cus_metered", [item("si_18", METERED)]), 0),
    (subscription("sub_free", "cus_free", [item("si_19", FREE)]), 0),
    (subscription("sub_week", "cus_week", [item("si_20", WEEKLY)]), 700 * 52 / 12),
    # Graduated tiers: 5 units at 10.00, then 3 at 5.00.
    (subscription("sub_tiered", "cus_tiered", [item("si_21", TIERED, quantity=8)]), 5 * 1000 + 3 * 500),
    (subscription("sub_other", "cus_other", [item("si_22", OTHER)]), 3000),
]
EUR_ACCOUNT = subscription("sub_eur", "cus_eur", [item("si_23", EUR)])


@pytest.fixture
def mirrored(sessions: sessionmaker[Session]) -> list:
    with session_scope(sessions) as session:
        for sub, _ in ACCOUNTS:
            mirror.upsert_subscription(session, sub, NOW)
        mirror.upsert_subscription(session, EUR_ACCOUNT, NOW)
    with sessions() as session:
        return mirror.load_subscriptions(session)


def test_each_fixture_account_has_the_mrr_worked_out_by_hand(mirrored: list) -> None:
    from promostack.billing.mrr import subscription_mrr

    by_id = {s.id: s for s in mirrored}
    for sub, expected in ACCOUNTS:
        assert subscription_mrr(by_id[sub["id"]]) == pytest.approx(expected), sub["id"]


def test_mrr_is_summed_per_currency_and_counts_paying_customers_only(mirrored: list) -> None:
    usd, paying = sum(e for _, e in ACCOUNTS), sum(1 for _, e in ACCOUNTS if e > 0)
    totals = {t.currency: t for t in mrr_totals(mirrored)}
    assert set(totals) == {"eur", "usd"}
    assert totals["usd"].mrr == pytest.approx(usd) and totals["usd"].subscribers == paying
    assert totals["eur"].mrr == 5000 and totals["eur"].subscribers == 1
    assert totals["usd"].arr == pytest.approx(12 * usd)


def test_filtered_out_products_and_subscriptions_do_not_count(mirrored: list) -> None:
    by_product = RevenueFilter.of(product_ids="prod_a,prod_b")
    usd = {t.currency: t for t in mrr_totals(mirrored, by_product)}["usd"]
    assert usd.mrr == pytest.approx(sum(e for _, e in ACCOUNTS) - 3000)

    # Only the seat product's items count in sub_multi; sub_qty counts whole.
    seats = {t.currency: t.mrr for t in mrr_totals(mirrored, RevenueFilter.of(product_ids="prod_b"))}
    assert seats == {"usd": pytest.approx(1500 + 600 + 6500)}

    by_subscription = RevenueFilter.of(subscription_ids=["sub_month", "sub_year", "sub_trial"])
    assert [(t.currency, t.mrr, t.subscribers) for t in mrr_totals(mirrored, by_subscription)] == [("usd", 3000, 2)]

    by_price = RevenueFilter.of(price_ids="price_month")
    # sub_month, sub_multi's first item, sub_once, sub_rep, sub_item_coupon (900 after its coupon).
    assert mrr_totals(mirrored, by_price)[0].mrr == pytest.approx(1000 * 4 + 900)


def test_a_subscription_level_coupon_is_shared_between_products_by_value(sessions: sessionmaker[Session]) -> None:
    sub = subscription(
        "sub_mix", "cus_mix", [item("si_a", price("p_a", "prod_a", 3000)), item("si_b", price("p_b", "prod_b", 1000))],
        discounts=[discount("di_m", coupon("co_m", "forever", amount_off=400, currency="usd"))],
    )
    with session_scope(sessions) as session:
        mirror.upsert_subscription(session, sub, NOW)
    with sessions() as session:
        subs = mirror.load_subscriptions(session)
    # 4000 − 400 = 3600, split 3:1 by the items' values.
    assert mrr_by_product(subs) == {("usd", "prod_a"): (pytest.approx(2700), 1), ("usd", "prod_b"): (pytest.approx(900), 1)}
