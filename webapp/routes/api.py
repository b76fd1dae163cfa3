"""The public JSON API under `/api/`: templates, coupon checks and renders.

Errors are answered by the app's one error dialect (`webapp.errors`): JSON `{"error": <kind>,
"message": <what to fix>, "field": <where, if any>}` — 400 for a malformed body (naming the
field), 404 for an unknown template, 413 for an oversized body, 422 for an invalid coupon or a
text that does not fit, 429 with `Retry-After` past a limit, 503 when coupon validation is down.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import Annotated, Literal

from cachetools import LRUCache
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from flows.render_promo import make_promo
from promostack.coupons import CouponServiceUnavailable, CouponValidator
from promostack.errors import InvalidInput, RateLimited
from promostack.limits import Limit
from promostack.promo import MAX_LOGO_BYTES, PromoRequest
from promostack.render import available_fonts, render_template
from promostack.storage import content_type_of
from promostack.templates.schema import MAX_TEXT_CHARS, TemplateMeta
from webapp.bodies import read_model
from webapp.context import client_ip, runtime
from webapp.errors import BodyTooLarge, MalformedBody
from webapp.template_access import font_entry, public_template_or_404, template_store, web_templates

# A render body is a few short texts plus at most one logo (base64 adds a third): 8 MiB is
# generous for that and small enough that a hostile client cannot make us buffer much.
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_SMALL_BODY_BYTES = 16 * 1024
# Gallery thumbnails: wide enough for a 2× screen at the gallery's widest card.
PREVIEW_WIDTH = 720
# A template has at most this many text areas worth filling; more keys are not a real request.
MAX_TEXTS = 32


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CouponBody(_Body):
    """`POST /api/coupons/validate`."""

    code: str = Field(min_length=1, max_length=64)


class RenderBody(_Body):
    """`POST /api/render`."""

    template: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64)
    # No area takes more than MAX_TEXT_CHARS, so a longer text is refused before anything runs.
    texts: dict[str, Annotated[str, Field(max_length=MAX_TEXT_CHARS)]] = Field(default_factory=dict, max_length=MAX_TEXTS)
    format: Literal["png", "jpeg"] = "png"
    quality: int = Field(default=90, ge=1, le=100)
    # The public page says "web" so its downloads are counted apart from API integrations.
    channel: Literal["api", "web"] = "api"
    # An optional logo as base64 (a `data:` URL is accepted too), drawn into the logo area.
    logo: str | None = None


def coupon_validator(request: Request) -> CouponValidator:
    """The runtime's coupon validator, the one the render flow uses too (FunderPro's answers
    are cached in it)."""
    try:
        return runtime(request).validator
    except InvalidInput as exc:
        # A settings mistake is ours, not the visitor's: report an outage, not a bad request.
        raise CouponServiceUnavailable(f"coupon validation is not configured: {exc}") from exc


def _decode_logo(value: str | None) -> bytes | None:
    if value is None:
        return None
    payload = value.split(",", 1)[1] if value.startswith("data:") else value
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedBody("Field 'logo': is not valid base64.", kind="invalid_field", field="logo") from None
    if len(data) > MAX_LOGO_BYTES:
        raise BodyTooLarge(MAX_LOGO_BYTES, "logo", field="logo")
    return data


def _check_texts(meta: TemplateMeta, texts: dict[str, str]) -> None:
    """Nothing; InvalidInput naming the first text that is not an area of `meta` or is longer than its area takes."""
    for area_id, text in texts.items():
        try:
            area = meta.area(area_id)
        except KeyError:
            raise InvalidInput(f"'{meta.slug}' has no text area '{area_id[:32]}'.", field=f"texts.{area_id[:32]}") from None
        if len(text) > area.max_chars:
            raise InvalidInput(
                f"The text for '{area_id}' is {len(text)} characters; its limit is {area.max_chars}.", field=f"texts.{area_id}"
            )


# --- handlers ----------------------------------------------------------------------------------


async def list_templates(request: Request) -> Response:
    """The templates visible on the web."""
    summaries = await web_templates(request)
    return JSONResponse({"templates": [s.model_dump(mode="json") for s in summaries]})


async def list_fonts(request: Request) -> Response:
    """Every shipped font with what a canvas needs to draw it like the server (for the editor)."""
    return JSONResponse({"fonts": {info.name: font_entry(request, info.name) for info in available_fonts()}})


async def get_template(request: Request) -> Response:
    """One template's meta (text areas, fonts, colours) as the page's canvas needs it."""
    meta = await public_template_or_404(request, request.path_params["slug"])
    return JSONResponse(meta.model_dump(mode="json"))


async def template_image(request: Request) -> Response:
    """The background image of a template."""
    meta = await public_template_or_404(request, request.path_params["slug"])
    data = await run_in_threadpool(template_store(request).image, meta.slug, meta)
    # The gallery and page ask with ?v=<version>, so a new version is a new URL.
    cache = "public, max-age=86400" if request.query_params.get("v") == str(meta.version) else "no-cache"
    return Response(data, media_type=content_type_of(meta.image_key), headers={"Cache-Control": cache})


async def template_preview(request: Request) -> Response:
    """A JPEG thumbnail of the template with its sample texts, as the gallery shows it."""
    meta = await public_template_or_404(request, request.path_params["slug"])
    cache = _preview_cache(request)
    key = (meta.slug, meta.version, meta.updated_at.isoformat())
    data = cache.get(key)
    if data is None:
        background = await run_in_threadpool(template_store(request).image, meta.slug, meta)
        data = await run_in_threadpool(_thumbnail, meta, background)
        cache[key] = data
    cache_control = "public, max-age=86400" if request.query_params.get("v") == str(meta.version) else "no-cache"
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": cache_control})


def _preview_cache(request: Request) -> LRUCache[tuple[str, int, str], bytes]:
    cache = getattr(request.app.state, "template_previews", None)
    if cache is None:
        cache = request.app.state.template_previews = LRUCache(maxsize=64)
    return cache


def _thumbnail(meta: TemplateMeta, background: bytes) -> bytes:
    """The template rendered with its sample texts, at most PREVIEW_WIDTH wide, as JPEG."""
    rendered = Image.open(io.BytesIO(render_template(meta, background, {}))).convert("RGB")
    rendered.thumbnail((PREVIEW_WIDTH, PREVIEW_WIDTH * 2), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    rendered.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


async def validate_coupon(request: Request) -> Response:
    """Whether a coupon code is valid: `{"valid", "code", "reason", "discount"}`.

    Counted per address before anything is looked up (429 past the limit), and an invalid code
    gets the same answer whether it is unknown, expired or used up: a stranger cannot tell
    which codes exist. The admin sees the real reason.
    """
    settings = runtime(request).settings
    limit = Limit(settings.coupon_check_limit_per_ip, settings.coupon_check_limit_window_s)
    verdict = await run_in_threadpool(runtime(request).limiter.hit, f"coupon-check:ip:{client_ip(request)}", limit)
    if not verdict.allowed:
        raise RateLimited(verdict.retry_after_s)
    body = await read_model(request, CouponBody, MAX_SMALL_BODY_BYTES)
    check = (await run_in_threadpool(coupon_validator(request).validate, body.code)).public()
    return JSONResponse({"valid": check.valid, "code": check.code, "reason": check.reason, "discount": check.discount})


async def render(request: Request) -> Response:
    """The promo image for a template, a valid coupon and texts, as PNG or JPEG bytes."""
    body = await read_model(request, RenderBody, MAX_BODY_BYTES)
    # The API renders what it lists: templates visible on the web.
    meta = await public_template_or_404(request, body.template)
    _check_texts(meta, body.texts)
    promo = PromoRequest(
        template_slug=body.template,
        coupon_code=body.code,
        texts=body.texts,
        fmt=body.format,
        quality=body.quality,
        channel=body.channel,
        logo=_decode_logo(body.logo),
    )
    settings = runtime(request).settings
    quota = (f"render:ip:{client_ip(request)}", Limit(settings.render_limit_per_ip, settings.render_limit_window_s))
    result = await make_promo(runtime(request), promo, quota=quota)
    return Response(result.image, media_type=result.content_type, headers={"Cache-Control": "no-store"})


def routes() -> list[BaseRoute]:
    """The api routes."""
    return [
        Route("/api/templates", list_templates, name="api_templates"),
        Route("/api/fonts", list_fonts, name="api_fonts"),
        Route("/api/templates/{slug}", get_template, name="api_template"),
        Route("/api/templates/{slug}/image", template_image, name="api_template_image"),
        Route("/api/templates/{slug}/preview", template_preview, name="api_template_preview"),
        Route("/api/coupons/validate", validate_coupon, methods=["POST"], name="api_validate_coupon"),
        Route("/api/render", render, methods=["POST"], name="api_render"),
    ]
