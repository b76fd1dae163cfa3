"""Prefect tasks of the campaign lifecycle: database work, retried when the database fails.

Each task is handed the flow's `Runtime` first; nothing is cached or persisted, so Prefect never
hashes or serialises it.
"""

from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from promostack.campaigns.lifecycle import Digest, StatusChange, apply_due_changes, digests
from promostack.runtime import Runtime
from tasks.retries import retry_on_dependency_error

# The database is the dependency here; a failed run changed nothing (one transaction).
_DATABASE = {"retries": 2, "retry_delay_seconds": [1, 5], "retry_condition_fn": retry_on_dependency_error,
             "cache_policy": NO_CACHE, "persist_result": False}


@task(name="open-and-end-campaigns", **_DATABASE)
def open_and_end_campaigns(runtime: Runtime, now: datetime) -> list[StatusChange]:
    """The campaigns opened or ended because their start or end time came."""
    return apply_due_changes(runtime.sessions, now)


@task(name="count-campaign-activity", **_DATABASE)
def count_campaign_activity(runtime: Runtime, since: datetime) -> list[Digest]:
    """Photos made and posts entered since `since`, per live campaign."""
    return digests(runtime.sessions, since)
