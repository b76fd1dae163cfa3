"""Planning the template sync between the local mirror and object storage (pure: no I/O).

Per template the newest `updated_at` wins (the version breaks a tie); a template on one side
only is copied to the other — unless the other side deleted it after its last change (a
delete leaves a marker with its time), in which case the deletion wins and is carried over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from promostack.templates.schema import TemplateMeta

Direction = Literal["push", "pull"]  # push: mirror → storage; pull: storage → mirror
Kind = Literal["copy", "delete"]


@dataclass(frozen=True)
class SyncAction:
    """One template to copy or delete, on which side, and why."""

    slug: str
    direction: Direction
    reason: str
    local_version: int | None
    remote_version: int | None
    kind: Kind = "copy"


@dataclass(frozen=True)
class SyncPlan:
    """Every change to make, and the slugs already in step."""

    actions: list[SyncAction] = field(default_factory=list)
    in_step: list[str] = field(default_factory=list)

    @property
    def pushes(self) -> list[SyncAction]:
        """The changes made to object storage."""
        return [a for a in self.actions if a.direction == "push"]

    @property
    def pulls(self) -> list[SyncAction]:
        """The changes made to the mirror."""
        return [a for a in self.actions if a.direction == "pull"]


def plan_sync(
    local_metas: Mapping[str, TemplateMeta],
    remote_metas: Mapping[str, TemplateMeta],
    local_deleted: Mapping[str, datetime] | None = None,
    remote_deleted: Mapping[str, datetime] | None = None,
) -> SyncPlan:
    """The changes that bring the mirror (`local_*`) and storage (`remote_*`) in step.

    `*_deleted` give, per slug, when a side deleted that template (its delete marker).
    """
    local_deleted = local_deleted or {}
    remote_deleted = remote_deleted or {}
    actions: list[SyncAction] = []
    in_step: list[str] = []
    for slug in sorted(set(local_metas) | set(remote_metas)):
        local, remote = local_metas.get(slug), remote_metas.get(slug)
        if remote is None:
            assert local is not None
            deleted = remote_deleted.get(slug)
            if deleted is not None and deleted >= local.updated_at:
                actions.append(SyncAction(slug, "pull", "deleted in storage", local.version, None, "delete"))
            else:
                actions.append(SyncAction(slug, "push", "only in the mirror", local.version, None))
        elif local is None:
            deleted = local_deleted.get(slug)
            if deleted is not None and deleted >= remote.updated_at:
                actions.append(SyncAction(slug, "push", "deleted in the mirror", None, remote.version, "delete"))
            else:
                actions.append(SyncAction(slug, "pull", "only in storage", None, remote.version))
        else:
            local_key, remote_key = (local.updated_at, local.version), (remote.updated_at, remote.version)
            if local_key > remote_key:
                actions.append(SyncAction(slug, "push", "newer in the mirror", local.version, remote.version))
            elif remote_key > local_key:
                actions.append(SyncAction(slug, "pull", "newer in storage", local.version, remote.version))
            else:
                in_step.append(slug)
    return SyncPlan(actions=actions, in_step=in_step)
