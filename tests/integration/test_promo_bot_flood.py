"""The bots' rate limiter: Telegram's flood wait holds every request for the full retry_after."""

from __future__ import annotations

import asyncio

import pytest
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bots.flood_control import FloodControl
from tests.fakes.bot_api import FakeBotApi

TOKEN = "700300:flood-test-token"


async def test_a_finishing_request_does_not_cut_the_flood_wait_short(bot_api: FakeBotApi) -> None:
    limiter = FloodControl(max_retries=2)
    bot = ExtBot(TOKEN, base_url=bot_api.base_url, rate_limiter=limiter)
    async with bot:
        release = bot_api.hold("sendChatAction")
        in_flight = asyncio.create_task(bot.send_chat_action(-1001, "typing"))
        await asyncio.to_thread(bot_api.wait_until_held, "sendChatAction")

        bot_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        first = asyncio.create_task(bot.send_message(-1002, "first"))
        [flood] = await bot_api.wait_for_async("sendMessage", ok_only=False)
        await asyncio.wait_for(limiter.flooded.wait(), 5)  # the bot has read the 429
        second = asyncio.create_task(bot.send_message(-1003, "second"))
        # The request that was already in flight finishes during the wait...
        release.set()
        await in_flight
        await asyncio.gather(first, second)

    sent = bot_api.calls_of("sendMessage")
    assert flood.status == 429 and sorted(c.params["text"] for c in sent) == ["first", "second"]
    # ...yet nothing went out before Telegram's retry_after had passed.
    assert all(c.at - flood.at >= 1.0 for c in sent)
    assert limiter.floods == 1 and limiter.paused_for == 0


async def test_flood_waits_are_retried_only_up_to_the_limit(bot_api: FakeBotApi) -> None:
    bot = ExtBot(TOKEN, base_url=bot_api.base_url, rate_limiter=FloodControl(max_retries=1))
    bot_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, times=2)
    async with bot:
        with pytest.raises(RetryAfter):
            await bot.send_message(-1004, "never")
    assert [c.status for c in bot_api.calls_of("sendMessage", ok_only=False)] == [429, 429]
