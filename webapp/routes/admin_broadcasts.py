"""The Broadcasts page's admin JSON API: compose, test, send or schedule, follow, control; and the
Telegram channels the bots post promos to.

Broadcasts (`/admin/api/broadcasts`):
- `GET` → recent broadcasts with their counts, the bots that can broadcast, whether
  `ADMIN_TELEGRAM_IDS` is set; `GET /{id}` → one broadcast with live counts (sent, blocked,
  failed, unknown, remaining, rate, ETA) — the page polls it while a broadcast runs.
- `POST` → 201 with the saved draft: a JSON draft (`promostack.broadcasts.compose.Draft`), or a
  multipart form with the draft as the `draft` field and the photo as `photo` (an upload).
  Telegram HTML is checked before saving (422 naming what to fix).
- `POST /{id}/test` → the broadcast sent to the admins' own chats only.
- `POST /{id}/send` `{"at": ISO time or null}` → 202: queued and a run of the `broadcast`
  deployment started now or scheduled at that time.
- `POST /{id}/pause | /cancel` → the new status (the run stops at its next checkpoint);
  `POST /{id}/resume | /retract` → the new status and a new run; `POST /{id}/requeue` → unknown
  (and, with `{"failed": true}`, failed) rows back to pending, and a run.

Channels (`/admin/api/channels`): `GET`, `POST {"bot", "chat"}` (checked with getChatMember),
`DELETE /{id}`, `POST /{id}/posts {"template", "code", "caption", "at"}` (now: posted and answered
with the report; with `at`: a scheduled run of `channel-post`),and the latest posts come with `GET`.

Every route needs an admin session; state-changing ones the CSRF header (checked before the
route runs). Errors are raised and mapped by the app's exception handlers.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bots.registry import enabled_bots
from flows.broadcast import compose_broadcast, send_test
from flows.channel_post import post_now, register_channel, schedule_post
from promostack.broadcasts import channels, control, recipients, states
from promostack.broadcasts.compose import Draft
from promostack.errors import InvalidInput
from promostack.runtime import Runtime
from webapp.auth import admin_api
from webapp.bodies import read_form, read_json_object, read_model
from webapp.context import runtime
from webapp.errors import MalformedBody
from webapp.prefect_runs import PrefectUnavailable, start_run

BROADCAST_DEPLOYMENT = "broadcast/broadcast"
POST_DEPLOYMENT = "channel-post/channel-post"
JSON_LIMIT = 64 * 1024
UPLOAD_LIMIT = 10 * 1024 * 1024  # Telegram takes photos up to 10 MB
PHOTO_TYPES = {"image/jpeg", "image/png"}


class SendAt(BaseModel):
    """When to send: now (null) or at a time with a zone."""

    model_config = ConfigDict(extra="forbid")

    at: datetime | None = None


class ChannelIn(BaseModel):
    """A channel to register for a bot."""

    model_config = ConfigDict(extra="forbid")

    bot: str = Field(min_length=1, max_length=32)
    chat: str = Field(min_length=1, max_length=64)


class PostIn(BaseModel):
    """A promo to post to a channel, now or at `at`."""

    model_config = ConfigDict(extra="forbid")

    template: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64)
    caption: str = Field(default="", max_length=4000)
    at: datetime | None = None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _who(request: Request) -> str:
    return "admin"


def _broadcast_json(view: control.BroadcastView, counts: recipients.Counts) -> dict[str, Any]:
    return {
        "id": view.id, "bot": view.bot, "text": view.text, "status": view.status, "paid": view.paid,
        "has_photo": bool(view.photo_key or view.photo_file_id), "buttons": view.buttons,
        "seen_within_days": view.seen_within_days, "language": view.language,
        "created_at": _iso(view.created_at), "scheduled_at": _iso(view.scheduled_at),
        "started_at": _iso(view.started_at), "finished_at": _iso(view.finished_at), "flow_run_id": view.flow_run_id,
        "counts": {
            "total": counts.total, "sent": counts.sent, "blocked": counts.blocked, "failed": counts.failed,
            "unknown": counts.unknown, "remaining": counts.remaining, "retracted": counts.retracted,
            "rate_per_s": counts.rate_per_s, "eta_s": round(counts.eta_s) if counts.eta_s is not None else None,
        },
    }


def _load(rt: Runtime, broadcast_id: int) -> dict[str, Any]:
    return _broadcast_json(control.get(rt.sessions, broadcast_id), recipients.counts(rt.sessions, broadcast_id))


async def _start_run(rt: Runtime, deployment: str, parameters: dict[str, Any], at: datetime | None = None) -> str:
    """The id of the flow run of `deployment` started now or scheduled at `at`."""
    started = await start_run(deployment, rt.settings.prefect_ui_url, parameters=parameters, at=at)
    return started.id


def _id(request: Request) -> int:
    raw = request.path_params["id"]
    if not str(raw).isdigit():
        raise InvalidInput(f"{raw!r} is not a broadcast id", field="id")
    return int(raw)


# --- broadcasts -------------------------------------------------------------------------------


@admin_api
async def broadcasts_index(request: Request) -> Response:
    """Recent broadcasts with their counts, the bots that can broadcast, and the test chat setting."""
    rt = runtime(request)

    def load() -> list[dict[str, Any]]:
        return [_broadcast_json(v, recipients.counts(rt.sessions, v.id)) for v in control.recent(rt.sessions)]

    return JSONResponse({
        "broadcasts": await run_in_threadpool(load),
        "bots": [bot.id for bot in enabled_bots(rt.settings)],
        "test_chats": len(rt.settings.admin_chat_ids),
        "rate_per_s": rt.settings.broadcast_rate_per_s,
        "paid_rate_per_s": rt.settings.broadcast_paid_rate_per_s,
    })


@admin_api
async def create_broadcast(request: Request) -> Response:
    """201 with the saved draft (its photo stored, its HTML checked)."""
    rt = runtime(request)
    upload: bytes | None = None
    upload_type = "image/jpeg"
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await read_form(request, UPLOAD_LIMIT)
        try:
            draft = Draft.model_validate(json.loads(str(form.get("draft") or "{}")))
        except (ValueError, ValidationError) as exc:
            raise MalformedBody(f"the draft field is not a valid broadcast: {exc}", field="draft") from None
        photo = form.get("photo")
        if photo is not None and not isinstance(photo, str):
            upload_type = photo.content_type or ""
            if upload_type not in PHOTO_TYPES:
                raise InvalidInput("the photo must be a JPEG or PNG image", field="photo")
            upload = await photo.read()
    else:
        draft = await read_model(request, Draft, JSON_LIMIT)
    broadcast_id = await compose_broadcast(rt, draft, created_by=_who(request), upload=upload, upload_type=upload_type)
    return JSONResponse(await run_in_threadpool(_load, rt, broadcast_id), status_code=201)


@admin_api
async def show_broadcast(request: Request) -> Response:
    """One broadcast with its live counts."""
    rt = runtime(request)
    return JSONResponse(await run_in_threadpool(_load, rt, _id(request)))


@admin_api
async def test_broadcast(request: Request) -> Response:
    """The message ids of the test sent to the admins' own chats."""
    ids = await send_test(runtime(request), _id(request))
    return JSONResponse({"message_ids": ids, "chats": len(ids)})


@admin_api
async def send_broadcast(request: Request) -> Response:
    """202: the broadcast queued (or scheduled) and its run started on Prefect."""
    rt, broadcast_id = runtime(request), _id(request)
    when = await read_model(request, SendAt, JSON_LIMIT)
    action = "schedule" if when.at else "start"
    if when.at is not None and when.at.tzinfo is None:
        raise InvalidInput("give the time with a zone (ISO 8601 with Z or an offset)", field="at")
    await run_in_threadpool(partial(control.apply, rt.sessions, broadcast_id, action, at=when.at))
    try:
        run_id = await _start_run(rt, BROADCAST_DEPLOYMENT, {"broadcast_id": broadcast_id}, when.at)
    except PrefectUnavailable:
        # Nothing was started: the broadcast is a draft again, so it can be sent once Prefect is back.
        await run_in_threadpool(control.back_to_draft, rt.sessions, broadcast_id)
        raise
    await run_in_threadpool(control.set_flow_run, rt.sessions, broadcast_id, run_id)
    return JSONResponse(await run_in_threadpool(_load, rt, broadcast_id), status_code=202)


# action -> whether it needs a run (resume and retract do; pause and cancel are read by the run).
ACTIONS_WITH_RUN = {"pause": False, "cancel": False, "resume": True, "retract": True}


async def _act(request: Request, action: str) -> dict[str, Any]:
    rt, broadcast_id = runtime(request), _id(request)
    await run_in_threadpool(control.apply, rt.sessions, broadcast_id, action)
    if ACTIONS_WITH_RUN[action]:
        run_id = await _start_run(rt, BROADCAST_DEPLOYMENT, {"broadcast_id": broadcast_id})
        await run_in_threadpool(control.set_flow_run, rt.sessions, broadcast_id, run_id)
    return await run_in_threadpool(_load, rt, broadcast_id)


@admin_api
async def control_broadcast(request: Request) -> Response:
    """The broadcast after pause, cancel (its run stops at its next checkpoint), resume (a new run
    picks up where it stopped) or retract (a run deletes its sent messages, within 48 h)."""
    action = request.path_params["action"]
    if action not in ACTIONS_WITH_RUN:
        raise InvalidInput(f"unknown action {action!r}; use {', '.join(ACTIONS_WITH_RUN)}", field="action")
    return JSONResponse(await _act(request, action))


@admin_api
async def requeue_broadcast(request: Request) -> Response:
    """How many unknown (and failed, when asked) rows went back to pending; a run sends them."""
    rt, broadcast_id = runtime(request), _id(request)
    body = await read_json_object(request, JSON_LIMIT) if request.headers.get("content-length") not in (None, "0") else {}
    chosen = frozenset({states.UNKNOWN} | ({states.FAILED} if body.get("failed") is True else set()))
    count = await run_in_threadpool(recipients.requeue, rt.sessions, broadcast_id, chosen)
    view = await run_in_threadpool(control.get, rt.sessions, broadcast_id)
    if count and view.status in {states.DONE, states.PAUSED}:
        await _act(request, "resume")
    return JSONResponse({"requeued": count, **await run_in_threadpool(_load, rt, broadcast_id)})


# --- channels -----------------------------------------------------------------------------------


def _channel_json(channel: channels.Channel) -> dict[str, Any]:
    return {
        "id": channel.id, "bot": channel.bot, "chat_id": channel.chat_id, "title": channel.title,
        "username": channel.username, "added_by": channel.added_by, "added_at": _iso(channel.added_at),
    }


def _post_json(post: channels.Post) -> dict[str, Any]:
    return {
        "id": post.id, "channel_id": post.channel_id, "template": post.template_slug, "code": post.coupon_code,
        "caption": post.caption, "state": post.state, "message_id": post.message_id, "event_id": post.event_id,
        "error": post.error, "requested_by": post.requested_by, "created_at": _iso(post.created_at),
        "scheduled_at": _iso(post.scheduled_at), "posted_at": _iso(post.posted_at),
    }


@admin_api
async def channels_index(request: Request) -> Response:
    """The registered channels and the latest posts."""
    rt = runtime(request)
    listed = await run_in_threadpool(channels.channels, rt.sessions)
    posts = await run_in_threadpool(channels.recent_posts, rt.sessions)
    return JSONResponse({"channels": [_channel_json(c) for c in listed], "posts": [_post_json(p) for p in posts]})


@admin_api
async def add_channel(request: Request) -> Response:
    """201 with the channel, once Telegram confirmed the bot is an admin who may post there."""
    wanted = await read_model(request, ChannelIn, JSON_LIMIT)
    channel = await register_channel(runtime(request), wanted.bot, wanted.chat, _who(request))
    return JSONResponse(_channel_json(channel), status_code=201)


@admin_api
async def delete_channel(request: Request) -> Response:
    """204: the channel is no longer one the bots post to."""
    await run_in_threadpool(channels.remove_channel, runtime(request).sessions, _id(request))
    return Response(status_code=204)


@admin_api
async def post_to_channel(request: Request) -> Response:
    """201 with the post's report (now), or 202 with the scheduled post."""
    rt, channel_id = runtime(request), _id(request)
    wanted = await read_model(request, PostIn, JSON_LIMIT)
    if wanted.at is None:
        report = await post_now(rt, channel_id, wanted.template, wanted.code, wanted.caption, _who(request))
        return JSONResponse(report.model_dump(), status_code=201)
    if wanted.at.tzinfo is None:
        raise InvalidInput("give the time with a zone (ISO 8601 with Z or an offset)", field="at")
    post_id = await schedule_post(rt, channel_id, wanted.template, wanted.code, wanted.caption, _who(request), wanted.at)
    await _start_run(rt, POST_DEPLOYMENT, {"post_id": post_id}, wanted.at)
    return JSONResponse(_post_json(await run_in_threadpool(channels.get_post, rt.sessions, post_id)), status_code=202)


def routes() -> list[BaseRoute]:
    """The broadcasts' and channels' admin routes."""
    return [
        Route("/admin/api/broadcasts", broadcasts_index, methods=["GET"]),
        Route("/admin/api/broadcasts", create_broadcast, methods=["POST"]),
        Route("/admin/api/broadcasts/{id}", show_broadcast, methods=["GET"]),
        Route("/admin/api/broadcasts/{id}/test", test_broadcast, methods=["POST"]),
        Route("/admin/api/broadcasts/{id}/send", send_broadcast, methods=["POST"]),
        Route("/admin/api/broadcasts/{id}/requeue", requeue_broadcast, methods=["POST"]),
        Route("/admin/api/broadcasts/{id}/{action}", control_broadcast, methods=["POST"]),
        Route("/admin/api/channels", channels_index, methods=["GET"]),
        Route("/admin/api/channels", add_channel, methods=["POST"]),
        Route("/admin/api/channels/{id}", delete_channel, methods=["DELETE"]),
        Route("/admin/api/channels/{id}/posts", post_to_channel, methods=["POST"]),
    ]
