"""Middleware: sessions, CSRF, security headers (filled in by the admin dashboard feature)."""

from __future__ import annotations

from starlette.middleware import Middleware

from promostack.config import Settings


def middleware(settings: Settings) -> list[Middleware]:
    """The middleware stack, outermost first."""
    return []
