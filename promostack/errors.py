"""The kinds of failure a caller must tell apart, shared by every part of the domain."""


class PromoStackError(Exception):
    """Base of every error PromoStack raises on purpose."""


class InvalidInput(PromoStackError):
    """The caller's input is wrong: retrying will not help, the message says what to fix."""


class NotFound(PromoStackError):
    """The thing asked for does not exist."""


class DependencyError(PromoStackError):
    """A service we depend on failed or is unreachable: safe to retry later."""


class RateLimited(PromoStackError):
    """The caller has asked too often: try again after `retry_after_s` seconds."""

    def __init__(self, retry_after_s: float, message: str | None = None) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message or f"Too many requests; try again in {max(1, round(retry_after_s))} s.")


class DeliveryUnknown(DependencyError):
    """An effect was sent but its answer was lost (a time-out): it may or may not have happened."""
