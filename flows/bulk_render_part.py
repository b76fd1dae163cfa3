"""The `bulk-render-part` flow: one slice of a big bulk render, run by a worker of the pool.

Started by `bulk-render` (flows/bulk_render.py) as a child flow run, one per ~1 000 codes. It
reads the job's CSV from object storage, renders rows `start:stop` straight into the job's
storage prefix (skipping images already there, so a re-run resumes), writes each row's
generation event with the job-derived id (a re-run writes none twice), keeps the slice's refused
rows in storage for the parent, and returns counts only: no image passes through Prefect.
"""

from prefect import flow
from pydantic import BaseModel

from promostack.render.encode import ImageFormat
from promostack.runtime import current_runtime
from tasks.render import prepare_bulk_job, render_bulk_slice


class PartReport(BaseModel):
    """What one slice did."""

    job_id: str
    start: int
    stop: int
    rendered: int
    skipped: int
    problems: int


@flow(name="bulk-render-part", persist_result=False)
def bulk_render_part(
    template_slug: str,
    csv_key: str,
    job_id: str,
    start: int,
    stop: int,
    workers: int = 2,
    fmt: ImageFormat = "png",
    quality: int = 90,
) -> PartReport:
    """The counts of rendering rows `start:stop` of the job's CSV."""
    runtime = current_runtime()
    job = prepare_bulk_job(runtime, template_slug, None, csv_key, job_id, fmt, quality)
    outcome = render_bulk_slice(runtime, job, start, stop, workers)
    return PartReport(
        job_id=job.job_id,
        start=start,
        stop=stop,
        rendered=outcome.rendered,
        skipped=outcome.skipped,
        problems=len(outcome.problems),
    )
