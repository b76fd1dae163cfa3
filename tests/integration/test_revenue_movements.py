"""Movements and churn from the customer MRR ledger, on a two-month story worked out by hand."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from promostack.billing import mirror
from promostack.billing.movements import Movement, churn_figures, monthly
from promostack.billing.mrr import NO_FILTER, mrr_totals
from promostack.db.engine import session_scope
from promostack.db.revenue import MrrMovement
from tests.fakes.stripe_api import item, price, subscription


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=timezone.utc)


def change(sessions: sessionmaker[Session], when: datetime, customer: str, amount: int, status: str = "active") -> None:
    """The customer's one subscription now bills `amount` a month (with `status`)."""
    sub = subscription(f"sub_{customer}", customer, [item(f"si_{customer}", price(f"p_{amount}", "prod_a", amount))], status=status)
    with session_scope(sessions) as session:
        mirror.upsert_subscription(session, sub, int(when.timestamp()))
        mirror.refresh_customer_mrr(session, NO_FILTER, when, "test", [customer])


@pytest.fixture
def story(sessions: sessionmaker[Session]) -> list[Movement]:
    change(sessions, at(9, 1), "cus_c", 1500)
    change(sessions, at(9, 3), "cus_d", 500)
    change(sessions, at(9, 5), "cus_e", 500)
    change(sessions, at(9, 20), "cus_e", 500, status="canceled")
    change(sessions, at(10, 2), "cus_a", 1000)
    change(sessions, at(10, 5), "cus_b", 2000)
    change(sessions, at(10, 10), "cus_c", 1000)
    change(sessions, at(10, 15), "cus_d", 500, status="canceled")
    change(sessions, at(10, 20), "cus_b", 3000)
    change(sessions, at(10, 25), "cus_e", 800)
    change(sessions, at(10, 26), "cus_trial", 900, status="trialing")  # a trial is worth nothing yet
    with sessions() as session:
        rows = session.scalars(select(MrrMovement).order_by(MrrMovement.at)).all()
        return [Movement(r.customer_id, r.currency, r.kind, r.mrr_before, r.mrr_after, r.at) for r in rows]


def test_each_change_is_classified_like_stripe_does(story: list[Movement]) -> None:
    assert [(m.customer_id, m.kind) for m in story] == [
        ("cus_c", "new"), ("cus_d", "new"), ("cus_e", "new"), ("cus_e", "churn"),
        ("cus_a", "new"), ("cus_b", "new"), ("cus_c", "contraction"), ("cus_d", "churn"),
        ("cus_b", "expansion"), ("cus_e", "reactivation"),
    ]


def test_monthly_movements_add_up_to_net_new_mrr(story: list[Movement]) -> None:
    september, october = monthly(story)
    assert (september.month, september.new, september.churn, september.net_new) == ("2026-09", 2500, 500, 2000)
    assert (october.new, october.expansion, october.contraction, october.churn, october.reactivation) == (3000, 1000, 500, 500, 800)
    assert october.net_new == 3000 + 1000 + 800 - 500 - 500
    assert (october.new_customers, october.churned_customers, october.reactivated_customers) == (2, 1, 1)


def test_churn_figures_over_the_last_30_days(story: list[Movement], sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        (usd,) = mrr_totals(mirror.load_subscriptions(session))
    assert (usd.mrr, usd.subscribers) == (1000 + 3000 + 1000 + 800, 4)
    window = [m for m in story if m.at >= at(10, 1)]
    figures = churn_figures("usd", usd.mrr, usd.subscribers, window)
    # 30 days ago: cus_c (1500) and cus_d (500) paid.
    assert (figures.mrr_at_start, figures.subscribers_at_start) == (2000, 2)
    assert figures.subscriber_churn_rate == 1 / (2 + 2)  # one churned ÷ (two at the start + two new)
    assert figures.gross_mrr_churn_rate == (500 + 500) / 2000
    assert figures.net_mrr_churn_rate == (500 + 500 - 1000 - 800) / 2000
    assert figures.arpu == 5800 / 4 and figures.ltv == 5800 / 4 / 0.25


def test_a_trial_converting_to_paid_is_new_mrr(story: list[Movement], sessions: sessionmaker[Session]) -> None:
    change(sessions, at(11, 9), "cus_trial", 900)
    with sessions() as session:
        last = session.scalars(select(MrrMovement).order_by(MrrMovement.at.desc())).first()
    assert (last.customer_id, last.kind, last.mrr_after) == ("cus_trial", "new", 900)


def test_ltv_is_undefined_without_churn() -> None:
    figures = churn_figures("usd", 1000, 1, [Movement("cus_x", "usd", "new", 0, 1000, at(10, 1))])
    assert figures.subscriber_churn_rate == 0 and figures.ltv is None and figures.arpu == 1000
