"""Prefect tasks around rendering: storing renders, recording them, and the bulk job's steps.

Only dependency failures are retried (`retry_on_dependency_error`): a bad coupon, template or
text fails the same way every time, so retrying it would only delay the answer.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from prefect import task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from promostack.bulk import BulkJob, BulkOutcome, generation_record, prepare_job, run_bulk, write_zip
from promostack.promo import (
    Format,
    GenerationLog,
    GenerationRecord,
    record_generation,
    services_for,
    store_render,
)
from promostack.runtime import current_runtime
from tasks.retries import retry_on_dependency_error

# Options of every task here: dependency failures retried, nothing cached or persisted.
RETRY_DEPENDENCY_ERRORS: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": [0.5, 1.5],
    "retry_condition_fn": retry_on_dependency_error,
    "cache_policy": NO_CACHE,
    # Image bytes never go to result storage: the caller gets them in memory.
    "persist_result": False,
}


@task(name="store-render", **RETRY_DEPENDENCY_ERRORS)
async def store_render_task(image: bytes, key: str) -> str:
    """`key`, with the image stored there (a retry overwrites the same key: no orphans)."""
    return await asyncio.to_thread(store_render, current_runtime().store, image, key)


@task(name="record-generation", **RETRY_DEPENDENCY_ERRORS)
async def record_generation_task(record: GenerationRecord) -> None:
    """Nothing; the attempt is in `generation_events` afterwards."""
    await asyncio.to_thread(record_generation, current_runtime(), record)


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
    template_slug: str,
    csv_text: str | None,
    csv_key: str | None,
    job_id: str | None,
    fmt: Format,
    quality: int,
) -> BulkJob:
    """The job: template, background, parsed rows and refused rows."""
    templates = services_for(current_runtime()).templates
    return prepare_job(
        templates, template_slug, csv_text=csv_text, csv_key=csv_key, job_id=job_id, fmt=fmt, quality=quality
    )


# Retrying the whole render step is safe: images already stored are skipped on the next try.
@task(name="render-bulk-images", **RETRY_DEPENDENCY_ERRORS)
def render_bulk_images(job: BulkJob, workers: int) -> BulkOutcome:
    """What this run rendered, skipped and refused; progress goes to a progress artifact."""
    runtime = current_runtime()
    progress = ProgressArtifact(key=f"bulk-{_artifact_key(job.job_id)}", description=f"Bulk render {job.job_id}")
    with GenerationLog(runtime) as events:
        return run_bulk(
            job,
            runtime.store,
            validator=services_for(runtime).validator,
            workers=workers,
            on_progress=progress,
            on_row=lambda code, key, problem: events.add(
                generation_record(job, code, key, problem, user_ref=f"job:{job.job_id}")
            ),
        )


@task(name="write-bulk-zip", **RETRY_DEPENDENCY_ERRORS)
def write_bulk_zip(job: BulkJob, outcome: BulkOutcome, zip_key: str | None) -> str:
    """The storage key of the zip of every image of the job."""
    return write_zip(job, outcome, current_runtime().store, zip_key)


def _artifact_key(job_id: str) -> str:
    # Artifact keys allow lower-case letters, digits and dashes only.
    return "".join(c if c.isalnum() else "-" for c in job_id.lower())
