"""The forex signals bot: posts to the channel (filled in by the forex signals feature)."""

from __future__ import annotations

from telegram.ext import Application


def register_handlers(application: Application) -> None:
    """Add the forex bot's command handlers to `application`."""
