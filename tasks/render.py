"""Prefect tasks of the bulk render: prepare the job, render its rows, write the zip.

Only dependency failures are retried (`retry_on_dependency_error`): a bad coupon, template or
text fails the same way every time, so retrying it would only delay the answer.
"""

from __future__ import annotations

import time

from prefect import task
from prefect.artifacts import create_progress_artifact, update_progress_artifact

from promostack.bulk import BulkJob, BulkOutcome, generation_record, prepare_job, run_bulk, write_zip
from promostack.db.generations import GenerationLog
from promostack.render.encode import ImageFormat
from promostack.runtime import Runtime
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
            validator=runtime.validator,
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


def _artifact_key(job_id: str) -> str:
    # Artifact keys allow lower-case letters, digits and dashes only.
    return "".join(c if c.isalnum() else "-" for c in job_id.lower())
