"""A promo — a template plus a coupon code becomes an image — written down once, run two ways.

`make_promo(runtime, request)` is the step list:

1. count the caller's quota (when one is given; over it, `RateLimited` and nothing is recorded),
   then record the attempt (a pending generation event) — while the coupon is checked and the
   template loaded, side by side;
2. render; 3. store the image (when asked); 4. deliver it (when the caller hands a `deliver`
   coroutine: the bot's photo) — the effect the attempt was recorded before;
5. settle the attempt: succeeded, failed, or unknown when the delivery's fate is unknown;
6. emit a Prefect event for ops (never delays or fails the image).

The bot and the web API await it directly with the plain steps (no Prefect bookkeeping in the
image's path: a flow run costs 165–450 ms against a 10–120 ms render). The `render-promo` flow
runs the same list with the steps as Prefect tasks (retries, task runs in the UI) for bulk-style
and manual runs. Errors the user caused (`InvalidCoupon`, `TemplateNotFound`, `RenderError`, any
`InvalidInput`) reach the caller unchanged and are never retried.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from prefect import flow

from promostack.coupons import normalise_code
from promostack.db.generations import SettleReport, Status, record_generation, settle_stale_attempts
from promostack.errors import DeliveryUnknown, RateLimited
from promostack.limits import Limit
from promostack.periodic import every
from promostack.promo import (
    PromoRequest,
    PromoResult,
    attempt_record,
    promo_result,
    refusal_record,
    render_key,
    render_promo_image,
)
from promostack.runtime import Runtime, current_runtime
from tasks.promo import DIRECT_STEPS, TASK_STEPS, PromoSteps
from tasks.promo_events import emit_promo_event

log = logging.getLogger(__name__)

Deliver = Callable[[PromoResult], Awaitable[object]]


async def make_promo(
    runtime: Runtime,
    request: PromoRequest,
    deliver: Deliver | None = None,
    *,
    quota: tuple[str, Limit] | None = None,
    steps: PromoSteps = DIRECT_STEPS,
) -> PromoResult:
    """The promo image `request` asks for, delivered by `deliver` when given; every attempt is
    recorded and settled, failed ones too. `quota` = (key, limit) counts the caller's requests."""
    started = time.perf_counter()
    event_id = request.event_id or uuid.uuid4().hex
    output_key = render_key(request.fmt) if request.store_output else None
    attempt = attempt_record(request, event_id=event_id, output_key=output_key)

    async def admit_and_record() -> None:
        if quota is not None:
            key, limit = quota
            verdict = await asyncio.to_thread(runtime.limiter.hit, key, limit)
            if not verdict.allowed:
                raise RateLimited(verdict.retry_after_s)
        await steps.record_attempt(runtime, attempt)

    # The reads (coupon, template) run beside the writes (quota, attempt): a refused quota
    # discards what was read, and nothing was recorded.
    inputs, admitted = await asyncio.gather(
        steps.check_coupon_and_load_template(runtime, normalise_code(request.coupon_code), request.template_slug),
        admit_and_record(),
        return_exceptions=True,
    )
    if isinstance(admitted, BaseException):
        # Over the quota, or the database said no: nothing is made without its event.
        raise admitted
    status: Status = "failed"
    render_ms: float | None = None
    error: BaseException | None = None
    try:
        if isinstance(inputs, BaseException):
            raise inputs
        image, render_ms = await asyncio.to_thread(render_promo_image, inputs, request)
        if output_key is not None:
            await steps.store_image(runtime, image, output_key)
        result = promo_result(inputs, request, image, render_ms, output_key=output_key, event_id=event_id)
        if deliver is not None:
            await deliver(result)
        status = "succeeded"
        return result
    except DeliveryUnknown as exc:
        status, error = "unknown", exc
        raise
    except Exception as exc:
        error = exc
        raise
    finally:
        await _settle(runtime, steps, event_id, status, error, render_ms, output_key)
        emit_promo_event(request, status, (time.perf_counter() - started) * 1000, error)


async def _settle(
    runtime: Runtime,
    steps: PromoSteps,
    event_id: str,
    status: Status,
    error: BaseException | None,
    render_ms: float | None,
    output_key: str | None,
) -> None:
    message = f"{type(error).__name__}: {error}" if error is not None else None
    try:
        await steps.settle_attempt(runtime, event_id, status, message, render_ms, output_key)
    except Exception:
        # The image's fate is decided; the caller must see it, not the bookkeeping error. The
        # attempt stays pending and is settled at the next start (see promostack.db.generations).
        log.exception("could not settle generation event %s as %s", event_id, status)


async def record_refusal(
    runtime: Runtime,
    channel: str,
    user_ref: str | None,
    template_slug: str | None,
    coupon_code: str | None,
    problem: str,
    event_id: str | None = None,
    bot: str | None = None,
) -> None:
    """Nothing; records an attempt refused before any step ran (a missing code, an impossible slug)."""
    record = refusal_record(channel, user_ref, template_slug, coupon_code, problem, event_id, bot)
    await asyncio.to_thread(record_generation, runtime.sessions, record)


async def settle_stale(runtime: Runtime) -> SettleReport:
    """What was settled of the attempts left pending longer than `ATTEMPT_SETTLE_AFTER_S`: their
    process died between recording and settling them (see `promostack.db.generations`)."""
    older_than = timedelta(seconds=runtime.settings.attempt_settle_after_s)
    return await asyncio.to_thread(settle_stale_attempts, runtime.sessions, runtime.store, older_than)


def settling_stale_attempts(runtime: Runtime, every_s: float = 60.0) -> AbstractAsyncContextManager[None]:
    """Settles stale attempts at once and then every `every_s` seconds while the block runs (the
    web app and the polling bot run inside it), so a crash's attempts are settled once they are
    old enough, whichever process starts next."""
    return every(every_s, lambda: settle_stale(runtime), "settle stale generation attempts")


@flow(name="render-promo", persist_result=False)
async def render_promo(request: PromoRequest) -> PromoResult:
    """The promo image `request` asks for, made by the same steps as Prefect tasks (dependency
    failures retried; user errors raised unchanged, never retried)."""
    return await make_promo(current_runtime(), request, steps=TASK_STEPS)
