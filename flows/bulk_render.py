"""The `bulk-render` flow: a CSV of codes becomes a zip of promo images in object storage.

Resumable by design: each image is stored as soon as it is rendered, and a run (or a retry of
the render task) with the same job id skips the codes already done. Rows that cannot be
rendered are listed in a table artifact and in the zip's `problems.csv`; they never stop the
batch. Progress is a progress artifact updated as images finish.
"""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from pydantic import BaseModel

from promostack.bulk import rows_of
from promostack.render.encode import ImageFormat
from promostack.runtime import current_runtime
from tasks.render import prepare_bulk_job, render_bulk_images, write_bulk_zip


class BulkReport(BaseModel):
    """What a bulk run produced."""

    job_id: str
    rendered: int
    skipped: int
    problems: int
    zip_key: str


@flow(name="bulk-render", persist_result=False)
def bulk_render(
    template_slug: str,
    csv_key: str | None = None,
    csv_text: str | None = None,
    job_id: str | None = None,
    workers: int = 2,
    fmt: ImageFormat = "png",
    quality: int = 90,
    zip_key: str | None = None,
) -> BulkReport:
    """The report of rendering every code of the CSV with template `template_slug`."""
    runtime = current_runtime()
    job = prepare_bulk_job(runtime, template_slug, csv_text, csv_key, job_id, fmt, quality)
    outcome = render_bulk_images(runtime, job, workers)
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
    )
