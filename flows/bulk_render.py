"""The `bulk-render` flow: a CSV of codes becomes a zip of promo images in object storage.

Resumable by design: each image is stored as soon as it is rendered, and a run (or a retry of
the render task) with the same job id skips the codes already done.

Big jobs (more than `split_above` codes, 2 000 by default) are split into child flow runs of
`part_size` codes (the `bulk-render-part` deployment, on the `renders` queue), so the workers of
the pool share them: each child writes its images straight to object storage and returns counts;
this run waits for them and assembles the zip. No image passes through Prefect, and there is one
child run per slice, not a task run per code. A child's id is keyed on this run and its slice, so
a re-scheduled parent (after a crash) finds the children it already started. Rows that cannot be
rendered are listed in a table artifact and in the zip's `problems.csv`; they never stop the
batch. Progress is a progress artifact updated as images finish.

`workers` (render threads) defaults to the CPUs of the process that renders: this run's for a
small job, each child's own for a big one (a child does not run where its parent does).
"""

from __future__ import annotations

import time
from dataclasses import replace
from uuid import UUID

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.runtime import flow_run
from pydantic import BaseModel

from flows.bulk_render_part import render_threads
from promostack.bulk import BulkJob, BulkOutcome, rows_of
from promostack.errors import DependencyError
from promostack.render.encode import ImageFormat
from promostack.runtime import Runtime, current_runtime
from tasks.render import (
    ProgressArtifact,
    gather_bulk_parts,
    prepare_bulk_job,
    render_bulk_images,
    store_job_codes,
    write_bulk_zip,
)

PART_DEPLOYMENT = "bulk-render-part/bulk-render-part"


class BulkReport(BaseModel):
    """What a bulk run produced."""

    job_id: str
    rendered: int
    skipped: int
    problems: int
    zip_key: str
    parts: int = 0  # child flow runs the job was split into (0: rendered in this run)


@flow(name="bulk-render", persist_result=False)
def bulk_render(
    template_slug: str,
    csv_key: str | None = None,
    csv_text: str | None = None,
    job_id: str | None = None,
    workers: int | None = None,
    fmt: ImageFormat = "png",
    quality: int = 90,
    zip_key: str | None = None,
    split_above: int = 2000,
    part_size: int = 1000,
) -> BulkReport:
    """The report of rendering every code of the CSV with template `template_slug`."""
    runtime = current_runtime()
    job = prepare_bulk_job(runtime, template_slug, csv_text, csv_key, job_id, fmt, quality)
    slices = [(start, min(start + part_size, len(job.rows))) for start in range(0, len(job.rows), max(1, part_size))]
    if len(job.rows) > split_above and len(slices) > 1:
        key_of_codes = csv_key or store_job_codes(runtime, job.job_id, csv_text or "")
        outcome = _render_in_child_runs(runtime, job, key_of_codes, slices, workers, fmt, quality)
    else:
        slices = []
        outcome = render_bulk_images(runtime, job, render_threads(workers, runtime.settings.worker_cpus))
    key = write_bulk_zip(runtime, job, outcome, zip_key)
    if outcome.problems:
        create_table_artifact(
            table=list(rows_of(outcome)),
            key="bulk-render-problems",
            description=f"Rows of job {job.job_id} that produced no image",
        )
    create_markdown_artifact(
        markdown=(
            f"**{job.job_id}**: {outcome.rendered} rendered now, {outcome.skipped} from earlier runs, "
            f"{len(outcome.problems)} refused; zip at `{key}`"
        ),
        key="bulk-render-summary",
    )
    return BulkReport(
        job_id=job.job_id,
        rendered=outcome.rendered,
        skipped=outcome.skipped,
        problems=len(outcome.problems),
        zip_key=key,
        parts=len(slices),
    )


def _render_in_child_runs(
    runtime: Runtime,
    job: BulkJob,
    csv_key: str,
    slices: list[tuple[int, int]],
    workers: int | None,
    fmt: ImageFormat,
    quality: int,
) -> BulkOutcome:
    """The job's outcome once one `bulk-render-part` child run per slice has completed."""
    # Rows the CSV check refused belong to no slice: their events are written here.
    render_bulk_images(runtime, replace(job, rows=[]), 1)
    children = [
        run_deployment(
            PART_DEPLOYMENT,
            parameters={
                "template_slug": job.meta.slug, "csv_key": csv_key, "job_id": job.job_id,
                "start": start, "stop": stop, "workers": workers, "fmt": fmt, "quality": quality,
            },
            timeout=0,  # started, not awaited: the children run side by side on the pool
            idempotency_key=f"{flow_run.id}:{start}-{stop}",
            flow_run_name=f"{job.job_id}-{start}-{stop}",
        ).id
        for start, stop in slices
    ]
    _await_children(list(children), ProgressArtifact(key="bulk-render-parts", description=f"Parts of {job.job_id}"))
    return gather_bulk_parts(runtime, job, slices)


def _await_children(children: list[UUID], progress: ProgressArtifact, poll_s: float = 2.0) -> None:
    """Nothing; returns once every child run is final, `DependencyError` naming any that did not complete."""
    pending = set(children)
    finished: dict[UUID, FlowRun] = {}
    with get_client(sync_client=True) as client:
        while pending:
            for run_id in sorted(pending):
                run = client.read_flow_run(run_id)
                if run.state is not None and run.state.is_final():
                    finished[run_id] = run
                    pending.discard(run_id)
            progress(len(finished), len(children))
            if pending:
                time.sleep(poll_s)
    failed = [f"{run.name} ({run.state.name})" for run in finished.values() if not run.state.is_completed()]
    if failed:
        # Their images stay stored: running this flow again resumes where the parts stopped.
        raise DependencyError(f"bulk parts did not complete: {', '.join(sorted(failed))}")
