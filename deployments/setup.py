"""`python -m deployments.setup`: the Prefect side of production, created or brought in step.

Run once per Prefect server (again after changing this file; every step is idempotent), before
`prefect deploy --all` and the workers:

- the `promostack-process` work pool and its queues with their limits (`QUEUES`);
- global concurrency limits for quotas that span machines (`GLOBAL_LIMITS`);
- the automations (`automations()`): a flow run whose heartbeats stop (its worker died; workers
  send one every `PREFECT_FLOWS_HEARTBEAT_FREQUENCY` = 30 s), or that stays Pending or Running
  with no heartbeat, is marked `Crashed` after 90 s, and
  a crashed run of a deployment tagged `idempotent` is scheduled again — the same run, with its
  parameters — so a bulk render, sync, export, reconcile or broadcast resumes on another worker.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from datetime import timedelta

from prefect import get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
    WorkPoolCreate,
)
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
from prefect.exceptions import ObjectNotFound

from tasks.quotas import FUNDERPRO_API, TWELVE_DATA

POOL = "promostack-process"
IDEMPOTENT_TAG = "idempotent"
# A run is a zombie when no heartbeat came for this long (three missed 30 s beats).
HEARTBEAT_GRACE = timedelta(seconds=90)


@dataclass(frozen=True)
class Queue:
    """A work queue of the pool: lower priority numbers are polled first."""

    name: str
    priority: int
    concurrency_limit: int | None = None


@dataclass(frozen=True)
class GlobalLimit:
    """A Prefect global concurrency limit; with `per_second` > 0, a rate limit (slots decay)."""

    name: str
    limit: int
    per_second: float = 0.0


QUEUES = [
    Queue("signals", priority=1),
    Queue("default", priority=2),
    # Bulk parts are CPU-heavy: at most this many at once over all workers leaves room for the rest.
    Queue("renders", priority=3, concurrency_limit=6),
    Queue("broadcasts", priority=3, concurrency_limit=2),
]

GLOBAL_LIMITS = [
    # Twelve Data's free plan: 8 requests a minute, whoever asks (taken in tasks/signals.py).
    GlobalLimit(TWELVE_DATA, limit=8, per_second=8 / 60),
    # FunderPro's discount API: requests in flight at once from every worker together (taken by
    # the coupon checks of bulk renders and promo flows, tasks/quotas.py).
    GlobalLimit(FUNDERPRO_API, limit=10),
]
# Bulk parts at once are bounded by the `renders` queue's limit and each worker's --limit.

ZOMBIE = "promostack: crash zombie flow runs"
RERUN = "promostack: re-run crashed idempotent deployments"
FINAL_EVENTS = [f"prefect.flow-run.{state}" for state in ("Completed", "Failed", "Cancelled", "Crashed")]


def automations() -> list[AutomationCore]:
    """The automations this set-up installs (matched to existing ones by name)."""
    zombie = AutomationCore(
        name=ZOMBIE,
        description="A flow run that stopped sending heartbeats (its worker died) becomes Crashed.",
        trigger=EventTrigger(
            match={"prefect.resource.id": "prefect.flow-run.*"},
            # Pending and Running arm it too: the cluster bench killed runs while their worker was
            # submitting them (Pending) and between Running and the first heartbeat; with
            # heartbeats alone neither is ever detected.
            after={"prefect.flow-run.Pending", "prefect.flow-run.Running", "prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.Running", "prefect.flow-run.heartbeat", *FINAL_EVENTS},
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=HEARTBEAT_GRACE,
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED, message=f"No heartbeat for {HEARTBEAT_GRACE.seconds} s: its worker died."
            )
        ],
    )
    rerun = AutomationCore(
        name=RERUN,
        description=f"A crashed run of a deployment tagged '{IDEMPOTENT_TAG}' is scheduled again (it resumes).",
        trigger=EventTrigger(
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related={"prefect.resource.role": "tag", "prefect.resource.id": f"prefect.tag.{IDEMPOTENT_TAG}"},
            expect={"prefect.flow-run.Crashed"},
            for_each={"prefect.resource.id"},
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[ChangeFlowRunState(state=StateType.SCHEDULED, name="AwaitingRetry", message="Re-run after a crash.")],
    )
    return [zombie, rerun]


async def set_up(pool_limit: int | None = None) -> list[str]:
    """What was created or updated, one line each."""
    done: list[str] = []
    async with get_client() as client:
        try:
            await client.read_work_pool(POOL)
        except ObjectNotFound:
            await client.create_work_pool(WorkPoolCreate(name=POOL, type="process", concurrency_limit=pool_limit))
            done.append(f"work pool {POOL} created")
        existing = {q.name: q for q in await client.read_work_queues(work_pool_name=POOL)}
        for queue in QUEUES:
            if queue.name in existing:
                await client.update_work_queue(
                    existing[queue.name].id, priority=queue.priority, concurrency_limit=queue.concurrency_limit
                )
                done.append(f"work queue {queue.name} updated")
            else:
                await client.create_work_queue(
                    queue.name, work_pool_name=POOL, priority=queue.priority, concurrency_limit=queue.concurrency_limit
                )
                done.append(f"work queue {queue.name} created")
        for gcl in GLOBAL_LIMITS:
            try:
                await client.read_global_concurrency_limit_by_name(gcl.name)
                await client.update_global_concurrency_limit(
                    gcl.name, GlobalConcurrencyLimitUpdate(limit=gcl.limit, slot_decay_per_second=gcl.per_second)
                )
                done.append(f"global limit {gcl.name} updated")
            except ObjectNotFound:
                await client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=gcl.name, limit=gcl.limit, slot_decay_per_second=gcl.per_second)
                )
                done.append(f"global limit {gcl.name} created")
        for automation in automations():
            found = await client.read_automations_by_name(automation.name)
            if found:
                await client.update_automation(found[0].id, automation)
                done.append(f"automation '{automation.name}' updated")
            else:
                await client.create_automation(automation)
                done.append(f"automation '{automation.name}' created")
    return done


def main() -> None:
    """Set up the Prefect server `PREFECT_API_URL` names and print what changed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool-limit", type=int, default=None, help="flow runs at once over the whole pool")
    args = parser.parse_args()
    for line in asyncio.run(set_up(args.pool_limit)):
        print(line)


if __name__ == "__main__":
    main()
