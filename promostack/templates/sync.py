"""Planning the template sync between the local mirror and object storage (pure: no I/O).

Per template the newest `updated_at` wins (the version breaks a tie); a template on one side
only is copied to the other. Deletions are not propagated: a template missing on one side is
indistinguishable from a new one on the other, so the plan copies rather than deletes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from promostack.templates.schema import TemplateMeta

Direction = Literal["push", "pull"]  # push: mirror → storage; pull: storage → mirror


@dataclass(frozen=True)
class SyncAction:
    """One template to copy, which way, and why."""

    slug: str
    direction: Direction
    reason: str
    local_version: int | None
    remote_version: int | None


@dataclass(frozen=True)
class SyncPlan:
    """Every copy to make, and the slugs already in step."""

    actions: list[SyncAction] = field(default_factory=list)
    in_step: list[str] = field(default_factory=list)

    @property
    def pushes(self) -> list[SyncAction]:
        """The copies from the mirror to object storage."""
        return [a for a in self.actions if a.direction == "push"]

    @property
    def pulls(self) -> list[SyncAction]:
        """The copies from object storage to the mirror."""
        return [a for a in self.actions if a.direction == "pull"]


def plan_sync(local_metas: Mapping[str, TemplateMeta], remote_metas: Mapping[str, TemplateMeta]) -> SyncPlan:
    """The copies that bring the mirror (`local_metas`) and storage (`remote_metas`) in step."""
    actions: list[SyncAction] = []
    in_step: list[str] = []
    for slug in sorted(set(local_metas) | set(remote_metas)):
        local, remote = local_metas.get(slug), remote_metas.get(slug)
        if remote is None:
            assert local is not None
            actions.append(SyncAction(slug, "push", "only in the mirror", local.version, None))
        elif local is None:
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
