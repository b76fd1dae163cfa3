"""Prefect tasks of the analytics export: plan the days, export one day, publish, clean up.

Each talks to the database or object storage, so each retries dependency errors only
(`RETRY_DEPENDENCY_ERRORS`). Exporting a day again is harmless: it writes under the run's own
name and nothing is visible before `publish_export` swaps the manifest.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timezone
from pathlib import Path

from prefect import task

from analytics.export import DayExport, DayJob, export_day, plan_check, plan_recent, publish, remove_orphans
from analytics.manifest import ExportProgress, Manifest, read_manifest, write_progress
from analytics.readers import RowReader
from analytics.tables import SourceTable, existing_tables
from promostack.runtime import Runtime
from tasks.render import ProgressArtifact
from tasks.retries import RETRY_DEPENDENCY_ERRORS


@task(name="find-analytics-tables", **RETRY_DEPENDENCY_ERRORS)
def find_tables(runtime: Runtime) -> list[SourceTable]:
    """The exported tables that exist in the database, with the columns it has."""
    return existing_tables(runtime.engine)


@task(name="plan-analytics-export", **RETRY_DEPENDENCY_ERRORS)
def plan_days(runtime: Runtime, sources: list[SourceTable], verify: bool, recent_days: int, today: date) -> list[DayJob]:
    """The (table, day) pairs this run rebuilds: recent days, or the days the check finds different."""
    manifest = read_manifest(runtime.store)
    if verify:
        return plan_check(runtime.engine, sources, manifest)
    return plan_recent(runtime.engine, sources, manifest, today, recent_days)


@task(name="export-analytics-day", **RETRY_DEPENDENCY_ERRORS)
def export_table_day(
    runtime: Runtime, reader: RowReader, source: SourceTable, day: date, run: str, work_dir: str
) -> DayExport:
    """The objects written aside for one UTC day of one table."""
    return export_day(reader, runtime.store, source, day, run, Path(work_dir))


@task(name="publish-analytics", **RETRY_DEPENDENCY_ERRORS)
def publish_export(runtime: Runtime, exports: list[DayExport], tables: list[str]) -> Manifest:
    """The manifest after swapping in the run's days (and the unique-users bitmaps rebuilt)."""
    return publish(runtime.store, exports, tables, cache_dir=runtime.settings.data_dir / "analytics-cache")


@task(name="remove-analytics-orphans", **RETRY_DEPENDENCY_ERRORS)
def remove_orphan_files(runtime: Runtime, manifest: Manifest) -> int:
    """How many objects of crashed runs were deleted."""
    return len(remove_orphans(runtime.store, manifest))


class ExportProgressReporter:
    """Progress of a run, shown as a Prefect progress artifact and in storage for the dashboard."""

    def __init__(self, runtime: Runtime, run: str, total: int, every_s: float = 1.0) -> None:
        self.store = runtime.store
        self.every_s = every_s
        self.artifact = ProgressArtifact(key="analytics-export", description=f"Analytics export {run}")
        self.state = ExportProgress(state="running", run=run, started_at=datetime.now(timezone.utc), total=total)
        self._last = 0.0
        write_progress(self.store, self.state)

    def day_done(self, done: int, detail: str) -> None:
        """Record that `done` of the run's days are written (throttled to one write per `every_s`)."""
        self.artifact(done, self.state.total)
        self.state.done, self.state.detail = done, detail
        now = time.monotonic()
        if done >= self.state.total or now - self._last >= self.every_s:
            self._last = now
            write_progress(self.store, self.state)

    def finish(self, state: str, detail: str) -> None:
        """Record the end of the run: `done` or `failed`, and why."""
        self.state.state, self.state.detail = state, detail
        write_progress(self.store, self.state)
