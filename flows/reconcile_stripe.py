"""The `reconcile-stripe` flow (hourly, and on demand): bring the mirror back in step with Stripe.

Webhooks keep the mirror current; this flow catches what they missed. It applies stored events
that failed or were never applied, pages Stripe's lists into the mirror (subscriptions with
`status=all`; invoices and refunds since the last pass minus an overlap), recomputes every
customer's MRR (recording movements), and writes a drift artifact: each field where the
mirror and Stripe disagreed, which means a webhook was missed or failed.
"""

from __future__ import annotations

from datetime import datetime, timezone

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, update_progress_artifact
from pydantic import BaseModel

from promostack.runtime import current_runtime
from tasks.stripe import refresh_customer_mrr, retry_stripe_events, sync_stripe_list

#: Lists read each run, catalogue first (subscriptions refer to prices and products).
LISTS = ("products", "prices", "customers", "subscriptions", "invoices", "refunds")


class DriftRow(BaseModel):
    """One field where the mirror disagreed with Stripe (mirror None: the object was missing)."""

    object: str
    id: str
    field: str
    mirror: str | None
    stripe: str


class ReconcileReport(BaseModel):
    """What one reconcile run did."""

    configured: bool
    events_retried: dict[str, int] = {}
    fetched: dict[str, int] = {}
    resumed: dict[str, str] = {}
    movements: int = 0
    drift: list[DriftRow] = []


@flow(name="reconcile-stripe", persist_result=False)
async def reconcile_stripe() -> ReconcileReport:
    """The report of bringing the revenue mirror in step with Stripe."""
    logger = get_run_logger()
    if current_runtime().settings.stripe_secret_key is None:
        logger.info("STRIPE_SECRET_KEY is not set: nothing to reconcile")
        return ReconcileReport(configured=False)
    now = datetime.now(timezone.utc)
    steps = len(LISTS) + 2
    progress = await create_progress_artifact(progress=0.0, key="reconcile-stripe-progress", description="Stripe reconcile")
    report = ReconcileReport(configured=True)
    # Stored events first: what they bring is then not reported as drift.
    report.events_retried = await retry_stripe_events(now)
    await update_progress_artifact(progress, progress=100.0 / steps)
    for done, resource in enumerate(LISTS, start=2):
        result = await sync_stripe_list(resource, now)
        report.fetched[resource] = result.fetched
        if result.resumed_from:
            report.resumed[resource] = result.resumed_from
        report.drift += [DriftRow(**vars(d)) for d in result.drift]
        await update_progress_artifact(progress, progress=100.0 * done / steps)
    report.movements = await refresh_customer_mrr(now)
    await update_progress_artifact(progress, progress=100.0)
    await create_markdown_artifact(key="stripe-drift", markdown=_drift_markdown(report), description="Stripe drift")
    if report.drift:
        logger.warning("%d fields drifted from Stripe: webhooks were missed (see the stripe-drift artifact)", len(report.drift))
    return report


def _drift_markdown(report: ReconcileReport) -> str:
    fetched = ", ".join(f"{k} {v}" for k, v in report.fetched.items())
    head = f"# Stripe drift\n\nFetched: {fetched}. Stored events retried: {report.events_retried}.\n\n"
    if not report.drift:
        return head + "No drift: the mirror matched Stripe.\n"
    rows = "\n".join(f"| {d.object} | {d.id} | {d.field} | {d.mirror or '(missing)'} | {d.stripe} |" for d in report.drift)
    return head + "| object | id | field | mirror | Stripe |\n|---|---|---|---|---|\n" + rows + "\n"
