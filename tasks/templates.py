"""Prefect tasks around the template store: scanning, copying, deleting and indexing for the sync."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prefect import task

from promostack.templates.schema import TemplateMeta
from promostack.templates.store import TemplateStore
from promostack.templates.sync import SyncAction
from tasks.render import RETRY_DEPENDENCY_ERRORS


@dataclass(frozen=True)
class TemplateScan:
    """One side of the sync: readable metas, unreadable ones (with the reason), deletions."""

    metas: dict[str, TemplateMeta]
    broken: dict[str, str]
    deleted: dict[str, datetime]


@task(name="scan-templates", **RETRY_DEPENDENCY_ERRORS)
def scan_templates(templates: TemplateStore) -> TemplateScan:
    """What `templates` holds, for planning the sync."""
    metas, broken = templates.scan()
    return TemplateScan(metas, broken, templates.deletions())


@task(name="apply-sync-action", **RETRY_DEPENDENCY_ERRORS)
def apply_sync_action(action: SyncAction, mirror: TemplateStore, remote: TemplateStore) -> None:
    """Nothing; the template of `action` is copied to, or deleted from, the side it names."""
    source, target = (mirror, remote) if action.direction == "push" else (remote, mirror)
    if action.kind == "delete":
        if target.exists(action.slug):  # a retry after a delete that went through finds nothing
            target.delete(action.slug)
        return
    meta = source.get(action.slug)
    target.save(meta, source.image(action.slug, meta), keep_version=True, rebuild=False)


@task(name="rebuild-index", **RETRY_DEPENDENCY_ERRORS)
def rebuild_index(templates: TemplateStore) -> int:
    """The number of templates in the rebuilt index."""
    return len(templates.rebuild_index().templates)
