"""Telegram webhooks: `POST /telegram/<bot id>/webhook`, one route shape for every bot.

The route does one thing: check the secret, turn the body into an `Update`, store it in the update
store (`bots.update_store`), start its handlers in the background and answer 200 (the handlers run
after the response, concurrently). It never waits for a handler, so Telegram's delivery is never
held up by a render, and an update answered 200 is in the database: a process that dies before
running it leaves it to the next sweep of any web process.

- unknown bot id (or a bot that is off) → 404;
- missing or wrong `X-Telegram-Bot-Api-Secret-Token` → 403, nothing processed;
- a body that is not JSON, not an object with an integer `update_id`, or too big → 400/413;
- an update this bot has already taken (Telegram re-delivers when an answer is slow or lost) →
  200 and nothing else: each (bot, `update_id`) is stored once, across every web instance (the
  store's unique key), so a re-delivered `/promo` never makes a second photo;
- the bot could not reach Telegram to start, or the update could not be stored → 503
  (Telegram re-delivers later).

Errors answer in the app's one dialect (`webapp.errors`).
"""

from __future__ import annotations

import hmac
import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import Update

from bots.lifecycle import BotUnavailable, LiveBot
from bots.update_store import accept
from webapp.bodies import read_json_object
from webapp.context import runtime
from webapp.errors import MalformedBody, WebError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Updates are a few kilobytes; a megabyte is far beyond any real one.
MAX_UPDATE_BYTES = 1024 * 1024


async def webhook(request: Request) -> Response:
    """200 once the update is queued for the bot (or was already taken); 4xx/503 as the module docstring lists."""
    bots: dict[str, LiveBot] = getattr(request.app.state, "bots", {})
    bot = bots.get(request.path_params["bot_id"])
    if bot is None:
        raise WebError(404, "There is no such bot.")
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, bot.secret):
        raise WebError(403, "The secret token is wrong or missing.")
    data = await read_json_object(request, MAX_UPDATE_BYTES)
    if type(data.get("update_id")) is not int:
        raise MalformedBody("The body is not a Telegram update (an object with an integer update_id).")
    try:
        application = await bot.ready()
    except BotUnavailable as exc:
        log.warning("webhook for %s refused: %s", bot.entry.id, exc)
        raise WebError(503, "The bot is starting; retry later.") from exc
    try:
        update = Update.de_json(data, application.bot)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedBody(f"The body is not a Telegram update ({type(exc).__name__}).") from exc
    # Stored before the 200 (a process dying after answering loses nothing); the stored key is
    # also what turns a re-delivery away.
    if not await accept(runtime(request), bot, update, data):
        log.info("bot %s: update %s delivered again; already taken", bot.entry.id, update.update_id)
    return Response(status_code=200)


def routes() -> list[BaseRoute]:
    """The Telegram webhook route."""
    return [Route("/telegram/{bot_id}/webhook", webhook, methods=["POST"], name="telegram_webhook")]
