"""A big bulk render splits into child flow runs on the pool and still ends with one image and
one event per code, resuming what an earlier run stored."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId
from prefect.settings import PREFECT_API_URL

from promostack.bulk import prepare_job, run_bulk
from promostack.runtime import Runtime
from promostack.templates.store import TemplateStore
from tests.integration.test_render_flows import CODES, bulk_runtime, codes_csv, events, zip_names  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
SERVE_PART = "from flows.bulk_render_part import bulk_render_part; bulk_render_part.serve(name='bulk-render-part')"


@pytest.fixture
def part_worker(prefect_harness: None, bulk_runtime: Runtime) -> Iterator[None]:  # noqa: F811
    """A process serving the `bulk-render-part` deployment, on the test's database and store."""
    settings = bulk_runtime.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DATABASE_URL"))}
    env.update(
        PREFECT_API_URL=PREFECT_API_URL.value(),
        DATABASE_URL=settings.sqlalchemy_url,
        DATA_DIR=str(settings.data_dir),
        COUPON_VALIDATOR="local",
        PYTHONPATH=str(ROOT),
    )
    process = subprocess.Popen([sys.executable, "-c", SERVE_PART], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 120
        with get_client(sync_client=True) as client:
            while True:
                try:
                    client.read_deployment_by_name("bulk-render-part/bulk-render-part")
                    break
                except Exception:
                    assert process.poll() is None, "the part worker exited while starting"
                    assert time.monotonic() < deadline, "the part deployment was not served in 120 s"
                    time.sleep(0.5)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_big_bulk_render_runs_as_child_runs_and_resumes_what_was_stored(
    part_worker: None, bulk_runtime: Runtime  # noqa: F811
) -> None:
    from flows.bulk_render import bulk_render

    csv_text = codes_csv(["bad code!,Nope"])
    job = prepare_job(TemplateStore(bulk_runtime.store), "bulk", csv_text=csv_text)

    # An earlier run stored 3 images and died before writing their events.
    run_bulk(replace(job, rows=job.rows[:3], problems=[]), bulk_runtime.store)

    state = bulk_render(
        template_slug="bulk", csv_text=csv_text, workers=1, split_above=5, part_size=6, return_state=True
    )
    report = state.result()
    assert (report.parts, report.rendered, report.skipped, report.problems) == (4, 17, 3, 1)
    assert zip_names(bulk_runtime, report.zip_key) == sorted([f"{c}.png" for c in CODES] + ["problems.csv"])
    made = [e.coupon_code for e in events(bulk_runtime) if e.success]
    assert sorted(made) == CODES, "an image without its event, or an event twice"

    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[state.state_details.flow_run_id]))
        )
    assert len(children) == 4 and all(child.state.is_completed() for child in children)
