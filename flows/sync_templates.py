"""The `sync-templates` flow: the local mirror and object storage kept in step, both ways.

Per template the newest `updated_at` wins (`promostack.templates.sync.plan_sync`); copies keep
the template's own version and time, and back up the meta they replace on the receiving side.
A template deleted on one side after its last change is deleted on the other too.
Both indexes are rebuilt, and a table artifact lists what moved.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel

from promostack.errors import DependencyError, InvalidInput, NotFound
from promostack.runtime import current_runtime
from promostack.storage import LocalStore
from promostack.templates.store import TemplateStore
from promostack.templates.sync import SyncAction, plan_sync
from tasks.templates import apply_sync_action, rebuild_index, scan_templates


class SyncReport(BaseModel):
    """What one sync moved: copies and deletions pushed to storage or pulled into the mirror."""

    pushed: list[str]
    pulled: list[str]
    deleted: list[str]
    in_step: list[str]
    failed: dict[str, str]


class SyncIncomplete(DependencyError):
    """Some templates could not be copied; the next scheduled run tries them again."""


@flow(name="sync-templates", persist_result=False)
def sync_templates(mirror_dir: str | None = None) -> SyncReport:
    """The report of bringing the mirror (default `$DATA_DIR/mirror`) and storage in step."""
    runtime = current_runtime()
    mirror = TemplateStore(LocalStore(Path(mirror_dir) if mirror_dir else runtime.settings.data_dir / "mirror"))
    remote = runtime.templates
    local = scan_templates(mirror)
    stored = scan_templates(remote)
    plan = plan_sync(local.metas, stored.metas, local.deleted, stored.deleted)

    rows: list[dict[str, object]] = []
    failed: dict[str, str] = {}
    for slug, reason in {**local.broken, **stored.broken}.items():
        rows.append({"template": slug, "action": "none", "why": f"unreadable meta: {reason}"})
    for action in plan.actions:
        try:
            apply_sync_action(action, mirror, remote)
        except (InvalidInput, NotFound, DependencyError) as exc:
            # One bad template must not hold back the others.
            failed[action.slug] = str(exc)
            rows.append({"template": action.slug, "action": f"{_verb(action)} FAILED", "why": str(exc)})
            continue
        rows.append(
            {
                "template": action.slug,
                "action": _verb(action),
                "why": action.reason,
                "mirror version": action.local_version,
                "storage version": action.remote_version,
            }
        )
    rebuild_index(mirror)
    rebuild_index(remote)
    create_table_artifact(
        table=rows or [{"template": "-", "action": "none", "why": "everything already in step"}],
        key="template-sync",
        description=f"{len(plan.pushes)} changes pushed, {len(plan.pulls)} pulled, {len(plan.in_step)} in step",
    )
    report = SyncReport(
        pushed=[a.slug for a in plan.pushes if a.slug not in failed and a.kind == "copy"],
        pulled=[a.slug for a in plan.pulls if a.slug not in failed and a.kind == "copy"],
        deleted=[a.slug for a in plan.actions if a.slug not in failed and a.kind == "delete"],
        in_step=plan.in_step,
        failed=failed,
    )
    get_run_logger().info("template sync: %s", report.model_dump_json())
    if failed:
        raise SyncIncomplete(f"could not copy {', '.join(sorted(failed))}: {failed}")
    return report


def _verb(action: SyncAction) -> str:
    if action.kind == "delete":
        return "delete from storage" if action.direction == "push" else "delete from the mirror"
    return action.direction
