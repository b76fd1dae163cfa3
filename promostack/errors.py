"""The kinds of failure a caller must tell apart, shared by every part of the domain.

Every error carries what an edge needs to answer it, so no edge keeps its own table:

- `kind`: a stable machine name (`invalid_coupon`), by default the class name in snake case;
- `status`: the HTTP status the web answers with (a subclass inherits its family's);
- `field`: the input it is about, when there is one;
- `user_message`: the sentence shown to the person who caused it (by default the message; a class
  whose message says more than a stranger may know overrides it, see `InvalidCoupon`).
"""

from __future__ import annotations

import re
from typing import ClassVar

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake_case(name: str) -> str:
    """`InvalidCoupon` → `invalid_coupon`."""
    return _CAMEL.sub("_", name).lower()


class PromoStackError(Exception):
    """Base of every error PromoStack raises on purpose."""

    kind: ClassVar[str] = "error"
    status: ClassVar[int] = 500
    field: str | None = None

    def __init__(self, *args: object, field: str | None = None) -> None:
        super().__init__(*args)
        if field is not None:
            self.field = field

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        # A class that does not name its kind is known by its own name, so callers can branch on it.
        if "kind" not in cls.__dict__:
            cls.kind = snake_case(cls.__name__)

    @property
    def user_message(self) -> str:
        """The sentence for the person who caused the error (the message, unless a class says less)."""
        return str(self)


class InvalidInput(PromoStackError):
    """The caller's input is wrong: retrying will not help, the message says what to fix."""

    status = 422


class NotFound(PromoStackError):
    """The thing asked for does not exist."""

    status = 404


class DependencyError(PromoStackError):
    """A service we depend on failed or is unreachable: safe to retry later."""

    kind = "dependency_unavailable"
    status = 503


class RateLimited(PromoStackError):
    """The caller has asked too often: try again after `retry_after_s` seconds."""

    status = 429

    def __init__(self, retry_after_s: float, message: str | None = None) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message or f"Too many requests; try again in {max(1, round(retry_after_s))} s.")


class DeliveryUnknown(DependencyError):
    """An effect was sent but its answer was lost (a time-out): it may or may not have happened."""
