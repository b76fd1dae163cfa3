"""Prefect tasks around coupon validation."""

from __future__ import annotations

import asyncio

from prefect import task

from promostack.coupons import CouponCheck
from promostack.promo import services_for
from promostack.runtime import current_runtime
from tasks.render import RETRY_DEPENDENCY_ERRORS


@task(name="check-coupon", **RETRY_DEPENDENCY_ERRORS)
async def check_coupon(code: str) -> CouponCheck:
    """The validator's verdict on `code` (an invalid code is an answer, not a failure)."""
    validator = services_for(current_runtime()).validator
    return await asyncio.to_thread(validator.validate, code)
