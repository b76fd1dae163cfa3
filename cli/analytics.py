"""`promostack analytics …`: run the analytics export by hand (with a progress bar) and see its state."""

from __future__ import annotations

import threading
import time

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from analytics.manifest import read_manifest, read_progress
from promostack.config import get_settings
from promostack.runtime import build_runtime, install_runtime

app = typer.Typer(help="Analytics: the Parquet export the dashboard reads.", no_args_is_help=True)
console = Console()


@app.command("export")
def export(
    verify: bool = typer.Option(False, help="Compare every day with the database and re-export those that differ."),
    days: int = typer.Option(2, min=1, max=30, help="Recent UTC days to rebuild (regular runs: 2)."),
) -> None:
    """Run the export-analytics flow now, showing its progress."""
    from flows.export_analytics import export_analytics

    runtime = build_runtime(get_settings())
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            with install_runtime(runtime):
                outcome["report"] = export_analytics(recent_days=days, verify=verify)
        except Exception as exc:  # shown to the person below, with its kind
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="export-analytics")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("starting", total=None)
            started = read_progress(runtime.store)
            worker.start()
            while worker.is_alive():
                worker.join(timeout=0.5)
                progress = read_progress(runtime.store)
                if progress and progress != started and progress.state == "running":
                    bar.update(task, total=progress.total or None, completed=progress.done, description=progress.detail or "planning")
    finally:
        runtime.close()
    if "error" in outcome:
        console.print(f"[red]export failed[/]: {outcome['error'].__class__.__name__}: {outcome['error']}")
        raise typer.Exit(code=1)
    report = outcome["report"]
    console.print(f"published manifest version {report.manifest_version}: {report.days_exported} table-days, rows {report.rows_exported}, {report.seconds:.1f} s")  # type: ignore[attr-defined]
    for line in report.rebuilt_by_check:  # type: ignore[attr-defined]
        console.print(f"  rebuilt {line}")


@app.command("status")
def status() -> None:
    """When the analytics files were last published, and what they hold."""
    runtime = build_runtime(get_settings())
    try:
        manifest = read_manifest(runtime.store)
        progress = read_progress(runtime.store)
    finally:
        runtime.close()
    if manifest.exported_at is None:
        console.print("not exported yet: run `promostack analytics export`")
    else:
        age = time.time() - manifest.exported_at.timestamp()
        console.print(f"version {manifest.version}, exported {manifest.exported_at:%Y-%m-%d %H:%M:%S} UTC ({age / 60:.0f} min ago)")
        for name, days in manifest.datasets.items():
            rows = sum(f.rows for f in days.values())
            console.print(f"  {name}: {len(days)} days, {rows:,} rows")
    if progress:
        console.print(f"last run {progress.run}: {progress.state}, {progress.done}/{progress.total} days ({progress.detail})")
