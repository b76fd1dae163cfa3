"""A seeded revenue mirror that the admin API and browser tests share: two USD customers on two
products, one EUR customer, a renewal paid, one failed, a refund, and today's snapshot."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from promostack.billing import mirror
from promostack.billing.dashboard import snapshot
from promostack.billing.mrr import NO_FILTER, RevenueFilter
from promostack.db.engine import make_engine, make_session_factory, session_scope
from tests.fakes.stripe_api import invoice, item, price, product, refund, subscription


def seed(db_url: str, flt: RevenueFilter = NO_FILTER) -> None:
    """Two USD customers on two products, one EUR customer, a renewal paid, one failed, a refund
    (the customer MRR ledger kept for `flt`, as the app keeps it for its configured filter)."""
    now = int(time.time())
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        mirror.upsert_product(session, product("prod_a", "Pro"), now)
        mirror.upsert_product(session, product("prod_b", "Seats"), now)
        for sub in (
            subscription("sub_1", "cus_1", [item("si_1", price("p_a", "prod_a", 2000))]),
            subscription("sub_2", "cus_2", [item("si_2", price("p_b", "prod_b", 500), quantity=4)]),
            subscription("sub_3", "cus_3", [item("si_3", price("p_e", "prod_a", 12000, currency="eur", interval="year"))]),
        ):
            mirror.upsert_subscription(session, sub, now)
        mirror.refresh_customer_mrr(session, flt, datetime.now(timezone.utc), "test")
        mirror.upsert_invoice(session, invoice("in_1", "cus_1", "sub_1", 2000, created=now - 3600, payment_intent="pi_1"), now)
        mirror.upsert_invoice(
            session, invoice("in_2", "cus_2", "sub_2", 2000, status="open", created=now - 600), now,
            payment_failed_at=datetime.now(timezone.utc),
        )
        mirror.upsert_refund(session, refund("re_1", 500, payment_intent="pi_1", created=now - 60), now)
        snapshot(session, flt, datetime.now(timezone.utc).date())
    engine.dispose()
