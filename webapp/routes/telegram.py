"""Telegram webhooks: `POST /telegram/<bot id>/webhook`, one route shape for every bot.

The route does one thing: check the secret, turn the body into an `Update`, put it on the bot's
update queue, and answer 200 at once (the handlers run after the response, concurrently). It never
waits for a handler, so Telegram's delivery is never held up by a render.

- unknown bot id (or a bot that is off) → 404;
- missing or wrong `X-Telegram-Bot-Api-Secret-Token` → 403, nothing processed;
- a body that is not JSON, not an object with an integer `update_id`, or too big → 400/413;
- the bot could not reach Telegram to start → 503 (Telegram re-delivers later).
"""

from __future__ import annotations

import hmac
import json
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import Update

from bots.lifecycle import BotUnavailable, LiveBot

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Updates are a few kilobytes; a megabyte is far beyond any real one.
MAX_UPDATE_BYTES = 1024 * 1024


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


async def webhook(request: Request) -> Response:
    """200 once the update is queued for the bot; 4xx/503 as the module docstring lists."""
    bots: dict[str, LiveBot] = getattr(request.app.state, "bots", {})
    bot = bots.get(request.path_params["bot_id"])
    if bot is None:
        return _error(404, "no such bot")
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, bot.secret):
        return _error(403, "wrong or missing secret token")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_UPDATE_BYTES:
        return _error(413, "update too large")
    # Read in chunks with a cap, so a body without a Content-Length cannot fill the memory.
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_UPDATE_BYTES:
            return _error(413, "update too large")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "the body is not JSON")
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return _error(400, "the body is not a Telegram update (an object with an integer update_id)")
    try:
        application = await bot.ready()
    except BotUnavailable as exc:
        log.warning("webhook for %s refused: %s", bot.entry.id, exc)
        return _error(503, "the bot is starting; retry later")
    try:
        update = Update.de_json(data, application.bot)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return _error(400, f"the body is not a Telegram update: {exc}")
    await application.update_queue.put(update)
    return Response(status_code=200)


def routes() -> list[BaseRoute]:
    """The Telegram webhook route."""
    return [Route("/telegram/{bot_id}/webhook", webhook, methods=["POST"], name="telegram_webhook")]
