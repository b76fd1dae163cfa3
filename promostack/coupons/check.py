"""What every coupon validator answers, and the errors a promo request can meet."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from promostack.errors import DependencyError, InvalidInput

# Codes are what people type into a checkout: letters, digits, '-' and '_', after trimming and
# upper-casing. Anything else can never be a valid code, so it is refused before any lookup.
CODE_RE = re.compile(r"\A[A-Z0-9][A-Z0-9_-]{0,63}\Z")


@dataclass(frozen=True)
class CouponCheck:
    """The verdict on one code: `reason` is a sentence a user can read; `discount` is a percent."""

    valid: bool
    code: str
    reason: str
    discount: float | None = None

    def public(self) -> CouponCheck:
        """The verdict as a stranger may see it: an invalid code is just invalid, never "unknown" as
        opposed to "expired" or "used up" (that would tell which codes exist). Malformed codes keep
        their reason: it is about the typing, not about our list."""
        if self.valid or malformed(self.code) is not None:
            return self
        return CouponCheck(False, self.code, not_valid_sentence(self.code))


class CouponValidator(Protocol):
    """Anything that can judge a code (the local registry, the FunderPro client)."""

    def validate(self, code: str) -> CouponCheck:
        """The verdict on `code`; `CouponServiceUnavailable` when the answer cannot be had."""
        ...


class InvalidCoupon(InvalidInput):
    """A promo was asked for a code that is not valid; the message is the validator's reason (kept
    for the admin's records), the user's sentence is the same for every invalid code."""

    field = "code"

    def __init__(self, check: CouponCheck) -> None:
        super().__init__(check.reason)
        self.check = check

    @property
    def user_message(self) -> str:
        """The sentence an anonymous caller gets (see `CouponCheck.public`)."""
        return self.check.public().reason


class CouponServiceUnavailable(DependencyError):
    """The coupon service could not answer (down, slow, or talking nonsense): retry later."""

    kind = "coupon_service_unavailable"

    @property
    def user_message(self) -> str:
        """The outage sentence (the cause goes to the log, not to the caller)."""
        return "Coupon validation is unavailable right now; please try again in a minute."


def not_valid_sentence(code: str) -> str:
    """What every caller hears about an invalid code, whatever made it invalid."""
    return f"{code} is not a valid coupon code."


def normalise_code(code: str) -> str:
    """`code` trimmed and upper-cased, the form every validator stores and compares."""
    return code.strip().upper()


def malformed(code: str) -> CouponCheck | None:
    """A refusal when the normalised `code` cannot be a coupon code, else None."""
    if not code:
        return CouponCheck(False, code, "Please give a coupon code.")
    if not CODE_RE.match(code):
        return CouponCheck(
            False, code[:64], "A coupon code is up to 64 letters, digits, '-' or '_' (like WELCOME10)."
        )
    return None
