"""`promostack broadcast …`: follow and finish broadcasts from a shell.

`run ID` sends (or resumes, or retracts) a broadcast in this process with a progress bar — the
`broadcast` flow's step list without a Prefect server, for when no worker is around; `status ID`
prints its counts; `requeue ID` puts its `unknown` rows (with `--failed`, failed ones too) back to
pending, on purpose, after you checked those chats.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cli.templates import cli_errors
from flows.broadcast import run_broadcast
from promostack.broadcasts import control, recipients, states
from promostack.broadcasts.recipients import Counts
from promostack.config import get_settings
from promostack.runtime import Runtime, build_runtime

app = typer.Typer(help="Telegram broadcasts: run, status, requeue.", no_args_is_help=True)
console = Console()


@contextmanager
def _runtime() -> Iterator[Runtime]:
    rt = build_runtime(get_settings())
    try:
        with cli_errors():
            yield rt
    finally:
        rt.close()


def _line(counts: Counts) -> str:
    return (
        f"sent {counts.sent} · blocked {counts.blocked} · failed {counts.failed} · unknown {counts.unknown} · "
        f"remaining {counts.remaining} · {counts.rate_per_s}/s"
    )


@app.command()
def run(broadcast_id: int) -> None:
    """Send, resume or retract broadcast ID here, with a progress bar."""
    with _runtime() as rt:
        columns = (TextColumn("[bold]broadcast {task.fields[id]}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), TextColumn("{task.description}"))
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("", total=None, id=broadcast_id)

            async def progress(counts: Counts) -> None:
                bar.update(task, total=counts.total or None, completed=counts.done, description=_line(counts))

            report = asyncio.run(run_broadcast(rt, broadcast_id, progress=progress))
        console.print(f"broadcast {broadcast_id}: {report.status} — sent {report.sent}, blocked {report.blocked}, "
                      f"failed {report.failed}, unknown {report.unknown}, pending {report.pending}")


@app.command()
def status(broadcast_id: int) -> None:
    """Print broadcast ID's status and counts."""
    with _runtime() as rt:
        view = control.get(rt.sessions, broadcast_id)
        console.print(f"broadcast {broadcast_id} ({view.bot}): {view.status} — {_line(recipients.counts(rt.sessions, broadcast_id))}")


@app.command()
def requeue(broadcast_id: int, failed: bool = typer.Option(False, "--failed", help="Also re-queue failed rows.")) -> None:
    """Put broadcast ID's unknown (and failed) rows back to pending; `run` then sends them."""
    with _runtime() as rt:
        chosen = frozenset({states.UNKNOWN} | ({states.FAILED} if failed else set()))
        count = recipients.requeue(rt.sessions, broadcast_id, chosen)
        if count and control.get(rt.sessions, broadcast_id).status == states.DONE:
            control.apply(rt.sessions, broadcast_id, "resume")
        console.print(f"{count} row(s) back to pending; `promostack broadcast run {broadcast_id}` sends them")
