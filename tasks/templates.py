"""Prefect tasks around the template store: loading for renders, copying for the sync."""

from __future__ import annotations

import asyncio

from prefect import task
from prefect.cache_policies import NO_CACHE

from promostack.promo import load_template as load_template_from, services_for
from promostack.runtime import current_runtime
from promostack.templates.schema import TemplateMeta
from promostack.templates.store import TemplateStore
from promostack.templates.sync import SyncAction
from tasks.render import retry_on_dependency_error

_RETRY = {
    "retries": 2,
    "retry_delay_seconds": [0.5, 1.5],
    "retry_condition_fn": retry_on_dependency_error,
    "cache_policy": NO_CACHE,
    "persist_result": False,
}


@task(name="load-template", **_RETRY)
async def load_template(slug: str) -> tuple[TemplateMeta, bytes]:
    """The meta and background image of template `slug`."""
    templates = services_for(current_runtime()).templates
    return await asyncio.to_thread(load_template_from, templates, slug)


@task(name="scan-templates", **_RETRY)
def scan_templates(templates: TemplateStore) -> tuple[dict[str, TemplateMeta], dict[str, str]]:
    """Every readable meta of `templates` by slug, and the unreadable ones with the reason."""
    return templates.scan()


@task(name="copy-template", **_RETRY)
def copy_template(action: SyncAction, mirror: TemplateStore, remote: TemplateStore) -> int:
    """The version copied: the template of `action` from one side to the other, as it is there."""
    source, target = (mirror, remote) if action.direction == "push" else (remote, mirror)
    meta = source.get(action.slug)
    target.save(meta, source.image(action.slug, meta), keep_version=True, rebuild=False)
    return meta.version


@task(name="rebuild-index", **_RETRY)
def rebuild_index(templates: TemplateStore) -> int:
    """The number of templates in the rebuilt index."""
    return len(templates.rebuild_index().templates)
