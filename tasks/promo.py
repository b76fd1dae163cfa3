"""The outside-world steps of a promo, each as a plain coroutine and as the Prefect task that wraps it.

`flows/render_promo.py` runs the same step list with either set: the plain coroutines on the
latency-critical paths (the bot, the web API), the tasks in the `render-promo` flow (retries on
dependency failures, task runs in the UI). Each takes the runtime it works on; blocking calls run
off the event loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from collections.abc import Awaitable, Callable

from prefect import task

from promostack.coupons import CouponValidator
from promostack.db.generations import GenerationRecord, Status, record_generation, settle
from promostack.promo import PromoInputs, promo_inputs
from promostack.runtime import Runtime
from promostack.storage import content_type_of
from tasks.quotas import flow_validator
from tasks.retries import RETRY_DEPENDENCY_ERRORS


async def check_coupon_and_load_template(runtime: Runtime, code: str, slug: str) -> PromoInputs:
    """The valid coupon's verdict with the template and its image (`InvalidCoupon` is final).

    Both are fetched at once: either may be a network call.
    """
    return await _check_and_load(runtime.validator, runtime, code, slug)


async def check_coupon_and_load_template_in_flow(runtime: Runtime, code: str, slug: str) -> PromoInputs:
    """The same inside a flow run, where a FunderPro check holds a slot of the shared limit."""
    return await _check_and_load(flow_validator(runtime), runtime, code, slug)


async def _check_and_load(validator: CouponValidator, runtime: Runtime, code: str, slug: str) -> PromoInputs:
    templates = runtime.templates

    def load() -> tuple[object, bytes]:
        meta = templates.get(slug)
        return meta, templates.image(slug, meta)

    check, loaded = await asyncio.gather(
        asyncio.to_thread(validator.validate, code), asyncio.to_thread(load), return_exceptions=True
    )
    return promo_inputs(check, loaded)  # type: ignore[arg-type]


async def store_image(runtime: Runtime, image: bytes, key: str) -> str:
    """`key`, after storing `image` there (the key is chosen before, so a retry overwrites)."""
    await asyncio.to_thread(runtime.store.put, key, image, content_type_of(key))
    return key


async def record_attempt(runtime: Runtime, record: GenerationRecord) -> None:
    """Nothing; `record` is in `generation_events` afterwards (a retry adds no second row)."""
    await asyncio.to_thread(record_generation, runtime.sessions, record)


async def settle_attempt(
    runtime: Runtime,
    event_id: str,
    status: Status,
    error: str | None = None,
    render_ms: float | None = None,
    output_key: str | None = None,
) -> None:
    """Nothing; the pending attempt `event_id` is settled as `status` afterwards."""
    await asyncio.to_thread(
        settle, runtime.sessions, event_id, status, error=error, render_ms=render_ms, output_key=output_key
    )


@dataclass(frozen=True)
class PromoSteps:
    """The steps of a promo that touch the outside world."""

    check_coupon_and_load_template: Callable[[Runtime, str, str], Awaitable[PromoInputs]]
    store_image: Callable[[Runtime, bytes, str], Awaitable[str]]
    record_attempt: Callable[[Runtime, GenerationRecord], Awaitable[None]]
    settle_attempt: Callable[..., Awaitable[None]]


DIRECT_STEPS = PromoSteps(check_coupon_and_load_template, store_image, record_attempt, settle_attempt)
TASK_STEPS = PromoSteps(
    task(check_coupon_and_load_template_in_flow, name="check-coupon-and-load-template", **RETRY_DEPENDENCY_ERRORS),
    task(store_image, name="store-render", **RETRY_DEPENDENCY_ERRORS),
    task(record_attempt, name="record-generation", **RETRY_DEPENDENCY_ERRORS),
    task(settle_attempt, name="settle-generation", **RETRY_DEPENDENCY_ERRORS),
)
