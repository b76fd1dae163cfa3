"""Choose the coupon validator from settings."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from promostack.config import Settings
from promostack.coupons.check import CouponValidator
from promostack.coupons.funderpro import FunderProClient
from promostack.coupons.registry import LocalRegistry
from promostack.errors import InvalidInput


def build_validator(settings: Settings, sessions: sessionmaker[Session]) -> CouponValidator:
    """FunderPro when `settings.coupon_backend` says so, else the local registry on `sessions`."""
    if settings.coupon_backend == "funderpro":
        if not settings.funderpro_product_id:
            raise InvalidInput("COUPON_VALIDATOR=funderpro needs FUNDERPRO_PRODUCT_ID")
        return FunderProClient(
            settings.funderpro_api_base,
            settings.funderpro_product_id,
            timeout_s=settings.funderpro_timeout_s,
            cache_ttl_s=settings.funderpro_cache_ttl_s,
        )
    return LocalRegistry(sessions)
