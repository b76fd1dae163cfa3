"""The `revenue-snapshot` flow (daily): today's MRR per currency and product, for the MRR chart.

Stripe keeps no MRR history a list call could return, so the chart's history is these
snapshots. A second run the same day replaces the day's rows.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from prefect import flow
from pydantic import BaseModel

from tasks.stripe import take_mrr_snapshot


class SnapshotReport(BaseModel):
    """The day snapshotted and how many (currency, product) rows it has."""

    day: date
    rows: int


@flow(name="revenue-snapshot", persist_result=False)
async def revenue_snapshot(day: date | None = None) -> SnapshotReport:
    """The report of writing `day`'s (default: today, UTC) MRR snapshot from the mirror."""
    day = day or datetime.now(timezone.utc).date()
    return SnapshotReport(day=day, rows=await take_mrr_snapshot(day))
