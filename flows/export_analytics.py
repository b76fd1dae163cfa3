"""The `export-analytics` flow: the analytics tables to zstd Parquet, one file per UTC day.

Every 15 minutes (and from the dashboard's refresh button) it rebuilds the last two UTC days of
every table in `analytics.tables.TABLES` that exists, plus all days of a table never exported;
the nightly run (`verify=True`) compares each day's row count and max id with the source and
rebuilds the days that differ. Days are written aside, then the manifest is swapped in one put,
so readers see a run's days all at once or not at all.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from datetime import datetime, timezone

from prefect import flow, get_run_logger
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel

from analytics.export import RECENT_DAYS, DayExport, new_run_id
from analytics.readers import RowReader
from promostack.runtime import current_runtime
from tasks.analytics import (
    ExportProgressReporter,
    export_table_day,
    find_tables,
    plan_days,
    publish_export,
    remove_orphan_files,
)


EXPORT_WORKERS = 3


class ExportReport(BaseModel):
    """What one export run published."""

    run: str
    manifest_version: int
    tables: list[str]
    days_exported: int
    rows_exported: dict[str, int]
    rebuilt_by_check: list[str]
    orphans_removed: int
    seconds: float


@flow(name="export-analytics", persist_result=False, task_runner=ThreadPoolTaskRunner(max_workers=EXPORT_WORKERS))
def export_analytics(recent_days: int = RECENT_DAYS, verify: bool = False) -> ExportReport:
    """The report of exporting the recent days (or, with `verify`, the days that differ)."""
    started = time.perf_counter()
    runtime = current_runtime()
    run = new_run_id()
    sources = find_tables(runtime)
    by_name = {source.spec.name: source for source in sources}
    jobs = plan_days(runtime, sources, verify, recent_days, datetime.now(timezone.utc).date())
    progress = ExportProgressReporter(runtime, run, len(jobs))
    try:
        with tempfile.TemporaryDirectory(prefix="analytics-export-") as work_dir, RowReader(runtime.engine) as reader:
            # Days are independent: a few at once (the readers and DuckDB release the GIL).
            futures = {
                export_table_day.submit(runtime, reader, by_name[job.table], job.day, run, work_dir): job for job in jobs
            }
            for done, future in enumerate(as_completed(futures), start=1):
                future.result()  # a day that failed after its retries fails the run here, before publishing
                job = futures[future]
                progress.day_done(done, f"{job.table} {job.day.isoformat()}")
            exports: list[DayExport] = [future.result() for future in futures]
        manifest = publish_export(runtime, exports, list(by_name))
    except BaseException as exc:
        progress.finish("failed", f"{exc.__class__.__name__}: {exc}")
        raise
    orphans = remove_orphan_files(runtime, manifest)
    rows: Counter[str] = Counter()
    for export in exports:
        rows[export.table] += export.rows
    progress.finish("done", f"{len(exports)} days published (manifest version {manifest.version})")
    create_table_artifact(
        table=[{"table": j.table, "day": j.day.isoformat(), "why": j.reason, "rows": e.rows} for j, e in zip(jobs, exports)]
        or [{"table": "-", "day": "-", "why": "nothing to export", "rows": 0}],
        key="analytics-export",
        description=f"Run {run}: manifest version {manifest.version}",
    )
    report = ExportReport(
        run=run,
        manifest_version=manifest.version,
        tables=list(by_name),
        days_exported=len(exports),
        rows_exported={name: rows[name] for name in by_name},
        rebuilt_by_check=[f"{j.table} {j.day.isoformat()}: {j.reason}" for j in jobs] if verify else [],
        orphans_removed=orphans,
        seconds=round(time.perf_counter() - started, 3),
    )
    get_run_logger().info("analytics export: %s", report.model_dump_json())
    return report
