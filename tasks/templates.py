"""Prefect tasks around the template store: copying and indexing for the template sync."""

from __future__ import annotations

from prefect import task

from promostack.templates.schema import TemplateMeta
from promostack.templates.store import TemplateStore
from promostack.templates.sync import SyncAction
from tasks.render import RETRY_DEPENDENCY_ERRORS


@task(name="scan-templates", **RETRY_DEPENDENCY_ERRORS)
def scan_templates(templates: TemplateStore) -> tuple[dict[str, TemplateMeta], dict[str, str]]:
    """Every readable meta of `templates` by slug, and the unreadable ones with the reason."""
    return templates.scan()


@task(name="copy-template", **RETRY_DEPENDENCY_ERRORS)
def copy_template(action: SyncAction, mirror: TemplateStore, remote: TemplateStore) -> int:
    """The version copied: the template of `action` from one side to the other, as it is there."""
    source, target = (mirror, remote) if action.direction == "push" else (remote, mirror)
    meta = source.get(action.slug)
    target.save(meta, source.image(action.slug, meta), keep_version=True, rebuild=False)
    return meta.version


@task(name="rebuild-index", **RETRY_DEPENDENCY_ERRORS)
def rebuild_index(templates: TemplateStore) -> int:
    """The number of templates in the rebuilt index."""
    return len(templates.rebuild_index().templates)
