"""Prefect tasks of the revenue flows: apply stored events, page Stripe's lists, MRR ledger, snapshots.

Retries only for `DependencyError`s: Stripe unreachable or still rate-limiting after the
reader's pauses, the database gone. A retried list pass resumes after the last page it stored
(the cursor is in the database), so a retry never pages from the start again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta

from prefect import get_run_logger, task
from prefect.exceptions import MissingContextError

from promostack.billing import events, mirror
from promostack.billing.dashboard import snapshot
from promostack.billing.mrr import RevenueFilter
from promostack.billing.stripe_api import StripeReader
from promostack.billing.sync import SyncResult, sync_resource
from promostack.db.engine import session_scope
from promostack.runtime import current_runtime
from tasks.retries import RETRY_DEPENDENCY_ERRORS

#: Stored events younger than this may still be being applied by the web app: left to it.
IN_FLIGHT = timedelta(minutes=2)
#: Stored events applied together (one transaction; a failing one sends its batch one by one).
RETRY_BATCH = 200


def _logger() -> logging.Logger | logging.LoggerAdapter:  # type: ignore[type-arg]
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)


def stripe_reader() -> StripeReader | None:
    """A reader of Stripe when STRIPE_SECRET_KEY is set, else None."""
    settings = current_runtime().settings
    return StripeReader(settings) if settings.stripe_secret_key is not None else None


@task(name="retry-stripe-events", **RETRY_DEPENDENCY_ERRORS)
async def retry_stripe_events(now: datetime) -> dict[str, int]:
    """How many stored events ended processed, ignored or failed on this new attempt."""
    rt = current_runtime()
    flt, reader = RevenueFilter.from_settings(rt.settings), stripe_reader()
    outcome = {"processed": 0, "ignored": 0, "failed": 0}
    waiting = await asyncio.to_thread(events.to_retry, rt.sessions, now - IN_FLIGHT)
    for start in range(0, len(waiting), RETRY_BATCH):
        done = await asyncio.to_thread(events.process_batch, rt.sessions, waiting[start : start + RETRY_BATCH], flt, reader)
        for status in done.values():
            outcome[status] = outcome.get(status, 0) + 1
    if outcome["failed"]:
        _logger().warning("%d stored Stripe events still fail; see stripe_events.last_error", outcome["failed"])
    return outcome


@task(name="sync-stripe-list", **{**RETRY_DEPENDENCY_ERRORS, "retries": 3, "retry_delay_seconds": [5, 30, 120]})
async def sync_stripe_list(resource: str, now: datetime) -> SyncResult:
    """The pass over Stripe's `resource` list, resumed from its stored cursor if one was cut short."""
    rt = current_runtime()
    reader = stripe_reader()
    if reader is None:
        raise RuntimeError("sync_stripe_list needs STRIPE_SECRET_KEY (the flow checks it first)")
    overlap = timedelta(hours=rt.settings.stripe_reconcile_overlap_h)
    result = await asyncio.to_thread(sync_resource, rt.sessions, reader, resource, now, overlap)
    _logger().info(
        "%s: %d objects in %d pages%s, %d drifted fields, %d rate-limited requests",
        resource,
        result.fetched,
        result.pages,
        f" (resumed after {result.resumed_from})" if result.resumed_from else "",
        len(result.drift),
        reader.rate_limited,
    )
    return result


@task(name="refresh-customer-mrr", **RETRY_DEPENDENCY_ERRORS)
async def refresh_customer_mrr(now: datetime) -> int:
    """Movements recorded by recomputing every customer's MRR from the mirror."""
    rt = current_runtime()
    flt = RevenueFilter.from_settings(rt.settings)

    def run() -> int:
        with session_scope(rt.sessions) as session:
            return len(mirror.refresh_customer_mrr(session, flt, now, "reconcile"))

    return await asyncio.to_thread(run)


@task(name="take-mrr-snapshot", **RETRY_DEPENDENCY_ERRORS)
async def take_mrr_snapshot(day: date) -> int:
    """Rows written for `day`'s MRR snapshot (per currency, and per currency and product)."""
    rt = current_runtime()
    flt = RevenueFilter.from_settings(rt.settings)

    def run() -> int:
        with session_scope(rt.sessions) as session:
            return snapshot(session, flt, day)

    return await asyncio.to_thread(run)
