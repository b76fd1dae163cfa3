"""Building a bot's python-telegram-bot `Application`, in one function read top to bottom.

Each Application gets its own `FloodControl` rate limiter (bots/flood_control.py), so one bot's
flood wait never stalls another, and carries the process `Runtime` in `bot_data["runtime"]`, where
its handlers find the database, the store and the cached template store. Webhook mode (the web
app) has no `Updater`: the web route puts updates on `application.update_queue` and returns at
once; polling mode (`promostack bot poll`) keeps one.
"""

from __future__ import annotations

from telegram.ext import Application

from bots.flood_control import FloodControl
from bots.registry import BotEntry
from promostack.runtime import Runtime


def build_application(runtime: Runtime, bot: BotEntry, *, polling: bool = False) -> Application:
    """A fresh, not yet initialised Application for `bot` on `runtime`, with its handlers added."""
    settings = runtime.settings
    if bot.token is None:
        raise ValueError(f"bot {bot.id!r} has no token")
    api = settings.telegram_api_base.rstrip("/")
    builder = (
        Application.builder()
        .token(bot.token.get_secret_value())
        .base_url(api + "/bot")
        .base_file_url(api + "/file/bot")
        .rate_limiter(FloodControl())
        .concurrent_updates(settings.telegram_concurrent_updates)
    )
    if not polling:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data["bot_id"] = bot.id
    application.bot_data["settings"] = settings
    application.bot_data["runtime"] = runtime
    bot.register_handlers(application)
    return application
