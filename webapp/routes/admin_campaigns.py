"""The campaigns' admin JSON API under `/admin/api/campaigns` and `/admin/api/campaign-submissions`.

Every route needs an admin session (401 JSON otherwise) and, when it changes something, the CSRF
header (checked by `webapp.security.CSRFProtect` before the route runs). Overlays are uploaded as
the raw request body (the PNG itself). Routes raise; the app's handlers answer every refusal in its
one dialect (`webapp.errors`): a bad field 422, an unknown campaign 404, a change the campaign's
state forbids 409, a store outage 503.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from promostack.campaigns.posts import PLATFORMS
from promostack.campaigns.records import CampaignNotFound, create_campaign, get_campaign, list_campaigns, remove_overlay, set_overlay, set_status, shapes_of, update_campaign
from promostack.campaigns.submissions import REVIEW_STATUSES, SubmissionFilter, list_submissions, review
from promostack.campaigns.lifecycle import campaign_stats
from promostack.campaigns.schema import SHAPE_LABELS, SHAPES, CampaignSettings, effective_status
from promostack.campaigns.stats import to_csv
from promostack.db.campaigns import Campaign, CampaignSubmission
from promostack.errors import InvalidInput
from webapp.auth import admin_api
from webapp.context import runtime
from webapp.routes.admin_json import json_body, json_object_body
from webapp.routes.campaigns import capped_body, Refusal, overlay_store

MAX_OVERLAY_BYTES = 10_000_000
CSV_HEADER = ["id", "campaign", "created_at", "platform", "url", "resolved", "name", "contact", "status",
              "reviewed_at", "reviewed_by", "review_note"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def campaign_json(campaign: Campaign, photos: int | None = None, submissions: int | None = None, pending: int | None = None) -> dict[str, Any]:
    """What the dashboard shows of a campaign."""
    return {
        "slug": campaign.slug,
        "name": campaign.name,
        "description": campaign.description,
        "status": campaign.status,
        "effective_status": effective_status(campaign.status, campaign.starts_at, campaign.ends_at, _now()),
        "starts_at": _iso(campaign.starts_at),
        "ends_at": _iso(campaign.ends_at),
        "caption_template": campaign.caption_template,
        "hashtags": campaign.hashtags,
        "platforms": campaign.platforms,
        "coupon_code": campaign.coupon_code,
        "per_person_limit": campaign.per_person_limit,
        "overlays": {
            shape: {"url": f"/admin/api/campaigns/{campaign.slug}/overlays/{shape}?v={campaign.overlays[shape]['sha256'][:16]}"}
            for shape in shapes_of(campaign)
        },
        "public_url": f"/c/{campaign.slug}",
        "photos": photos,
        "submissions": submissions,
        "pending": pending,
        "updated_at": _iso(campaign.updated_at),
    }


def submission_json(row: CampaignSubmission, slug: str) -> dict[str, Any]:
    """One submission as the review queue shows it."""
    return {
        "id": row.id,
        "campaign": slug,
        "platform": row.platform,
        "url": row.url,
        "resolved": row.resolved,
        "name": row.name,
        "contact": row.person_key,
        "status": row.status,
        "created_at": _iso(row.created_at),
        "reviewed_at": _iso(row.reviewed_at),
        "reviewed_by": row.reviewed_by,
        "review_note": row.review_note,
    }


def _settings_from(body: dict[str, Any]) -> CampaignSettings:
    return CampaignSettings.model_validate({k: v for k, v in body.items() if k not in ("slug", "status")})


def _sessions(request: Request):  # type: ignore[no-untyped-def]
    return runtime(request).sessions


# --- campaigns --------------------------------------------------------------------------------------


@admin_api
async def campaigns_index(request: Request) -> Response:
    """Every campaign with its counts, plus the shapes and platforms a campaign can use."""
    rows = await run_in_threadpool(list_campaigns, _sessions(request))
    return JSONResponse(
        {
            "campaigns": [campaign_json(c, photos, subs, pending) for c, photos, subs, pending in rows],
            "shapes": {s: {"label": SHAPE_LABELS[s], "width": w, "height": h} for s, (w, h) in SHAPES.items()},
            "platforms": PLATFORMS,
        }
    )


@admin_api
async def create(request: Request) -> Response:
    """201 with the new draft campaign for `{"slug", "name", ...settings}`."""
    body = await json_object_body(request)
    settings = _settings_from(body)
    slug = str(body.get("slug") or "").strip()
    campaign = await run_in_threadpool(create_campaign, _sessions(request), slug, settings, _now())
    return JSONResponse(campaign_json(campaign), status_code=201)


@admin_api
async def show(request: Request) -> Response:
    """One campaign."""
    campaign = await run_in_threadpool(get_campaign, _sessions(request), request.path_params["slug"])
    return JSONResponse(campaign_json(campaign))


@admin_api
async def update(request: Request) -> Response:
    """The campaign with the sent settings (and `status`, when it changes) applied."""
    slug = request.path_params["slug"]
    body = await json_object_body(request)
    settings = _settings_from(body)
    campaign = await run_in_threadpool(update_campaign, _sessions(request), slug, settings, _now())
    if isinstance(body.get("status"), str) and body["status"] != campaign.status:
        campaign = await run_in_threadpool(set_status, _sessions(request), slug, body["status"], _now())
    return JSONResponse(campaign_json(campaign))


@admin_api
async def change_status(request: Request) -> Response:
    """The campaign after moving it to `{"status": "live" | "ended"}`."""
    body = await json_body(request)
    status = body.get("status") if isinstance(body, dict) else None
    campaign = await run_in_threadpool(set_status, _sessions(request), request.path_params["slug"], str(status), _now())
    return JSONResponse(campaign_json(campaign))


# --- overlays --------------------------------------------------------------------------------------


def _shape(request: Request) -> str:
    shape = request.path_params["shape"]
    if shape not in SHAPES:
        raise Refusal(404, "no_such_shape", f"no shape {shape!r}: use {', '.join(SHAPES)}", "shape")
    return shape


@admin_api
async def put_overlay(request: Request) -> Response:
    """The campaign with the uploaded PNG (the body) as its overlay for the shape."""
    slug = request.path_params["slug"]
    shape = _shape(request)
    await run_in_threadpool(get_campaign, _sessions(request), slug)
    data = await capped_body(request, MAX_OVERLAY_BYTES, "overlay")
    overlays = overlay_store(request)
    stored = await run_in_threadpool(overlays.put, slug, shape, data)  # type: ignore[arg-type]
    campaign, replaced = await run_in_threadpool(set_overlay, _sessions(request), slug, shape, stored.as_json(), _now())  # type: ignore[arg-type]
    if replaced:
        await run_in_threadpool(overlays.delete, replaced)
    return JSONResponse(campaign_json(campaign))


@admin_api
async def get_overlay(request: Request) -> Response:
    """One shape's overlay PNG (drafts included)."""
    shape = _shape(request)
    campaign = await run_in_threadpool(get_campaign, _sessions(request), request.path_params["slug"])
    overlay = (campaign.overlays or {}).get(shape)
    if overlay is None:
        raise CampaignNotFound(f"campaign {campaign.slug!r} has no {shape} overlay")
    data = await run_in_threadpool(overlay_store(request).raw, overlay["key"])
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


@admin_api
async def delete_overlay(request: Request) -> Response:
    """The campaign without its overlay for the shape (a live campaign keeps its last one)."""
    shape = _shape(request)
    campaign, removed = await run_in_threadpool(remove_overlay, _sessions(request), request.path_params["slug"], shape, _now())  # type: ignore[arg-type]
    await run_in_threadpool(overlay_store(request).delete, removed)
    return JSONResponse(campaign_json(campaign))


# --- figures -----------------------------------------------------------------------------------------


@admin_api
async def stats(request: Request) -> Response:
    """Photos made, submissions by status and platform, and both per day over the last 30 days."""
    figures = await run_in_threadpool(campaign_stats, _sessions(request), request.path_params["slug"], _now())
    return JSONResponse(figures.model_dump(mode="json"))


# --- submissions --------------------------------------------------------------------------------------


def _filter(request: Request) -> SubmissionFilter:
    query = request.query_params
    status, platform = query.get("status") or None, query.get("platform") or None
    if status and status not in REVIEW_STATUSES:
        raise InvalidInput(f"status {status!r}: use {', '.join(REVIEW_STATUSES)}", field="status")
    if platform and platform not in PLATFORMS:
        raise InvalidInput(f"platform {platform!r}: use {', '.join(PLATFORMS)}", field="platform")
    return SubmissionFilter(campaign=query.get("campaign") or None, status=status, platform=platform)


@admin_api
async def submissions(request: Request) -> Response:
    """The review queue: the newest 500 submissions matching `?campaign=&status=&platform=`."""
    rows = await run_in_threadpool(list_submissions, _sessions(request), _filter(request), 500)
    return JSONResponse({"submissions": [submission_json(row, slug) for row, slug in rows]})


@admin_api
async def review_submissions(request: Request) -> Response:
    """The reviewed submissions for `{"ids": [...], "decision": "approved"|"rejected", "note"}`."""
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
        raise InvalidInput('send {"ids": [1, 2], "decision": "approved" or "rejected", "note": "..."}', field="ids")
    ids = [int(i) for i in body["ids"] if isinstance(i, int) and not isinstance(i, bool)]
    if len(ids) != len(body["ids"]):
        raise InvalidInput("ids: send submission ids as whole numbers", field="ids")
    host = request.client.host if request.client else "unknown"
    rows = await run_in_threadpool(
        review, _sessions(request), ids, str(body.get("decision")), str(body.get("note") or ""), f"admin ({host})", _now()
    )
    return JSONResponse({"reviewed": [r.id for r in rows], "decision": rows[0].status, "count": len(rows)})


@admin_api
async def export_csv(request: Request) -> Response:
    """Every submission matching the filters as CSV (cells a spreadsheet would run are escaped)."""
    where = _filter(request)
    rows = await run_in_threadpool(list_submissions, _sessions(request), where, None)
    document = to_csv(
        CSV_HEADER,
        (
            [r.id, slug, r.created_at, r.platform, r.url, r.resolved, r.name, r.person_key, r.status,
             r.reviewed_at, r.reviewed_by, r.review_note]
            for r, slug in rows
        ),
    )
    name = f"submissions-{where.campaign or 'all'}-{_now():%Y%m%d-%H%M}.csv"
    return Response(
        document,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def routes() -> list[BaseRoute]:
    """The campaigns' admin routes."""
    return [
        Route("/admin/api/campaigns", campaigns_index, methods=["GET"]),
        Route("/admin/api/campaigns", create, methods=["POST"]),
        Route("/admin/api/campaign-submissions", submissions, methods=["GET"]),
        Route("/admin/api/campaign-submissions/review", review_submissions, methods=["POST"]),
        Route("/admin/api/campaign-submissions.csv", export_csv, methods=["GET"]),
        Route("/admin/api/campaigns/{slug}", show, methods=["GET"]),
        Route("/admin/api/campaigns/{slug}", update, methods=["PUT"]),
        Route("/admin/api/campaigns/{slug}/status", change_status, methods=["POST"]),
        Route("/admin/api/campaigns/{slug}/stats", stats, methods=["GET"]),
        Route("/admin/api/campaigns/{slug}/overlays/{shape}", get_overlay, methods=["GET"]),
        Route("/admin/api/campaigns/{slug}/overlays/{shape}", put_overlay, methods=["PUT"]),
        Route("/admin/api/campaigns/{slug}/overlays/{shape}", delete_overlay, methods=["DELETE"]),
    ]
