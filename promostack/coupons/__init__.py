"""Coupon validation: the local registry, the FunderPro client, and how to choose between them."""

from promostack.coupons.check import (
    CouponCheck,
    CouponServiceUnavailable,
    CouponValidator,
    InvalidCoupon,
    normalise_code,
)
from promostack.coupons.factory import build_validator
from promostack.coupons.funderpro import FunderProClient
from promostack.coupons.registry import CouponExists, CouponInfo, CouponNotFound, LocalRegistry

__all__ = [
    "CouponCheck",
    "CouponExists",
    "CouponInfo",
    "CouponNotFound",
    "CouponServiceUnavailable",
    "CouponValidator",
    "FunderProClient",
    "InvalidCoupon",
    "LocalRegistry",
    "build_validator",
    "normalise_code",
]
