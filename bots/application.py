"""Building a bot's python-telegram-bot `Application`, in one function read top to bottom.

Each Application gets its own `FloodControl` rate limiter, so one bot's flood wait never stalls
another. Webhook mode (the web app) has no `Updater`: the web route puts updates on
`application.update_queue` and returns at once; polling mode (`promostack bot poll`) keeps one.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, Application

from bots.registry import BotEntry
from promostack.config import Settings

log = logging.getLogger(__name__)

# A RetryAfter (429) guarantees Telegram did not act on the request, so it is the one error safe
# to retry. Never retry NetworkError wholesale: BadRequest and TimedOut are NetworkErrors too, and
# a timed-out sendPhoto may well have been delivered (a retry would double-send).
FLOOD_RETRIES = 3
# Updates handled at once; a /promo spends most of its time waiting on the render and the Bot API.
CONCURRENT_UPDATES = 64
# Telegram asks for about one message per second per private chat; a short burst of 3 is let
# through so a reply plus a photo never wait, and sustained sending averages 1 per second.
PRIVATE_CHAT_RATE = (3, 3.0)


class FloodControl(AIORateLimiter):
    """`AIORateLimiter` that holds the whole bot still for Telegram's full `retry_after`.

    python-telegram-bot 22.8's limiter lifts its pause as soon as any other request finishes, so
    requests resume early and hit 429 again. Here the pause is a deadline: every request waits
    until it has passed. It also adds the per-private-chat limit the base class lacks.
    """

    def __init__(self, max_retries: int = FLOOD_RETRIES) -> None:
        # The base class retries nothing: retries happen below, under our deadline.
        super().__init__(max_retries=0)
        self.flood_retries = max_retries
        self.floods = 0  # how many times Telegram asked this bot to wait
        self.flooded = asyncio.Event()  # set once Telegram has asked this bot to wait
        self._resume_at = 0.0
        self._chat_limiters: dict[int, AsyncLimiter] = {}

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        """Telegram's answer to the request, sent within the limits and retried after a 429."""
        retries = self.flood_retries if rate_limit_args is None else rate_limit_args

        async def send(*call_args: Any, **call_kwargs: Any) -> Any:
            for attempt in itertools.count():
                await self._until_resumed()
                try:
                    return await callback(*call_args, **call_kwargs)
                except RetryAfter as exc:
                    if attempt >= retries:
                        raise
                    self._pause(exc.retry_after)

        limiter = self._private_chat_limiter(endpoint, data)
        if limiter is None:
            return await super().process_request(send, args, kwargs, endpoint, data, None)
        async with limiter:
            return await super().process_request(send, args, kwargs, endpoint, data, None)

    def _pause(self, retry_after: int | float | timedelta) -> None:
        seconds = retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)
        # Extend, never shorten: two 429s in a row keep the later deadline.
        self._resume_at = max(self._resume_at, time.monotonic() + seconds + 0.1)
        self.floods += 1
        self.flooded.set()

    @property
    def paused_for(self) -> float:
        """Seconds left before the bot may call Telegram again (0 when it may now)."""
        return max(0.0, self._resume_at - time.monotonic())

    async def _until_resumed(self) -> None:
        # A timed wait is the point here: Telegram said "not before this moment".
        while (delay := self._resume_at - time.monotonic()) > 0:
            await asyncio.sleep(delay)

    def _private_chat_limiter(self, endpoint: str, data: dict[str, Any]) -> AsyncLimiter | None:
        if not endpoint.startswith("send") or endpoint == "sendChatAction":
            return None
        try:
            chat_id = int(data.get("chat_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        if chat_id <= 0:  # groups and channels: the base class's group limiter applies
            return None
        if len(self._chat_limiters) > 4096:
            # Forget chats whose bucket is full again, so the dict stays bounded.
            self._chat_limiters = {
                k: v for k, v in self._chat_limiters.items() if not v.has_capacity(v.max_rate)
            }
        limiter = self._chat_limiters.get(chat_id)
        if limiter is None:
            limiter = self._chat_limiters[chat_id] = AsyncLimiter(*PRIVATE_CHAT_RATE)
        return limiter


BACKGROUND_KEY = "background_tasks"


def run_in_background(application: Application, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    """The task running `work` after the handler returns, awaited by `drain_background` at stop.

    `Application.create_task` forgets tasks created while the application is stopping (which is
    exactly when the last queued updates are handled), so the bots keep their own set.
    """
    tasks: set[asyncio.Task[Any]] = application.bot_data.setdefault(BACKGROUND_KEY, set())
    task = asyncio.get_running_loop().create_task(work)
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return task


async def drain_background(application: Application) -> None:
    """Nothing; returns once every `run_in_background` task has finished (errors are logged)."""
    tasks: set[asyncio.Task[Any]] = application.bot_data.get(BACKGROUND_KEY, set())
    while tasks:
        for result in await asyncio.gather(*list(tasks), return_exceptions=True):
            if isinstance(result, BaseException):
                log.error(
                    "background work of bot %s failed", application.bot_data.get("bot_id"), exc_info=result
                )


def build_application(settings: Settings, bot: BotEntry, *, polling: bool = False) -> Application:
    """A fresh, not yet initialised Application for `bot`, with its handlers added."""
    if bot.token is None:
        raise ValueError(f"bot {bot.id!r} has no token")
    api = settings.telegram_api_base.rstrip("/")
    builder = (
        Application.builder()
        .token(bot.token.get_secret_value())
        .base_url(api + "/bot")
        .base_file_url(api + "/file/bot")
        .rate_limiter(FloodControl())
        .concurrent_updates(CONCURRENT_UPDATES)
    )
    if not polling:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data["bot_id"] = bot.id
    application.bot_data["settings"] = settings
    bot.register_handlers(application)
    return application
