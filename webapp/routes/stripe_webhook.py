"""Stripe's webhook: `POST /stripe/webhook`.

The route stores the event and answers at once; the event is applied beside the request (a
task of its own), so Stripe's delivery never waits on the mirror.

- no `STRIPE_WEBHOOK_SECRET` → 503 (nothing can be verified; Stripe delivers again later);
- a body over the cap → 413; a missing, wrong or stale `Stripe-Signature` (older than five
  minutes), or a body that is not an event → 400, and nothing is stored;
- a verified event → 200 once stored; a duplicate delivery → 200, stored once, applied once;
- the database unavailable → 503 (Stripe delivers again later).

An event that fails to apply stays stored as `failed`; the `reconcile-stripe` flow retries it.
The body is read by the app's one capped reader (`webapp.bodies`); refusals answer in its one
error dialect (`webapp.errors`).
"""

from __future__ import annotations

import asyncio
import logging

import anyio
import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from promostack.billing import events
from promostack.billing.mrr import RevenueFilter
from promostack.billing.stripe_api import StripeReader
from promostack.config import Settings
from promostack.errors import InvalidInput
from promostack.runtime import Runtime
from webapp.bodies import read_body
from webapp.context import runtime
from webapp.errors import MalformedBody, WebError

log = logging.getLogger(__name__)

# Stripe's event bodies are a few kilobytes, an invoice with many lines some hundreds.
MAX_EVENT_BYTES = 1024 * 1024
# Events applied at once by one process (each holds a database connection while it runs).
APPLY_THREADS = 4


def _apply(rt: Runtime, reader: StripeReader | None, event_id: str) -> None:
    """Apply a stored event (after the answer); a failure is kept on the event, never raised."""
    events.process(rt.sessions, event_id, RevenueFilter.from_settings(rt.settings), reader)


def _apply_later(request: Request, rt: Runtime, event_id: str) -> None:
    """Start applying the event beside the request, not after it on the same connection.

    Detached from the request, so a slow application (one that reads Stripe) never holds the
    connection's next delivery. The app keeps a reference to each task until it ends; an event
    whose task dies with the process stays `received` and the reconcile flow applies it.
    """
    state = request.app.state
    pending: set[asyncio.Task[None]] | None = getattr(state, "stripe_events_applying", None)
    if pending is None:
        pending = state.stripe_events_applying = set()
        # Its own few threads: a burst of events to apply never queues ahead of the next
        # deliveries' storing (which share the default thread pool with every other route).
        state.stripe_apply_threads = anyio.CapacityLimiter(APPLY_THREADS)
        # One client for the app (about 5 ms to build; its HTTP sessions are per thread).
        settings: Settings = rt.settings
        state.stripe_reader = StripeReader(settings) if settings.stripe_secret_key is not None else None
    task = asyncio.get_running_loop().create_task(
        anyio.to_thread.run_sync(_apply, rt, state.stripe_reader, event_id, limiter=state.stripe_apply_threads)
    )
    pending.add(task)
    task.add_done_callback(pending.discard)


async def stripe_webhook(request: Request) -> Response:
    """200 once the verified event is stored (applied after); 4xx/503 as the module docstring lists."""
    rt = runtime(request)
    secret = rt.settings.stripe_webhook_secret
    if secret is None:
        raise WebError(503, "Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET).", kind="not_configured")
    # The exact bytes sent: the signature covers them.
    raw = await read_body(request, MAX_EVENT_BYTES, "event")
    try:
        event = events.verify(raw, request.headers.get("stripe-signature"), secret.get_secret_value())
    except InvalidInput as exc:
        raise MalformedBody(str(exc), kind="unverified_event") from exc
    try:
        new = await run_in_threadpool(events.store, rt.sessions, raw, event)
    except SQLAlchemyError as exc:
        log.warning("Stripe event %s not stored (Stripe will deliver it again): %s", event["id"], exc)
        raise WebError(503, "The event could not be stored; deliver it again.") from exc
    if not new:
        return JSONResponse({"received": True, "duplicate": True})
    _apply_later(request, rt, event["id"])
    return JSONResponse({"received": True})


def routes() -> list[BaseRoute]:
    """The Stripe webhook route."""
    return [Route("/stripe/webhook", stripe_webhook, methods=["POST"], name="stripe_webhook")]
