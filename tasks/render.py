"""Prefect tasks of the bulk render: prepare the job, render its rows, write the zip.

Only dependency failures are retried (`retry_on_dependency_error`): a bad coupon, template or
text fails the same way every time, so retrying it would only delay the answer.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

from prefect import task
from prefect.artifacts import create_progress_artifact, update_progress_artifact

from promostack.bulk import (
    BulkJob,
    BulkOutcome,
    RowProblem,
    generation_record,
    images_prefix,
    prepare_job,
    run_bulk,
    write_zip,
)
from promostack.db.generations import GenerationLog
from promostack.render.encode import ImageFormat
from promostack.runtime import Runtime
from tasks.quotas import flow_validator
from tasks.retries import RETRY_DEPENDENCY_ERRORS


class ProgressArtifact:
    """A Prefect progress artifact updated at most every `every_s` seconds (and at the end)."""

    def __init__(self, key: str, description: str, every_s: float = 0.5) -> None:
        self.artifact_id = create_progress_artifact(progress=0.0, key=key, description=description)
        self.every_s = every_s
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.every_s:
            return
        self._last = now
        update_progress_artifact(self.artifact_id, progress=100.0 * done / total if total else 100.0)


# --- bulk renders --------------------------------------------------------------------------------


@task(name="prepare-bulk-job", **RETRY_DEPENDENCY_ERRORS)
def prepare_bulk_job(
    runtime: Runtime,
    template_slug: str,
    csv_text: str | None,
    csv_key: str | None,
    job_id: str | None,
    fmt: ImageFormat,
    quality: int,
) -> BulkJob:
    """The job: template, background, parsed rows and refused rows."""
    return prepare_job(
        runtime.templates, template_slug, csv_text=csv_text, csv_key=csv_key, job_id=job_id, fmt=fmt, quality=quality
    )


# Retrying the whole render step is safe: images already stored are skipped on the next try.
@task(name="render-bulk-images", **RETRY_DEPENDENCY_ERRORS)
def render_bulk_images(runtime: Runtime, job: BulkJob, workers: int) -> BulkOutcome:
    """What this run rendered, skipped and refused; progress goes to a progress artifact."""
    progress = ProgressArtifact(key=f"bulk-{_artifact_key(job.job_id)}", description=f"Bulk render {job.job_id}")
    with GenerationLog(runtime.sessions) as events:
        return run_bulk(
            job,
            runtime.store,
            validator=flow_validator(runtime),  # FunderPro's checks share one limit over all workers
            workers=workers,
            on_progress=progress,
            on_row=lambda code, key, problem: events.add(
                generation_record(job, code, key, problem, user_ref=f"job:{job.job_id}")
            ),
        )


@task(name="write-bulk-zip", **RETRY_DEPENDENCY_ERRORS)
def write_bulk_zip(runtime: Runtime, job: BulkJob, outcome: BulkOutcome, zip_key: str | None) -> str:
    """The storage key of the zip of every image of the job."""
    return write_zip(job, outcome, runtime.store, zip_key)


# --- big bulk renders: slices run as child flow runs (flows/bulk_render_part.py) -----------------


def part_summary_key(job_id: str, start: int, stop: int) -> str:
    """Where a slice's counts and refused rows are kept for the parent (never images)."""
    return f"bulk/{job_id}/parts/{start:06d}-{stop:06d}.json"


@task(name="store-job-codes", **RETRY_DEPENDENCY_ERRORS)
def store_job_codes(runtime: Runtime, job_id: str, csv_text: str) -> str:
    """The storage key of the job's codes CSV, stored for the child runs to read (not passed as a
    parameter: 10 000 codes would weigh on every child run's record in Prefect)."""
    key = f"bulk/{job_id}/codes.csv"
    runtime.store.put(key, csv_text.encode("utf-8"), "text/csv")
    return key


@task(name="render-bulk-slice", **RETRY_DEPENDENCY_ERRORS)
def render_bulk_slice(runtime: Runtime, job: BulkJob, start: int, stop: int, workers: int) -> BulkOutcome:
    """What rendering rows `start:stop` of `job` did; its counts and refused rows are stored for
    the parent (results of child runs are not persisted, and storage is where the images are)."""
    part = replace(job, rows=job.rows[start:stop], problems=[])
    outcome = render_bulk_images.fn(runtime, part, workers)
    summary = {
        "rendered": outcome.rendered,
        "skipped": outcome.skipped,
        "problems": [[p.line, p.code, p.problem] for p in outcome.problems],
    }
    runtime.store.put(part_summary_key(job.job_id, start, stop), json.dumps(summary).encode(), "application/json")
    return outcome


@task(name="gather-bulk-parts", **RETRY_DEPENDENCY_ERRORS)
def gather_bulk_parts(runtime: Runtime, job: BulkJob, slices: list[tuple[int, int]]) -> BulkOutcome:
    """The whole job's outcome from what its slices stored: counts, images in row order, refused rows."""
    problems = list(job.problems)
    rendered = skipped = 0
    for start, stop in slices:
        summary = json.loads(runtime.store.get(part_summary_key(job.job_id, start, stop)))
        rendered += summary["rendered"]
        skipped += summary["skipped"]
        problems += [RowProblem(*row) for row in summary["problems"]]
    stored = {info.key for info in runtime.store.list(images_prefix(job.job_id))}
    keys = [job.image_key(row.code) for row in job.rows if job.image_key(row.code) in stored]
    return BulkOutcome(job.job_id, rendered, skipped, sorted(problems, key=lambda p: p.line), keys)


def _artifact_key(job_id: str) -> str:
    # Artifact keys allow lower-case letters, digits and dashes only.
    return "".join(c if c.isalnum() else "-" for c in job_id.lower())
