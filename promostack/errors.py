"""The kinds of failure a caller must tell apart, shared by every part of the domain."""


class PromoStackError(Exception):
    """Base of every error PromoStack raises on purpose."""


class InvalidInput(PromoStackError):
    """The caller's input is wrong: retrying will not help, the message says what to fix."""


class NotFound(PromoStackError):
    """The thing asked for does not exist."""


class DependencyError(PromoStackError):
    """A service we depend on failed or is unreachable: safe to retry later."""
