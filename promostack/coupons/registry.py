"""The local coupon registry: codes kept in the database, the embedded default validator.

A code is valid when it exists, is active, has not expired, and has been used fewer than
`max_uses` times (no limit when `max_uses` is empty). Codes are stored normalised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from promostack.coupons.check import CouponCheck, CouponServiceUnavailable, malformed, normalise_code
from promostack.db import Coupon, session_scope
from promostack.errors import InvalidInput, NotFound


class CouponExists(InvalidInput):
    """The registry already has that code."""

    status = 409
    field = "code"


class CouponNotFound(NotFound):
    """The registry has no such code."""


@dataclass(frozen=True)
class CouponInfo:
    """One registry entry, as listed."""

    code: str
    active: bool
    description: str | None
    discount: float | None
    expires_at: datetime | None
    max_uses: int | None
    usage_count: int


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything we store is UTC.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def _info(row: Coupon) -> CouponInfo:
    return CouponInfo(
        code=row.code,
        active=row.active,
        description=row.description,
        discount=row.discount_percent,
        expires_at=_utc(row.expires_at),
        max_uses=row.max_uses,
        usage_count=row.usage_count,
    )


def judge(info: CouponInfo | None, code: str, now: datetime) -> CouponCheck:
    """The verdict on `code` given its registry entry (None when absent) at time `now`."""
    if info is None:
        return CouponCheck(False, code, f"{code} is not a known coupon code.")
    if not info.active:
        return CouponCheck(False, code, f"{code} is no longer active.")
    if info.expires_at is not None and info.expires_at <= now:
        return CouponCheck(False, code, f"{code} expired on {info.expires_at:%Y-%m-%d}.")
    if info.max_uses is not None and info.usage_count >= info.max_uses:
        return CouponCheck(False, code, f"{code} has been used up.")
    return CouponCheck(True, code, f"{code} is valid.", info.discount)


class LocalRegistry:
    """The coupon table as a validator, plus the operations admins need."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def validate(self, code: str) -> CouponCheck:
        """The verdict on `code`; `CouponServiceUnavailable` when the database fails."""
        code = normalise_code(code)
        refusal = malformed(code)
        if refusal:
            return refusal
        try:
            with self.sessions() as session:
                row = session.get(Coupon, code)
                info = _info(row) if row else None
        except SQLAlchemyError as exc:
            raise CouponServiceUnavailable(f"coupon registry unavailable: {exc.__class__.__name__}") from exc
        return judge(info, code, datetime.now(timezone.utc))

    def add(
        self,
        code: str,
        *,
        discount: float | None = None,
        description: str | None = None,
        expires_at: datetime | None = None,
        max_uses: int | None = None,
    ) -> CouponInfo:
        """The new registry entry for `code`; `CouponExists` when it is already there."""
        code = normalise_code(code)
        refusal = malformed(code)
        if refusal:
            raise InvalidInput(refusal.reason)
        if discount is not None and not 0 < discount <= 100:
            raise InvalidInput(f"discount must be a percentage above 0 and at most 100, got {discount}")
        if max_uses is not None and max_uses < 1:
            raise InvalidInput(f"max_uses must be at least 1, got {max_uses}")
        if expires_at is not None and expires_at.tzinfo is None:
            raise InvalidInput("expires_at needs a timezone (UTC)")
        row = Coupon(
            code=code,
            active=True,
            description=description,
            discount_percent=discount,
            expires_at=expires_at.astimezone(timezone.utc) if expires_at else None,
            max_uses=max_uses,
            usage_count=0,
        )
        try:
            with session_scope(self.sessions) as session:
                session.add(row)
                session.flush()
                return _info(row)
        except IntegrityError:
            raise CouponExists(f"coupon {code} already exists") from None

    def deactivate(self, code: str) -> CouponInfo:
        """The entry of `code` after switching it off; `CouponNotFound` when absent."""
        return self.set_active(code, False)

    def reactivate(self, code: str) -> CouponInfo:
        """The entry of `code` after switching it back on (its uses and expiry unchanged)."""
        return self.set_active(code, True)

    def set_active(self, code: str, active: bool) -> CouponInfo:
        """The entry of `code` after switching it on or off; `CouponNotFound` when absent."""
        code = normalise_code(code)
        with session_scope(self.sessions) as session:
            row = session.get(Coupon, code)
            if row is None:
                raise CouponNotFound(f"no coupon {code}")
            row.active = active
            return _info(row)

    def list(self) -> list[CouponInfo]:
        """Every registry entry, by code."""
        with self.sessions() as session:
            return [_info(row) for row in session.scalars(select(Coupon).order_by(Coupon.code))]

    def record_use(self, code: str) -> bool:
        """True when one use of `code` was counted; False when it is not valid (nothing changes).

        The increment is one conditional UPDATE, so two concurrent uses of the last
        remaining slot cannot both succeed.
        """
        code = normalise_code(code)
        if not self.validate(code).valid:
            return False
        with session_scope(self.sessions) as session:
            result = session.execute(
                update(Coupon)
                .where(
                    Coupon.code == code,
                    Coupon.active.is_(True),
                    (Coupon.max_uses.is_(None)) | (Coupon.usage_count < Coupon.max_uses),
                )
                .values(usage_count=Coupon.usage_count + 1)
            )
            return result.rowcount == 1
