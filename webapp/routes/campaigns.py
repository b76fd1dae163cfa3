"""Public campaign pages: `/c/<slug>` (frame a photo, copy the caption, submit a post), the
overlay images, the photo endpoint that makes the final JPEG, and post submissions.

The photo comes as the raw request body (the file itself, no multipart), read with a cap counted
while streaming; the placement and shape come in the query string. The photo is never stored:
only the fact that one was made (the supporter counter). Bodies are read by the app's one capped
reader (`webapp.bodies`); errors are its one dialect (`webapp.errors`): JSON `{"error": <kind>,
"message": <what to fix>, "field": <which field>}`, like the public API's.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone

import anyio
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from promostack.campaigns.overlays import OverlayStore
from promostack.campaigns.photos import BadPhoto, PhotoLimits, make_frame
from promostack.campaigns.posts import PLATFORMS
from promostack.campaigns.records import CampaignNotFound, get_campaign, record_photo, shapes_of, supporters
from promostack.campaigns.submissions import SubmissionLimits, SubmissionRefused, submit_post
from promostack.campaigns.schema import SHAPE_LABELS, SHAPES, SLUG_RE, Placement, effective_status, fill_caption
from promostack.db.campaigns import Campaign
from promostack.errors import InvalidInput
from webapp.bodies import parse_json, read_body
from webapp.context import runtime
from webapp.errors import MalformedBody, WebError, error_body
from webapp.rendering import templates
from webapp.security import session_secret

MAX_SUBMISSION_BYTES = 8 * 1024
# Frames made at once per process: each holds a decoded photo (up to ~150 MB for 50 MP).
FRAME_CONCURRENCY = 4


class Refusal(WebError):
    """An answer that refuses the request: status, a stable kind, the sentence, the field."""

    def __init__(self, status: int, kind: str, message: str, field: str | None = None) -> None:
        super().__init__(status, message, kind=kind, field=field)
        self.message = message

    def response(self) -> JSONResponse:
        """The JSON answer for this refusal."""
        return JSONResponse(error_body(self.kind, self.message, self.field), status_code=self.status)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def overlay_store(request: Request) -> OverlayStore:
    """The app's overlay store (it keeps a few overlays decoded), built on first use."""
    store = getattr(request.app.state, "campaign_overlays", None)
    if store is None:
        store = request.app.state.campaign_overlays = OverlayStore(runtime(request).store)
    return store


def _frame_limiter(request: Request) -> anyio.CapacityLimiter:
    limiter = getattr(request.app.state, "campaign_frame_limiter", None)
    if limiter is None:
        limiter = request.app.state.campaign_frame_limiter = anyio.CapacityLimiter(FRAME_CONCURRENCY)
    return limiter


def client_key(request: Request) -> str:
    """A keyed hash of the client's IP address: limits count per address without storing it."""
    secret = getattr(request.app.state, "campaign_client_secret", None)
    if secret is None:
        secret = request.app.state.campaign_client_secret = session_secret(runtime(request).settings).encode()
    host = request.client.host if request.client else "unknown"
    return hmac.new(secret, host.encode(), hashlib.sha256).hexdigest()[:32]


async def _open_campaign(request: Request) -> Campaign:
    """The live campaign of the path; Refusal 404 (unknown or not open yet) or 410 (ended)."""
    slug = request.path_params["slug"]
    try:
        campaign = await run_in_threadpool(get_campaign, runtime(request).sessions, slug) if SLUG_RE.match(slug) else None
    except CampaignNotFound:
        campaign = None
    status = effective_status(campaign.status, campaign.starts_at, campaign.ends_at, _now()) if campaign else None
    if campaign is None or status == "draft":
        raise Refusal(404, "campaign_not_open", "This campaign is not open.")
    if status == "ended":
        raise Refusal(410, "campaign_ended", f"{campaign.name} has ended; thank you for taking part.")
    return campaign


async def capped_body(request: Request, limit: int, what: str) -> bytes:
    """The request body (the app's one capped reader); Refusal 413 naming the limit as soon as it is passed."""
    try:
        return await read_body(request, limit, what, field=what)
    except WebError as exc:
        if exc.status == 413:
            raise Refusal(413, "too_large", f"The {what} is too large: the limit is {limit / 1e6:.0f} MB.", what) from None
        raise Refusal(exc.status, exc.kind, exc.user_message, what) from None


# --- the page --------------------------------------------------------------------------------------


async def campaign_page(request: Request) -> Response:
    """The campaign's page, or a page saying it is not open (404) or has ended (410)."""
    try:
        campaign = await _open_campaign(request)
    except Refusal as refused:
        context = {"status": refused.status, "message": refused.message}
        return templates.TemplateResponse(request, "public/campaign_closed.html", context, status_code=refused.status)
    count = await run_in_threadpool(supporters, runtime(request).sessions, campaign.id)
    shapes = [
        {
            "id": shape,
            "label": SHAPE_LABELS[shape],
            "width": SHAPES[shape][0],
            "height": SHAPES[shape][1],
            "overlay": str(request.url_for("campaign_overlay", slug=campaign.slug, shape=shape).path)
            + f"?v={campaign.overlays[shape]['sha256'][:16]}",
        }
        for shape in shapes_of(campaign)
    ]
    page = {
        "slug": campaign.slug,
        "name": campaign.name,
        "shapes": shapes,
        "caption_template": campaign.caption_template,
        "hashtags": campaign.hashtags,
        "code": campaign.coupon_code or "",
        "max_photo_bytes": runtime(request).settings.campaign_photo_max_bytes,
    }
    context = {
        "campaign": campaign,
        "shapes": shapes,
        "supporters": count,
        "platforms": [PLATFORMS[p] for p in campaign.platforms],  # type: ignore[index]
        "caption": fill_caption(campaign.caption_template, campaign.hashtags, "", campaign.coupon_code),
        "page_json": page,
    }
    return templates.TemplateResponse(request, "public/campaign.html", context)


async def overlay_image(request: Request) -> Response:
    """One shape's overlay PNG (its URL names its content, so browsers may keep it)."""
    try:
        campaign = await _open_campaign(request)
    except Refusal as refused:
        return refused.response()
    overlay = (campaign.overlays or {}).get(request.path_params["shape"])
    if overlay is None:
        return Refusal(404, "no_such_shape", "This campaign has no such shape.").response()
    data = await run_in_threadpool(overlay_store(request).raw, overlay["key"])
    fresh = request.query_params.get("v") == overlay["sha256"][:16]
    cache = "public, max-age=31536000, immutable" if fresh else "no-cache"
    return Response(data, media_type="image/png", headers={"Cache-Control": cache})


# --- making the photo -------------------------------------------------------------------------------


def _placement(request: Request) -> Placement:
    query = request.query_params
    try:
        return Placement.model_validate({k: float(query[k]) for k in ("zoom", "cx", "cy") if k in query})
    except (ValueError, ValidationError):
        raise Refusal(400, "bad_placement", "The photo's placement is not valid; move it again.", "placement") from None


async def make_photo(request: Request) -> Response:
    """The finished JPEG for the uploaded photo (the body) at `?shape=&zoom=&cx=&cy=`."""
    try:
        campaign = await _open_campaign(request)
        shape = request.query_params.get("shape", "")
        if shape not in (campaign.overlays or {}):
            raise Refusal(400, "bad_shape", f"Choose one of the shapes: {', '.join(shapes_of(campaign))}.", "shape")
        placement = _placement(request)
        settings = runtime(request).settings
        data = await capped_body(request, settings.campaign_photo_max_bytes, "photo")
        overlay = await run_in_threadpool(overlay_store(request).decoded, campaign.overlays[shape]["key"], shape)
        limits = PhotoLimits(settings.campaign_photo_max_bytes, settings.campaign_photo_max_pixels)
        image = await anyio.to_thread.run_sync(
            lambda: make_frame(data, overlay, shape, placement, limits),  # type: ignore[arg-type]
            limiter=_frame_limiter(request),
        )
    except Refusal as refused:
        return refused.response()
    except BadPhoto as exc:
        return Refusal(422, "bad_photo", _sentence(str(exc)), "photo").response()
    count = await run_in_threadpool(record_photo, runtime(request).sessions, campaign.id, shape, _now())
    name = f"{campaign.slug}-{shape}.jpg"
    return Response(
        image,
        media_type="image/jpeg",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Supporters": str(count),
        },
    )


# --- submitting a post -------------------------------------------------------------------------------


async def submit(request: Request) -> Response:
    """201 with the stored submission for `{"name", "contact", "url"}`; the reason at the field otherwise."""
    try:
        campaign = await _open_campaign(request)
        raw = await capped_body(request, MAX_SUBMISSION_BYTES, "form")
        try:
            body = parse_json(raw)
        except MalformedBody:
            raise Refusal(400, "malformed_json", "The form could not be read; reload the page.") from None
        if not isinstance(body, dict) or not all(isinstance(body.get(k, ""), str) for k in ("name", "contact", "url")):
            raise Refusal(400, "malformed_body", "Send name, contact and url as text.")
        settings = runtime(request).settings
        limits = SubmissionLimits(per_client=settings.campaign_submissions_per_hour)
        row = await run_in_threadpool(
            lambda: submit_post(
                runtime(request).sessions,
                campaign.slug,
                name=body.get("name", ""),
                contact=body.get("contact", ""),
                url=body.get("url", ""),
                client_key=client_key(request),
                now=_now(),
                limits=limits,
            )
        )
    except Refusal as refused:
        return refused.response()
    except SubmissionRefused as exc:
        status = {"duplicate": 409, "limit": 429, "closed": 410}.get(exc.kind, 422)
        return Refusal(status, exc.kind, _sentence(str(exc)), exc.field).response()
    except InvalidInput as exc:
        return Refusal(422, "invalid", _sentence(str(exc)), getattr(exc, "field", None)).response()
    unresolved = "" if row.resolved else " It is a short link, so a person will open it to check it."
    return JSONResponse(
        {
            "id": row.id,
            "platform": row.platform,
            "url": row.url,
            "resolved": row.resolved,
            "status": row.status,
            "message": f"Thank you! Your {PLATFORMS[row.platform]} post is entered and will be reviewed.{unresolved}",  # type: ignore[index]
        },
        status_code=201,
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def routes() -> list[BaseRoute]:
    """The public campaign routes."""
    return [
        Route("/c/{slug}", campaign_page, name="campaign"),
        Route("/c/{slug}/overlay/{shape}.png", overlay_image, name="campaign_overlay"),
        Route("/c/{slug}/photo", make_photo, methods=["POST"], name="campaign_photo"),
        Route("/c/{slug}/submissions", submit, methods=["POST"], name="campaign_submit"),
    ]
