"""Stripe's webhook: `POST /stripe/webhook`.

The route stores the event and answers at once; the event is applied beside the request, in a
batch with the others waiting (`EventApplier`), so Stripe's delivery never waits on the mirror.

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
from promostack.errors import InvalidInput
from promostack.runtime import Runtime
from webapp.bodies import read_body
from webapp.context import runtime
from webapp.errors import MalformedBody, WebError

log = logging.getLogger(__name__)

# Stripe's event bodies are a few kilobytes, an invoice with many lines some hundreds.
MAX_EVENT_BYTES = 1024 * 1024
# Events applied together at most (one transaction; more wait for the next batch).
APPLY_BATCH = 200
# Batches applied at once by one process, each on a thread and a database connection of its
# own: an event that reads Stripe (discounts named by id) holds up one batch, not all of them.
# Measured: 1 answered 275-312 deliveries/s, 3 answered 243-253 (more threads applying take
# the interpreter from the requests); 2 keeps a second loop for when one waits on Stripe.
APPLIERS = 2


class EventApplier:
    """Applies the events this process stored, in batches, on threads of its own.

    Each stored event's id joins a queue and the route answers; each of `APPLIERS` loops takes
    every id waiting (up to `APPLY_BATCH`) and applies them together (`events.process_batch`),
    so under load the cost of a transaction is shared by many events, and at rest an event is
    applied alone at once. The threads are its own: applying never queues ahead of the next
    deliveries' storing (which share the default thread pool with every other route). An id
    whose process dies before applying it stays `received` in the database, and the reconcile
    flow applies it.
    """

    def __init__(self, rt: Runtime) -> None:
        self.runtime = rt
        self.filter = RevenueFilter.from_settings(rt.settings)
        # One client for the app (about 5 ms to build; its HTTP sessions are per thread).
        self.reader = StripeReader(rt.settings) if rt.settings.stripe_secret_key is not None else None
        #: Ids stored and not applied yet (tests wait for it to empty).
        self.pending: set[str] = set()
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._threads = anyio.CapacityLimiter(APPLIERS)
        self._loops: list[asyncio.Task[None]] = []

    def submit(self, event_id: str) -> None:
        """Apply the stored event `event_id` soon, beside the requests."""
        self.pending.add(event_id)
        self._queue.put_nowait(event_id)
        if not self._loops:
            loop = asyncio.get_running_loop()
            self._loops = [loop.create_task(self._run()) for _ in range(APPLIERS)]

    async def _run(self) -> None:
        while True:
            ids = [await self._queue.get()]
            while len(ids) < APPLY_BATCH and not self._queue.empty():
                ids.append(self._queue.get_nowait())
            try:
                await anyio.to_thread.run_sync(self._apply, ids, limiter=self._threads)
            except Exception as exc:  # noqa: BLE001 - the events stay stored; the reconcile flow applies them
                log.warning("%d stored Stripe events not applied now (the reconcile flow will): %s", len(ids), exc)
            finally:
                self.pending.difference_update(ids)

    def _apply(self, ids: list[str]) -> None:
        events.process_batch(self.runtime.sessions, ids, self.filter, self.reader)


def _applier(request: Request, rt: Runtime) -> EventApplier:
    """The app's event applier, made on the first event it stores."""
    state = request.app.state
    applier: EventApplier | None = getattr(state, "stripe_applier", None)
    if applier is None:
        applier = state.stripe_applier = EventApplier(rt)
    return applier


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
        new = await run_in_threadpool(events.store, rt.engine, raw, event)
    except SQLAlchemyError as exc:
        log.warning("Stripe event %s not stored (Stripe will deliver it again): %s", event["id"], exc)
        raise WebError(503, "The event could not be stored; deliver it again.") from exc
    if not new:
        return JSONResponse({"received": True, "duplicate": True})
    _applier(request, rt).submit(event["id"])
    return JSONResponse({"received": True})


def routes() -> list[BaseRoute]:
    """The Stripe webhook route."""
    return [Route("/stripe/webhook", stripe_webhook, methods=["POST"], name="stripe_webhook")]
