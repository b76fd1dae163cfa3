"""What the public pages and the public API both look up: the templates visible on the web, one
visible template by slug, and the fonts a template's page draws with.

A template hidden from the web is, to every public caller, a template that does not exist.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from promostack.errors import InvalidInput
from promostack.render import RenderError
from promostack.render.typefaces import font_info
from promostack.templates.schema import SLUG_RE, TemplateMeta, TemplateSummary
from promostack.templates.store import TemplateNotFound, TemplateStore
from webapp.context import runtime


def template_store(request: Request) -> TemplateStore:
    """The runtime's `TemplateStore`, the one the render flow uses too (it caches)."""
    return runtime(request).templates


async def web_templates(request: Request) -> list[TemplateSummary]:
    """The summaries of the templates visible on the web, in gallery order."""
    return await run_in_threadpool(template_store(request).visible, "web")


async def public_template(request: Request, slug: str) -> TemplateMeta | None:
    """The meta of `slug` when it exists and is visible on the web, else None."""
    if not SLUG_RE.match(slug):
        return None
    templates = template_store(request)

    def load() -> TemplateMeta | None:
        try:
            meta = templates.get(slug)
        except (TemplateNotFound, InvalidInput):
            return None
        return meta if meta.visibility.web else None

    return await run_in_threadpool(load)


async def public_template_or_404(request: Request, slug: str) -> TemplateMeta:
    """The meta of `slug` when it is visible on the web; `TemplateNotFound` (404) otherwise."""
    meta = await public_template(request, slug)
    if meta is None:
        raise TemplateNotFound(slug[:64])
    return meta


def font_entry(request: Request, name: str) -> dict[str, Any]:
    """What render.js needs of one font: its URL, hhea metrics and fallback font."""
    info = font_info(name)
    return {
        "url": str(request.url_for("font", name=info.name).path),
        "family": info.family,
        "style": info.style,
        "units_per_em": info.units_per_em,
        "ascender": info.ascender,
        "descender": info.descender,
        "fallback": info.fallback,
    }


def page_fonts(request: Request, meta: TemplateMeta) -> dict[str, dict[str, Any]]:
    """The fonts `meta` draws with, and their fallbacks, by name (unknown names are left out:
    the preview then reports those areas, as the server would refuse them)."""
    names = {area.font for area in meta.text_areas}
    fonts: dict[str, dict[str, Any]] = {}
    for name in sorted(names):
        try:
            fonts[name] = font_entry(request, name)
        except RenderError:
            continue
        fallback = fonts[name]["fallback"]
        if fallback and fallback not in fonts:
            fonts[fallback] = font_entry(request, fallback)
    return fonts
