"""Stripe's webhook: `POST /stripe/webhook`.

The route stores the event and answers at once; the event is applied after the answer (a
background task), so Stripe's delivery never waits on the mirror.

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

import logging

from sqlalchemy.exc import SQLAlchemyError
from starlette.background import BackgroundTask
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


def _apply(rt: Runtime, event_id: str) -> None:
    """Apply a stored event (after the answer); a failure is kept on the event, never raised."""
    settings: Settings = rt.settings
    reader = StripeReader(settings) if settings.stripe_secret_key is not None else None
    events.process(rt.sessions, event_id, RevenueFilter.from_settings(settings), reader)


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
    return JSONResponse({"received": True}, background=BackgroundTask(_apply, rt, event["id"]))


def routes() -> list[BaseRoute]:
    """The Stripe webhook route."""
    return [Route("/stripe/webhook", stripe_webhook, methods=["POST"], name="stripe_webhook")]
