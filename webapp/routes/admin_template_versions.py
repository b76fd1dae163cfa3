"""A template's version history under `/admin/api/templates/<slug>/versions`: the meta.json
backups the store keeps on every save, listed, read (for the editor's preview) and restored.

A backup is named by its UTC stamp (`templates/<slug>/backups/meta-<stamp>.json`); restoring one
saves its areas, settings and background as the template's next version (so a restore is itself
undone by restoring the backup it leaves), refused with 409 `conflict` when the template moved on
since the editor read it or the backup's background is gone. Routes raise; the app's handlers
answer (`webapp.errors`): an unknown template or version 404, a bad slug or version number 422.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from promostack.errors import InvalidInput, NotFound
from promostack.storage import ObjectNotFound, content_type_of
from promostack.templates.schema import TemplateMeta
from promostack.templates.store import TemplateChanged, TemplateStore, parse_meta
from webapp.auth import admin_api
from webapp.context import runtime
from webapp.errors import WebError
from webapp.routes.admin_json import json_body

STAMP_RE = re.compile(r"^\d{8}T\d{6}(?:\.\d{6})?Z\Z")


def _templates(request: Request) -> TemplateStore:
    # The runtime's store: the one the public pages, the API and the bots read (and cache) too.
    return runtime(request).templates


def _stamp_of(key: str) -> str:
    return key.rsplit("/", 1)[-1].removeprefix("meta-").removesuffix(".json")


def _backup(store: TemplateStore, slug: str, stamp: str) -> TemplateMeta:
    """The meta kept in `slug`'s backup `stamp`; NotFound when there is none."""
    if not STAMP_RE.match(stamp):
        raise NotFound(f"no version {stamp!r} of template {slug!r}")
    key = f"templates/{slug}/backups/meta-{stamp}.json"
    if key not in store.backups(slug):
        raise NotFound(f"no version {stamp!r} of template {slug!r}")
    return parse_meta(store.store.get(key))


def _backup_image(store: TemplateStore, meta: TemplateMeta) -> bytes:
    """The background a backup was drawn on; NotFound when it is no longer stored."""
    try:
        return store.store.get(meta.image_key)
    except ObjectNotFound:
        # The store's ObjectNotFound is also a StorageError (503): here it is the caller's 404.
        raise NotFound("the background of that version is no longer stored") from None


def _history(store: TemplateStore, slug: str) -> list[dict[str, object]]:
    """The backups of `slug`, newest first, each with what the list shows (or why it is unreadable)."""
    store.get(slug)  # NotFound for an unknown template
    rows: list[dict[str, object]] = []
    for key in reversed(store.backups(slug)):
        stamp = _stamp_of(key)
        try:
            meta = parse_meta(store.store.get(key))
        except (InvalidInput, ObjectNotFound) as exc:
            rows.append({"id": stamp, "readable": False, "error": str(exc)})
            continue
        rows.append(
            {
                "id": stamp,
                "readable": True,
                "version": meta.version,
                "name": meta.name,
                "areas": len(meta.text_areas),
                "logo": meta.logo_area is not None,
                "saved_at": meta.updated_at.isoformat(),
                "image_key": meta.image_key,
            }
        )
    return rows


@admin_api
async def list_versions(request: Request) -> Response:
    """`{"current": version, "versions": [...]}`: the saved versions a template can go back to."""
    slug = request.path_params["slug"]
    store = _templates(request)
    current = await run_in_threadpool(store.get, slug)
    rows = await run_in_threadpool(_history, store, slug)
    return JSONResponse({"current": current.version, "versions": rows})


@admin_api
async def get_version(request: Request) -> Response:
    """The meta kept in one backup, for the editor to preview."""
    slug, stamp = request.path_params["slug"], request.path_params["stamp"]
    meta = await run_in_threadpool(_backup, _templates(request), slug, stamp)
    return JSONResponse(meta.model_dump(mode="json"))


@admin_api
async def version_image(request: Request) -> Response:
    """The background a backup was drawn on (it may be an earlier image than today's)."""
    slug, stamp = request.path_params["slug"], request.path_params["stamp"]
    store = _templates(request)
    meta = await run_in_threadpool(_backup, store, slug, stamp)
    data = await run_in_threadpool(_backup_image, store, meta)
    return Response(
        data,
        media_type=content_type_of(meta.image_key),
        headers={"Cache-Control": "private, max-age=86400"},
    )


@admin_api
async def restore_version(request: Request) -> Response:
    """The template after saving backup `stamp` as its next version (`{"version": <the one you see>}`)."""
    slug, stamp = request.path_params["slug"], request.path_params["stamp"]
    store = _templates(request)
    body = await json_body(request)
    current = await run_in_threadpool(store.get, slug)
    old = await run_in_threadpool(_backup, store, slug, stamp)
    if not isinstance(body, dict) or not isinstance(body.get("version"), int):
        raise InvalidInput("version: send the version of the template you are looking at", field="version")
    if body["version"] != current.version:
        raise TemplateChanged(current.slug, body["version"], current.version)
    if not await run_in_threadpool(store.store.exists, old.image_key):
        raise WebError(409, "the background of that version is no longer stored, so it cannot be restored")
    restored = old.model_copy(update={"slug": current.slug, "created_at": current.created_at})
    saved = await run_in_threadpool(store.save, restored)
    return JSONResponse(saved.model_dump(mode="json"))


def routes() -> list[BaseRoute]:
    """The version history routes."""
    return [
        Route("/admin/api/templates/{slug}/versions", list_versions, methods=["GET"]),
        Route("/admin/api/templates/{slug}/versions/{stamp}", get_version, methods=["GET"]),
        Route("/admin/api/templates/{slug}/versions/{stamp}/image", version_image, methods=["GET"]),
        Route("/admin/api/templates/{slug}/versions/{stamp}/restore", restore_version, methods=["POST"]),
    ]
