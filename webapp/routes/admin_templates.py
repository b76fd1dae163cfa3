"""The template manager's JSON API under `/admin/api/templates` (and the fonts it offers).

Uploads are checked before anything is stored (type by magic bytes, size, `open_image` for
corrupt files and decompression bombs, at most MAX_TEMPLATE_SIDE a side); saves go through
`TemplateStore.save`, which backs up the old meta.json and rebuilds index.json.

Routes raise; the app's handlers answer every refusal in its one dialect (`webapp.errors`): a bad
field 422 naming it (a meta the schema refuses also lists `fields`), an unknown template 404, a
taken slug or a template saved since the editor read it 409 `conflict`, an upload by its reason
(413 too many bytes, 415 not an image, 422 unreadable or too wide), all with field `image`.
"""

from __future__ import annotations

import re

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from promostack.errors import InvalidInput
from promostack.render import available_fonts
from promostack.storage import content_type_of
from promostack.templates.background import MAX_BACKGROUND_BYTES, read_background
from promostack.templates.schema import TemplateMeta
from promostack.templates.store import TemplateChanged, TemplateExists, TemplateStore
from webapp.auth import admin_api
from webapp.bodies import read_form
from webapp.context import runtime
from webapp.routes.admin_json import json_body, json_object_body, schema_error

# Uploads are checked by `read_background` (type, bytes, bomb guard, at most MAX_TEMPLATE_SIDE a side).
MAX_IMAGE_BYTES = MAX_BACKGROUND_BYTES
# Multipart framing adds a little to the file; anything far beyond the image limit is refused unread.
MAX_UPLOAD_BODY = MAX_IMAGE_BYTES + 64 * 1024


def _templates(request: Request) -> TemplateStore:
    # The runtime's store: the one the public pages, the API and the bots read (and cache) too.
    return runtime(request).templates


async def _image_form(request: Request, max_fields: int) -> tuple[FormData, bytes]:
    """The multipart form and its `image` file (read to just past the limit)."""
    # The one capped reader: counted as it arrives, so a chunked upload is never spooled past the cap.
    form = await read_form(request, MAX_UPLOAD_BODY, max_files=1, max_fields=max_fields)
    upload = form.get("image")
    if not isinstance(upload, UploadFile):
        raise InvalidInput("choose an image file to upload", field="image")
    return form, await upload.read(MAX_IMAGE_BYTES + 1)


def slug_from(name: str) -> str:
    """A slug made from a template name: 'Black Friday 2026!' -> 'black-friday-2026'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")


def starter_meta(slug: str, name: str, image_key: str, width: int, height: int) -> TemplateMeta:
    """A new template's meta: one centred coupon area, hidden everywhere until it is published."""
    w, h = max(1, width * 7 // 10), max(1, height * 18 // 100)
    return TemplateMeta(
        slug=slug,
        name=name,
        image_key=image_key,
        width=width,
        height=height,
        text_areas=[
            {
                "id": "code",
                "label": "Coupon code",
                "source": "coupon",
                "default_text": "SAVE20",
                "box": {"x": (width - w) // 2, "y": (height - h) // 2, "w": w, "h": h},
                "max_size": max(4, min(120, h)),
                "min_size": max(4, min(12, h)),
            }
        ],
        visibility={"web": False, "telegram": False},
    )


@admin_api
async def list_templates(request: Request) -> Response:
    """Every template (hidden ones too) and any whose meta.json cannot be read."""
    store = _templates(request)
    metas, broken = await run_in_threadpool(store.scan)
    rows = [
        {
            "slug": m.slug,
            "name": m.name,
            "width": m.width,
            "height": m.height,
            "visibility": m.visibility.model_dump(),
            "areas": len(m.text_areas),
            "version": m.version,
            "updated_at": m.updated_at.isoformat(),
        }
        for m in sorted(metas.values(), key=lambda m: (m.name.lower(), m.slug))
    ]
    return JSONResponse({"templates": rows, "broken": [{"slug": s, "error": e} for s, e in broken.items()]})


@admin_api
async def get_template(request: Request) -> Response:
    """One template's meta."""
    meta = await run_in_threadpool(_templates(request).get, request.path_params["slug"])
    return JSONResponse(meta.model_dump(mode="json"))


@admin_api
async def template_image(request: Request) -> Response:
    """One template's background image (hidden templates included)."""
    store = _templates(request)
    meta = await run_in_threadpool(store.get, request.path_params["slug"])
    data = await run_in_threadpool(store.image, meta.slug, meta)
    return Response(
        data,
        media_type=content_type_of(meta.image_key),
        headers={"Cache-Control": "no-store"},
    )


@admin_api
async def create_template(request: Request) -> Response:
    """A new template from an uploaded image (multipart: `image`, `name`, optional `slug`)."""
    form, data = await _image_form(request, max_fields=10)
    name = str(form.get("name") or "").strip()
    if not name:
        raise InvalidInput("give the template a name", field="name")
    slug = str(form.get("slug") or "").strip() or slug_from(name)
    store = _templates(request)
    # A malformed slug is refused here too (InvalidTemplate naming `slug`), before the image is read.
    if await run_in_threadpool(store.exists, slug):
        raise TemplateExists(slug)
    background = await run_in_threadpool(read_background, data)
    image_key = f"templates/{slug}/background{background.suffix}"
    meta = starter_meta(slug, name[:80], image_key, background.width, background.height)
    # The cleaned upload (no EXIF, comments or XMP) is what is stored and served.
    saved = await run_in_threadpool(store.save, meta, background.data)
    return JSONResponse(saved.model_dump(mode="json"), status_code=201)


@admin_api
async def save_template(request: Request) -> Response:
    """The saved meta: the edit (same slug, image and size) as the next version; 409 if it moved on."""
    slug = request.path_params["slug"]
    store = _templates(request)
    body = await json_object_body(request)
    current = await run_in_threadpool(store.get, slug)
    if not isinstance(body.get("version"), int):
        raise InvalidInput("version: send the version of the template you edited", field="version")
    if body["version"] != current.version:
        raise TemplateChanged(current.slug, body["version"], current.version)
    # The image and its size are the stored ones: the editor edits areas and settings, not the picture.
    body = {
        **body,
        "slug": slug,
        "image_key": current.image_key,
        "width": current.width,
        "height": current.height,
        "created_at": current.created_at.isoformat(),
    }
    try:
        meta = TemplateMeta.model_validate(body)
    except ValidationError as exc:
        raise schema_error(exc) from None  # the dashboard's 422: every field, named from `template`
    saved = await run_in_threadpool(store.save, meta)
    return JSONResponse(saved.model_dump(mode="json"))


@admin_api
async def replace_image(request: Request) -> Response:
    """The template with a new background (multipart `image`, optional `version`) and how its areas moved.

    Answers `{"template": meta, "refit": {"areas": "unchanged" | "scaled" | "kept", "needs_review":
    [{"area", "reason"}], ...}}`; a bad upload is refused with its reason and changes nothing.
    """
    form, data = await _image_form(request, max_fields=5)
    version = str(form.get("version") or "").strip()
    if version and not version.isdigit():
        raise InvalidInput("version: send the version of the template you are looking at", field="version")
    expected = int(version) if version else None
    replaced = await run_in_threadpool(
        _templates(request).replace_image, request.path_params["slug"], data, expected_version=expected
    )
    return JSONResponse(replaced.model_dump(mode="json"))


@admin_api
async def set_visibility(request: Request) -> Response:
    """The meta after showing or hiding it on the web and in Telegram (`{"web": bool, "telegram": bool}`)."""
    store = _templates(request)
    body = await json_body(request)
    current = await run_in_threadpool(store.get, request.path_params["slug"])
    if (
        not isinstance(body, dict)
        or set(body) - {"web", "telegram"}
        or not all(isinstance(v, bool) for v in body.values())
    ):
        raise InvalidInput('send {"web": true|false, "telegram": true|false}', field="visibility")
    visibility = current.visibility.model_copy(update=body)
    saved = await run_in_threadpool(store.save, current.model_copy(update={"visibility": visibility}))
    return JSONResponse(saved.model_dump(mode="json"))


@admin_api
async def delete_template(request: Request) -> Response:
    """204 once the template is deleted (its meta backups stay in storage)."""
    await run_in_threadpool(_templates(request).delete, request.path_params["slug"])
    return Response(status_code=204)


@admin_api
async def fonts(request: Request) -> Response:
    """The fonts a text area can use, keyed by name, with what the canvas preview needs to load them."""
    rows = {
        f.name: {
            "family": f.family,
            "style": f.style,
            "role": f.role,
            "url": f"/fonts/{f.name}",
            "units_per_em": f.units_per_em,
            "ascender": f.ascender,
            "descender": f.descender,
            "fallback": f.fallback,
        }
        for f in available_fonts()
    }
    return JSONResponse({"fonts": rows})


def routes() -> list[BaseRoute]:
    """The template manager's routes."""
    return [
        Route("/admin/api/templates", list_templates, methods=["GET"]),
        Route("/admin/api/templates", create_template, methods=["POST"]),
        Route("/admin/api/templates/{slug}", get_template, methods=["GET"]),
        Route("/admin/api/templates/{slug}", save_template, methods=["PUT"]),
        Route("/admin/api/templates/{slug}", delete_template, methods=["DELETE"]),
        Route("/admin/api/templates/{slug}/image", template_image, methods=["GET"]),
        Route("/admin/api/templates/{slug}/image", replace_image, methods=["PUT"]),
        Route("/admin/api/templates/{slug}/visibility", set_visibility, methods=["PUT"]),
        Route("/admin/api/fonts", fonts, methods=["GET"]),
    ]
