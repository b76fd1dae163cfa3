"""Prefect tasks around coupon validation: what a promo needs checked and loaded first."""

from __future__ import annotations

from prefect import task

from promostack.promo import PromoInputs, fetch_inputs, services_for
from promostack.runtime import current_runtime
from tasks.render import RETRY_DEPENDENCY_ERRORS


@task(name="check-coupon-and-load-template", **RETRY_DEPENDENCY_ERRORS)
async def check_coupon_and_load_template(code: str, slug: str) -> PromoInputs:
    """The valid coupon's verdict with the template and its image (`InvalidCoupon` is final)."""
    return await fetch_inputs(services_for(current_runtime()), code, slug)
