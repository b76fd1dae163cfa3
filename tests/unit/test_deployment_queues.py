"""prefect.yaml puts each deployment on a queue the set-up creates, with the limits ops rely on."""

from __future__ import annotations

import yaml

from deployments.serve import ROOT, read_specs, to_runner_deployment
from deployments.setup import POOL, QUEUES

DOCUMENT = yaml.safe_load((ROOT / "prefect.yaml").read_text())
BY_NAME = {entry["name"]: entry for entry in DOCUMENT["deployments"]}


def test_every_deployment_runs_on_a_queue_the_set_up_creates() -> None:
    queues = {q.name for q in QUEUES}
    for entry in DOCUMENT["deployments"]:
        assert entry["work_pool"]["name"] == POOL, entry["name"]
        assert entry["work_pool"]["work_queue_name"] in queues, entry["name"]


def test_scheduled_signals_runs_never_overlap() -> None:
    for name in ("generate-signals", "monitor-signals", "daily-recap", "weekly-recap"):
        assert BY_NAME[name]["work_pool"]["work_queue_name"] == "signals"
        assert BY_NAME[name]["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}
    [spec] = [s for s in read_specs() if s.name == "generate-signals"]
    assert to_runner_deployment(spec).concurrency_limit == 1


def test_bulk_renders_and_their_parts_share_the_capped_renders_queue_and_re_run_after_a_crash() -> None:
    for name in ("bulk-render", "bulk-render-part"):
        assert BY_NAME[name]["work_pool"]["work_queue_name"] == "renders"
        assert "idempotent" in BY_NAME[name]["tags"]
    assert next(q for q in QUEUES if q.name == "renders").concurrency_limit
