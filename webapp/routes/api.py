"""The public JSON API under `/api/`: templates, coupon checks and renders.

Every error is JSON `{"error": <kind>, "message": <what to fix>, "field": <where, if any>}`:
400 for a malformed body (naming the field), 404 for an unknown template, 413 for an oversized
body, 422 for an invalid coupon or a text that does not fit, 503 when coupon validation is down.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from cachetools import LRUCache
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from flows.render_promo import make_promo
from promostack.coupons import CouponServiceUnavailable, CouponValidator, InvalidCoupon
from promostack.errors import DependencyError, InvalidInput, NotFound, PromoStackError, RateLimited
from promostack.limits import Limit
from promostack.promo import MAX_LOGO_BYTES, PromoRequest
from promostack.render import BadImage, RenderError, TextDoesNotFit, available_fonts, render_template
from promostack.render.typefaces import font_info
from promostack.templates.schema import SLUG_RE, TemplateMeta, TemplateSummary
from promostack.templates.store import TemplateNotFound, TemplateStore
from webapp.context import client_ip, runtime

# A render body is a few short texts plus at most one logo (base64 adds a third): 8 MiB is
# generous for that and small enough that a hostile client cannot make us buffer much.
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_SMALL_BODY_BYTES = 16 * 1024
# Gallery thumbnails: wide enough for a 2× screen at the gallery's widest card.
PREVIEW_WIDTH = 720


class ApiError(Exception):
    """An error answer: HTTP status, a machine-readable kind, a message a person can act on."""

    def __init__(
        self, status: int, kind: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.field = status, kind, message, field
        self.headers = headers

    def response(self) -> JSONResponse:
        """The JSON answer for this error."""
        body: dict[str, Any] = {"error": self.kind, "message": self.message}
        if self.field:
            body["field"] = self.field
        return JSONResponse(body, status_code=self.status, headers=self.headers)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CouponBody(_Body):
    """`POST /api/coupons/validate`."""

    code: str = Field(min_length=1, max_length=64)


class RenderBody(_Body):
    """`POST /api/render`."""

    template: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64)
    texts: dict[str, str] = Field(default_factory=dict)
    format: Literal["png", "jpeg"] = "png"
    quality: int = Field(default=90, ge=1, le=100)
    # The public page says "web" so its downloads are counted apart from API integrations.
    channel: Literal["api", "web"] = "api"
    # An optional logo as base64 (a `data:` URL is accepted too), drawn into the logo area.
    logo: str | None = None


# --- template access, shared with the public pages -------------------------------------------


def template_store(request: Request) -> TemplateStore:
    """The runtime's `TemplateStore`, the one the render flow uses too (it caches)."""
    return runtime(request).templates


def coupon_validator(request: Request) -> CouponValidator:
    """The runtime's coupon validator, the one the render flow uses too (FunderPro's answers
    are cached in it)."""
    try:
        return runtime(request).validator
    except InvalidInput as exc:
        # A settings mistake is ours, not the visitor's: report an outage, not a bad request.
        raise ApiError(503, "coupon_service_unavailable", f"Coupon validation is not configured: {exc}") from exc


async def web_templates(request: Request) -> list[TemplateSummary]:
    """The summaries of the templates visible on the web, in gallery order."""
    return await run_in_threadpool(template_store(request).visible, "web")


async def public_template(request: Request, slug: str) -> TemplateMeta | None:
    """The meta of `slug` when it exists and is visible on the web, else None."""
    templates = template_store(request)

    def load() -> TemplateMeta | None:
        try:
            meta = templates.get(slug)
        except (TemplateNotFound, InvalidInput):
            return None
        return meta if meta.visibility.web else None

    return await run_in_threadpool(load)


async def _template_or_404(request: Request) -> TemplateMeta:
    slug = request.path_params["slug"]
    meta = await public_template(request, slug) if SLUG_RE.match(slug) else None
    if meta is None:
        raise ApiError(404, "template_not_found", f"There is no template '{slug}'.", "template")
    return meta


# --- fonts, shared with the public pages ---------------------------------------------------------


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


# --- request bodies ----------------------------------------------------------------------------


async def _read_json(request: Request, limit: int) -> Any:
    """The parsed JSON body; ApiError 413 past `limit` bytes, 400 when it is not JSON."""
    too_large = ApiError(413, "body_too_large", f"The request body is larger than {_size(limit)}.")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    try:
        # Count while streaming, so a client that lies about (or omits) its length is cut off.
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect as exc:
        raise ApiError(400, "malformed_body", "The request body was cut off.") from exc
    try:
        return json.loads(b"".join(chunks))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"The body is not valid JSON: {exc}.") from exc


def _parse(model: type[_Body], data: Any) -> Any:
    """`data` validated as `model`; ApiError 400 naming the first wrong field."""
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_body", "The body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        message = "is required" if first["type"] == "missing" else first["msg"]
        if first["type"] == "extra_forbidden":
            message = "is not a known field"
        raise ApiError(400, "invalid_field", f"Field '{field}': {message}.", field) from exc


def _decode_logo(value: str | None) -> bytes | None:
    if value is None:
        return None
    payload = value.split(",", 1)[1] if value.startswith("data:") else value
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(400, "invalid_field", "Field 'logo': is not valid base64.", "logo") from exc
    if len(data) > MAX_LOGO_BYTES:
        raise ApiError(413, "logo_too_large", f"The logo is larger than {_size(MAX_LOGO_BYTES)}.", "logo")
    return data


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
    meta = await _template_or_404(request)
    return JSONResponse(meta.model_dump(mode="json"))


async def template_image(request: Request) -> Response:
    """The background image of a template."""
    meta = await _template_or_404(request)
    data = await run_in_threadpool(template_store(request).image, meta.slug, meta)
    # The gallery and page ask with ?v=<version>, so a new version is a new URL.
    cache = "public, max-age=86400" if request.query_params.get("v") == str(meta.version) else "no-cache"
    return Response(data, media_type=_image_type(meta.image_key), headers={"Cache-Control": cache})


async def template_preview(request: Request) -> Response:
    """A JPEG thumbnail of the template with its sample texts, as the gallery shows it."""
    meta = await _template_or_404(request)
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
    """Whether a coupon code is valid: `{"valid", "code", "reason", "discount"}`."""
    body: CouponBody = _parse(CouponBody, await _read_json(request, MAX_SMALL_BODY_BYTES))
    validator = coupon_validator(request)
    try:
        check = await run_in_threadpool(validator.validate, body.code)
    except CouponServiceUnavailable as exc:
        raise ApiError(503, "coupon_service_unavailable", _outage_message(exc)) from exc
    return JSONResponse(
        {"valid": check.valid, "code": check.code, "reason": check.reason, "discount": check.discount}
    )


async def render(request: Request) -> Response:
    """The promo image for a template, a valid coupon and texts, as PNG or JPEG bytes."""
    body: RenderBody = _parse(RenderBody, await _read_json(request, MAX_BODY_BYTES))
    # The API renders what it lists: templates visible on the web.
    if not SLUG_RE.match(body.template) or await public_template(request, body.template) is None:
        raise ApiError(404, "template_not_found", f"There is no template '{body.template}'.", "template")
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


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"


def _image_type(key: str) -> str:
    suffix = key.rsplit(".", 1)[-1].lower()
    return {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}.get(
        suffix, "application/octet-stream"
    )


def _outage_message(exc: Exception) -> str:
    return f"Coupon validation is unavailable right now; please try again in a minute. ({exc})"


def _error_response(exc: Exception) -> ApiError:
    """The API answer for a domain error raised while serving a request."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        return ApiError(400, "invalid_field", f"Field '{field}': {first['msg']}.", field)
    if isinstance(exc, RateLimited):
        wait = str(max(1, math.ceil(exc.retry_after_s)))
        return ApiError(429, "rate_limited", str(exc), headers={"Retry-After": wait})
    if isinstance(exc, TemplateNotFound):
        return ApiError(404, "template_not_found", str(exc), "template")
    if isinstance(exc, CouponServiceUnavailable):
        return ApiError(503, "coupon_service_unavailable", _outage_message(exc))
    if isinstance(exc, InvalidCoupon):
        return ApiError(422, "invalid_coupon", str(exc), "code")
    if isinstance(exc, TextDoesNotFit):
        return ApiError(422, "text_does_not_fit", str(exc), f"texts.{exc.area_id}")
    if isinstance(exc, BadImage):
        return ApiError(422, "bad_image", str(exc), "logo")
    if isinstance(exc, NotFound):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, InvalidInput):
        return ApiError(422, _kind(exc), str(exc), getattr(exc, "field", None))
    if isinstance(exc, DependencyError):
        return ApiError(503, "dependency_unavailable", f"A service we depend on failed: {exc}")
    # Not a kind of failure the API knows: let it be the server error it is.
    raise exc


def _kind(exc: Exception) -> str:
    # InvalidCoupon -> invalid_coupon: a stable kind clients can branch on.
    name = type(exc).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


Handler = Callable[[Request], Awaitable[Response]]


def _api(handler: Handler) -> Handler:
    """`handler` with the API's errors turned into JSON answers."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except (ApiError, ValidationError, PromoStackError) as exc:
            return _error_response(exc).response()

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


def routes() -> list[BaseRoute]:
    """The api routes."""
    return [
        Route("/api/templates", _api(list_templates), name="api_templates"),
        Route("/api/fonts", _api(list_fonts), name="api_fonts"),
        Route("/api/templates/{slug}", _api(get_template), name="api_template"),
        Route("/api/templates/{slug}/image", _api(template_image), name="api_template_image"),
        Route("/api/templates/{slug}/preview", _api(template_preview), name="api_template_preview"),
        Route("/api/coupons/validate", _api(validate_coupon), methods=["POST"], name="api_validate_coupon"),
        Route("/api/render", _api(render), methods=["POST"], name="api_render"),
    ]
