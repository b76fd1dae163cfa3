"""The `render-promo` flow: one promo image, in-process and async, for the bot, web and API.

Async on purpose: a synchronous flow call joins a heartbeat thread (about a second), while the
Telegram bot awaits this flow inside its own event loop. The steps are `promostack.promo`'s;
the flow only swaps the outside-world ones for tasks that retry dependency failures.
"""

from __future__ import annotations

from prefect import flow

from promostack.promo import PromoRequest, PromoResult, PromoSteps, make_promo
from promostack.runtime import current_runtime
from tasks.coupons import check_coupon_and_load_template
from tasks.render import record_generation_task, store_render_task

TASK_STEPS = PromoSteps(
    fetch_inputs=check_coupon_and_load_template,
    store_render=store_render_task,
    record_generation=record_generation_task,
)


@flow(name="render-promo", persist_result=False)
async def render_promo(request: PromoRequest) -> PromoResult:
    """The promo image `request` asks for (user errors are raised unchanged, never retried)."""
    return await make_promo(current_runtime(), request, TASK_STEPS)
