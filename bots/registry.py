"""The bots PromoStack runs: their ids, tokens, webhook paths and secrets, and their handlers.

A bot is routed by its id (`/telegram/<id>/webhook`), never by its token, so a token never shows
up in URLs or access logs. A bot without a token is off.

Webhook secret: Telegram sends the `secret_token` given to `setWebhook` back in the
`X-Telegram-Bot-Api-Secret-Token` header of every webhook call. Each bot gets its own secret,
HMAC-SHA256 of "promostack-webhook:<bot id>" keyed with `TELEGRAM_WEBHOOK_SECRET`, or — when that is
unset — keyed with the bot's own token. Either way it is stable across restarts and instances
(every web instance derives the same value), differs per bot, and reveals nothing about the key.
Rotating `TELEGRAM_WEBHOOK_SECRET` (or a token) needs a `promostack bot set-webhook` afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import SecretStr
from telegram.ext import Application

from promostack.config import Settings

RegisterHandlers = Callable[[Application], None]


@dataclass(frozen=True)
class BotEntry:
    """One bot: its id, its token (None when off) and the module whose `register_handlers` adds
    its handlers (imported when the bot is built, so listing bots stays light: the handlers pull
    in the flows and Prefect)."""

    id: str
    description: str
    token: SecretStr | None
    handlers_module: str

    def register_handlers(self, application: Application) -> None:
        """Nothing; adds the bot's handlers to `application`."""
        register: RegisterHandlers = importlib.import_module(self.handlers_module).register_handlers
        register(application)

    @property
    def enabled(self) -> bool:
        """True when the bot has a token, so it runs."""
        return self.token is not None and bool(self.token.get_secret_value())

    @property
    def webhook_path(self) -> str:
        """The web app's path Telegram posts this bot's updates to."""
        return webhook_path(self.id)


def webhook_path(bot_id: str) -> str:
    """The webhook path of bot `bot_id`: `/telegram/<id>/webhook`."""
    return f"/telegram/{bot_id}/webhook"


def all_bots(settings: Settings) -> list[BotEntry]:
    """Every bot PromoStack knows, on or off."""
    return [
        BotEntry("promo", "promo images: /promo CODE [TEMPLATE]", settings.bot_token("promo"), "bots.promo"),
        BotEntry("forex", "gold trading signals channel", settings.bot_token("forex"), "bots.forex"),
    ]


def enabled_bots(settings: Settings) -> list[BotEntry]:
    """The bots that have a token."""
    return [bot for bot in all_bots(settings) if bot.enabled]


def find_bot(settings: Settings, bot_id: str) -> BotEntry:
    """The bot `bot_id`; KeyError naming the known ids when there is none."""
    for bot in all_bots(settings):
        if bot.id == bot_id:
            return bot
    known = ", ".join(b.id for b in all_bots(settings))
    raise KeyError(f"no bot {bot_id!r}; the bots are {known}")


def webhook_secret(settings: Settings, bot: BotEntry) -> str:
    """The secret token of `bot`'s webhook (64 hex characters; see the module docstring)."""
    if settings.telegram_webhook_secret and settings.telegram_webhook_secret.get_secret_value():
        key = settings.telegram_webhook_secret.get_secret_value()
    elif bot.token is not None:
        key = bot.token.get_secret_value()
    else:
        raise ValueError(f"bot {bot.id!r} has no token, so it has no webhook")
    return hmac.new(key.encode(), f"promostack-webhook:{bot.id}".encode(), hashlib.sha256).hexdigest()
