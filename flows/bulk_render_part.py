"""The `bulk-render-part` flow: one slice of a big bulk render, run by a worker of the pool.

Started by `bulk-render` (flows/bulk_render.py) as a child flow run, one per ~1 000 codes. It
reads the job's CSV from object storage, renders rows `start:stop` straight into the job's
storage prefix (skipping images already there, so a re-run resumes), writes each row's
generation event with the job-derived id (a re-run writes none twice), keeps the slice's refused
rows in storage for the parent, and returns counts only: no image passes through Prefect.

A part renders in as many threads as the CPUs its process may use (`usable_cpus`): a flow run
inherits its worker's CPU affinity, and a worker is a machine (`deployments/worker.py` sizes its
`--limit` from the same count), so a part uses the machine it lands on and no more.
"""

from prefect import flow, get_run_logger
from pydantic import BaseModel

from promostack.bulk import MAX_WORKERS
from promostack.cpus import usable_cpus
from promostack.render.encode import ImageFormat
from promostack.runtime import current_runtime
from tasks.render import prepare_bulk_job, render_bulk_slice

def render_threads(workers: int | None, declared_cpus: int | None = None) -> int:
    """The render threads of a bulk run: `workers` when given, else one per CPU this process may use."""
    return workers if workers is not None else min(usable_cpus(declared=declared_cpus), MAX_WORKERS)


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
    workers: int | None = None,
    fmt: ImageFormat = "png",
    quality: int = 90,
) -> PartReport:
    """The counts of rendering rows `start:stop` of the job's CSV (in `workers` threads; by
    default one per CPU this run's process may use)."""
    runtime = current_runtime()
    job = prepare_bulk_job(runtime, template_slug, None, csv_key, job_id, fmt, quality)
    threads = render_threads(workers, runtime.settings.worker_cpus)
    get_run_logger().info(f"rows {start}-{stop} of {job.job_id} in {threads} render thread(s)")
    outcome = render_bulk_slice(runtime, job, start, stop, threads)
    return PartReport(
        job_id=job.job_id,
        start=start,
        stop=stop,
        rendered=outcome.rendered,
        skipped=outcome.skipped,
        problems=len(outcome.problems),
    )
