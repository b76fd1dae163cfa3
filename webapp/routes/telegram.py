"""Routes: telegram (filled in by its feature)."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """The telegram routes."""
    return []
