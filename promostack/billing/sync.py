"""One reconcile pass over a Stripe list: page it, upsert each page, remember the cursor.

Each page is upserted and its cursor saved in the same transaction, so a pass cut short (a
rate limit that outlasts the pauses, a crash) resumes after the last stored page. A finished
pass moves the resource's watermark to the time the pass started; lists that can be narrowed
by creation time (invoices, refunds, customers) then start at the watermark minus an overlap,
because objects change after they are created (an invoice is paid or fails days later).
Subscriptions, prices and products are listed whole every time: they change at any age, and
Stripe's lists cannot be filtered by "updated since" (the Search API could, but it lags).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from promostack.billing import mirror
from promostack.billing.objects import JsonObject
from promostack.billing.stripe_api import StripeReader
from promostack.db.engine import lock_database_for_writing, session_scope
from promostack.db.revenue import StripeSyncState

#: Lists narrowed by `created >= watermark − overlap`; the others are read whole.
SINCE_WATERMARK = frozenset({"invoices", "refunds", "customers"})

Upsert = Callable[[Session, JsonObject, int, bool], mirror.Upserted]

UPSERTS: dict[str, Upsert] = {
    "products": lambda s, o, t, compare: mirror.upsert_product(s, o, t),
    "prices": lambda s, o, t, compare: mirror.upsert_price(s, o, t),
    "customers": lambda s, o, t, compare: mirror.upsert_customer(s, o, t),
    "subscriptions": mirror.upsert_subscription,
    "invoices": lambda s, o, t, compare: mirror.upsert_invoice(s, o, t, compare=compare),
    "refunds": mirror.upsert_refund,
}


@dataclass
class SyncResult:
    """What one pass over a list did."""

    resource: str
    fetched: int = 0
    pages: int = 0
    resumed_from: str | None = None
    since: datetime | None = None
    drift: list[mirror.Drift] = field(default_factory=list)


def _state(session: Session, resource: str) -> StripeSyncState:
    state = session.get(StripeSyncState, resource, with_for_update=True)
    if state is None:
        state = StripeSyncState(resource=resource)
        session.add(state)
    return state


def sync_resource(
    sessions: sessionmaker[Session],
    reader: StripeReader,
    resource: str,
    now: datetime,
    overlap: timedelta,
    on_page: Callable[[SyncResult], None] | None = None,
) -> SyncResult:
    """Page `resource` into the mirror from where the last pass stopped; what it did.

    Differences with the mirror are reported as drift once a first pass has finished (the
    first one fills an empty mirror: everything would be "missing").
    """
    upsert = UPSERTS[resource]
    with session_scope(sessions) as session:
        lock_database_for_writing(session)
        state = _state(session, resource)
        if state.cursor is None:
            state.pass_started_at = now
        cursor, watermark = state.cursor, state.watermark
    result = SyncResult(resource, resumed_from=cursor)
    params: dict[str, Any] = {"status": "all"} if resource == "subscriptions" else {}
    if resource in SINCE_WATERMARK and watermark is not None:
        result.since = watermark - overlap
        params["created"] = {"gte": int(result.since.timestamp())}
    for page in reader.pages(resource, params, cursor):
        fetched_at = int(time.time())
        with session_scope(sessions) as session:
            lock_database_for_writing(session)
            for obj in page.objects:
                result.drift += upsert(session, obj, fetched_at, watermark is not None).drift
            state = _state(session, resource)
            if page.has_more:
                state.cursor = page.last_id
            else:
                state.cursor, state.watermark = None, state.pass_started_at or now
            state.updated_at = datetime.now(timezone.utc)
        result.fetched += len(page.objects)
        result.pages += 1
        if on_page is not None:
            on_page(result)
    return result
