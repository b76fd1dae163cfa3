"""Flood control: the rate limiter every bot's Bot API calls go through.

Each Application gets its own `FloodControl`, so one bot's flood wait never stalls another.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

# A RetryAfter (429) guarantees Telegram did not act on the request, so it is the one error safe
# to retry. Never retry NetworkError wholesale: BadRequest and TimedOut are NetworkErrors too, and
# a timed-out sendPhoto may well have been delivered (a retry would double-send).
FLOOD_RETRIES = 3
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
