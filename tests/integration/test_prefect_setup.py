"""`python -m deployments.setup` against a real Prefect server: pool, queues, limits, automations."""

from __future__ import annotations

import asyncio

import pytest
from prefect import get_client
from prefect.client.schemas.objects import StateType

from deployments.setup import GLOBAL_LIMITS, POOL, QUEUES, RERUN, ZOMBIE, set_up


async def _server_view() -> dict[str, object]:
    async with get_client() as client:
        queues = {q.name: (q.priority, q.concurrency_limit) for q in await client.read_work_queues(work_pool_name=POOL)}
        limits = {}
        for gcl in GLOBAL_LIMITS:
            found = await client.read_global_concurrency_limit_by_name(gcl.name)
            limits[gcl.name] = (found.limit, found.slot_decay_per_second)
        zombie = await client.read_automations_by_name(ZOMBIE)
        rerun = await client.read_automations_by_name(RERUN)
        pool = await client.read_work_pool(POOL)
    return {"pool": pool.type, "queues": queues, "limits": limits, "zombie": zombie, "rerun": rerun}


@pytest.mark.usefixtures("prefect_harness")
def test_set_up_installs_the_pool_queues_limits_and_the_zombie_automation_once() -> None:
    asyncio.run(set_up())
    second = asyncio.run(set_up())  # run again (a redeploy): updates in place, adds nothing
    view = asyncio.run(_server_view())

    assert view["pool"] == "process"
    assert view["queues"] == {q.name: (q.priority, q.concurrency_limit) for q in QUEUES}
    assert view["limits"] == {g.name: (g.limit, g.per_second) for g in GLOBAL_LIMITS}
    assert not any("created" in line for line in second)

    [zombie] = view["zombie"]
    assert zombie.trigger.posture == "Proactive" and zombie.trigger.within.total_seconds() == 90
    assert zombie.trigger.after == {"prefect.flow-run.Pending", "prefect.flow-run.Running", "prefect.flow-run.heartbeat"}
    assert "prefect.flow-run.heartbeat" in zombie.trigger.expect
    assert [(a.type, a.state) for a in zombie.actions] == [("change-flow-run-state", StateType.CRASHED)]

    [rerun] = view["rerun"]
    assert rerun.trigger.expect == {"prefect.flow-run.Crashed"}
    assert [(a.type, a.state) for a in rerun.actions] == [("change-flow-run-state", StateType.SCHEDULED)]
