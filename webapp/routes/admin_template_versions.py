"""A template's version history under `/admin/api/templates/<slug>/versions`: the meta.json
backups the store keeps on every save, listed, read (for the editor's preview) and restored.

A backup is named by its UTC stamp (`templates/<slug>/backups/meta-<stamp>.json`); restoring one
saves its areas, settings and background as the template's next version (so a restore is itself
undone by restoring the backup it leaves), refused with 409 when the template moved on since
the editor read it.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from promostack.errors import InvalidInput, NotFound
from promostack.storage import ObjectNotFound
from promostack.templates.schema import TemplateMeta
from promostack.templates.store import TemplateStore, parse_meta
from webapp.auth import admin_api
from webapp.context import runtime
from webapp.routes.admin_json import error, json_body

STAMP_RE = re.compile(r"^\d{8}T\d{6}(?:\.\d{6})?Z\Z")
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


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
    try:
        current = await run_in_threadpool(store.get, slug)
        rows = await run_in_threadpool(_history, store, slug)
    except (NotFound, InvalidInput) as exc:
        return error(404, str(exc))
    return JSONResponse({"current": current.version, "versions": rows})


@admin_api
async def get_version(request: Request) -> Response:
    """The meta kept in one backup, for the editor to preview."""
    slug, stamp = request.path_params["slug"], request.path_params["stamp"]
    try:
        meta = await run_in_threadpool(_backup, _templates(request), slug, stamp)
    except (NotFound, InvalidInput) as exc:
        return error(404, str(exc))
    return JSONResponse(meta.model_dump(mode="json"))


@admin_api
async def version_image(request: Request) -> Response:
    """The background a backup was drawn on (it may be an earlier image than today's)."""
    slug, stamp = request.path_params["slug"], request.path_params["stamp"]
    store = _templates(request)
    try:
        meta = await run_in_threadpool(_backup, store, slug, stamp)
        data = await run_in_threadpool(store.store.get, meta.image_key)
    except ObjectNotFound:
        return error(404, "the background of that version is no longer stored")
    except (NotFound, InvalidInput) as exc:
        return error(404, str(exc))
    suffix = meta.image_key.rsplit(".", 1)[-1].lower()
    return Response(
        data,
        media_type=IMAGE_TYPES.get(suffix, "application/octet-stream"),
        headers={"Cache-Control": "private, max-age=86400"},
    )


@admin_api
async def restore_version(request: Request) -> Response:
    """The template after saving backup `stamp` as its next version (`{"version": <the one you see>}`)."""
    slug, stamp = request.path_params["slug"], request.path_params["stamp"]
    store = _templates(request)
    try:
        body = await json_body(request)
        current = await run_in_threadpool(store.get, slug)
        old = await run_in_threadpool(_backup, store, slug, stamp)
    except NotFound as exc:
        return error(404, str(exc))
    except InvalidInput as exc:
        return error(400, str(exc))
    if not isinstance(body, dict) or not isinstance(body.get("version"), int):
        return error(422, "version: send the version of the template you are looking at", field="version")
    if body["version"] != current.version:
        return error(
            409,
            f"this template changed since you opened it (now version {current.version}): "
            "reload it before restoring an older version",
        )
    if not await run_in_threadpool(store.store.exists, old.image_key):
        return error(409, "the background of that version is no longer stored, so it cannot be restored")
    restored = old.model_copy(update={"slug": current.slug, "created_at": current.created_at})
    try:
        saved = await run_in_threadpool(store.save, restored)
    except InvalidInput as exc:
        return error(422, str(exc))
    return JSONResponse(saved.model_dump(mode="json"))


def routes() -> list[BaseRoute]:
    """The version history routes."""
    return [
        Route("/admin/api/templates/{slug}/versions", list_versions, methods=["GET"]),
        Route("/admin/api/templates/{slug}/versions/{stamp}", get_version, methods=["GET"]),
        Route("/admin/api/templates/{slug}/versions/{stamp}/image", version_image, methods=["GET"]),
        Route("/admin/api/templates/{slug}/versions/{stamp}/restore", restore_version, methods=["POST"]),
    ]
