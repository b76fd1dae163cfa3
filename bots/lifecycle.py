"""The bots' lives inside the web app: started with its lifespan, stopped with it.

Every bot with a token gets an Application (webhook mode: no Updater, never `run_webhook`), kept
on `app.state.bots` as a `LiveBot` the webhook route reaches by id. Starting a bot asks Telegram
who it is (`getMe`); if Telegram cannot be reached then, the web app still starts and the bot is
started on its next webhook call (until then the route answers 503 and Telegram re-delivers).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bots.application import build_application
from bots.background import drain_background
from bots.registry import BotEntry, enabled_bots, webhook_secret
from promostack.runtime import Runtime

log = logging.getLogger(__name__)


class BotUnavailable(Exception):
    """The bot could not be started (Telegram unreachable or the token refused)."""


class LiveBot:
    """One bot served by the web app: its Application (started on demand) and webhook secret."""

    def __init__(self, runtime: Runtime, entry: BotEntry) -> None:
        self.entry = entry
        self.secret = webhook_secret(runtime.settings, entry).encode()
        self.application: Application = build_application(runtime, entry)
        self._lock = asyncio.Lock()
        self._started = False

    @property
    def started(self) -> bool:
        """True once the Application is initialised and processing its update queue."""
        return self._started

    async def ready(self) -> Application:
        """The running Application, started now if it is not yet; BotUnavailable when it cannot be."""
        if self._started:
            return self.application
        async with self._lock:
            if not self._started:
                try:
                    await self.application.initialize()
                    await self.application.start()
                except (InvalidToken, TelegramError) as exc:
                    # initialize() may have half-run; shut it down so the next try starts clean.
                    await self._shutdown_quietly()
                    raise BotUnavailable(f"bot {self.entry.id!r} could not start: {exc}") from exc
                self._started = True
        return self.application

    async def stop(self) -> None:
        """Nothing; finishes the updates already queued, then releases the Application."""
        async with self._lock:
            if self._started:
                await self.application.stop()
                await drain_background(self.application)
                await self.application.shutdown()
                self._started = False

    async def _shutdown_quietly(self) -> None:
        try:
            await self.application.shutdown()
        except Exception:  # shutting down a half-initialised app: nothing more to release
            log.debug("shutdown of half-started bot %s failed", self.entry.id, exc_info=True)


@asynccontextmanager
async def running_bots(app: Starlette) -> AsyncIterator[None]:
    """A lifespan hook: starts every bot with a token, keeps them on `app.state.bots`, stops them."""
    runtime: Runtime = app.state.runtime
    bots = {entry.id: LiveBot(runtime, entry) for entry in enabled_bots(runtime.settings)}
    app.state.bots = bots
    for bot in bots.values():
        try:
            await bot.ready()
            log.info("bot %s started (webhook %s)", bot.entry.id, bot.entry.webhook_path)
        except BotUnavailable as exc:
            log.warning("%s; it will be retried on its next webhook call", exc)
    try:
        yield
    finally:
        for bot in bots.values():
            await bot.stop()
        app.state.bots = {}
