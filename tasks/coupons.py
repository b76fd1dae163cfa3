"""Prefect tasks around coupon validation."""

from __future__ import annotations

import asyncio

from prefect import task
from prefect.cache_policies import NO_CACHE

from promostack.coupons import CouponCheck
from promostack.promo import services_for
from promostack.runtime import current_runtime
from tasks.render import retry_on_dependency_error


@task(
    name="check-coupon",
    retries=2,
    retry_delay_seconds=[0.5, 1.5],
    retry_condition_fn=retry_on_dependency_error,
    cache_policy=NO_CACHE,
    persist_result=False,
)
async def check_coupon(code: str) -> CouponCheck:
    """The validator's verdict on `code` (an invalid code is an answer, not a failure)."""
    validator = services_for(current_runtime()).validator
    return await asyncio.to_thread(validator.validate, code)
