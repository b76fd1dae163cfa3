"""The fake Bot API answers python-telegram-bot the way Telegram does, and records what it got."""

from __future__ import annotations

import asyncio
import io
import threading

import pytest
from PIL import Image
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, Forbidden, RetryAfter

from tests.fakes.bot_api import FakeBotApi, message_update

TOKEN = "123456:fake-token"


def _png(width: int = 64, height: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "orange").save(buffer, "PNG")
    return buffer.getvalue()


def _bot(api: FakeBotApi) -> Bot:
    return Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url)


async def test_get_me_names_the_bot_of_the_token(bot_api: FakeBotApi) -> None:
    async with _bot(bot_api) as bot:
        me = await bot.get_me()
    assert me.id == 123456 and me.is_bot


async def test_send_photo_keeps_the_uploaded_bytes_and_answers_with_its_size(bot_api: FakeBotApi) -> None:
    image = _png(64, 32)
    async with _bot(bot_api) as bot:
        message = await bot.send_photo(chat_id=42, photo=image, caption="SAVE10 on Spring")
    [call] = bot_api.wait_for("sendPhoto")
    assert call.files["photo"] == image and call.params["chat_id"] == 42
    assert call.params["caption"] == "SAVE10 on Spring"
    assert (message.photo[-1].width, message.photo[-1].height) == (64, 32)
    assert message.caption == "SAVE10 on Spring" and message.chat.id == 42


async def test_send_message_records_keyboard_and_reply_and_ids_increase(bot_api: FakeBotApi) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Spring", callback_data="t:SAVE10:spring")]])
    async with _bot(bot_api) as bot:
        first = await bot.send_message(
            42, "pick one", reply_markup=keyboard, reply_parameters=ReplyParameters(7)
        )
        second = await bot.send_message(42, "123")
    calls = bot_api.calls_of("sendMessage")
    assert calls[0].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "t:SAVE10:spring"
    assert calls[0].params["reply_parameters"]["message_id"] == 7
    assert calls[1].params["text"] == "123"  # free text is never JSON-decoded
    assert second.message_id > first.message_id
    assert first.reply_markup == keyboard and first.reply_to_message.message_id == 7


async def test_injected_429_carries_retry_after_for_the_next_calls_only(bot_api: FakeBotApi) -> None:
    bot_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3, times=2)
    async with _bot(bot_api) as bot:
        for _ in range(2):
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(42, "hi")
            assert caught.value.retry_after == 3
        await bot.send_message(42, "hi")
    assert [c.status for c in bot_api.calls_of("sendMessage", ok_only=False)] == [429, 429, 200]


async def test_blocked_and_unknown_chats_get_telegrams_errors(bot_api: FakeBotApi) -> None:
    bot_api.block_chat(42)
    bot_api.forget_chat(43)
    async with _bot(bot_api) as bot:
        with pytest.raises(Forbidden, match="blocked by the user"):
            await bot.send_photo(42, _png())
        with pytest.raises(BadRequest, match="[Cc]hat not found"):
            await bot.send_message(43, "hi")
        bot_api.unblock_chat(42)
        await bot.send_message(42, "welcome back")
    assert bot_api.calls_of("sendMessage")[0].params["chat_id"] == 42


async def test_get_updates_long_polls_until_an_update_is_queued(bot_api: FakeBotApi) -> None:
    async with _bot(bot_api) as bot:
        poll = asyncio.create_task(bot.get_updates(offset=0, timeout=10))
        await asyncio.to_thread(bot_api.wait_until_polling)
        queued = bot_api.queue_update(message_update("/start"))
        [update] = await asyncio.wait_for(poll, 5)
        assert update.update_id == queued["update_id"] and update.message.text == "/start"
        # Confirming with a higher offset drops it; an empty poll returns empty.
        assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()


async def test_webhook_registration_is_remembered_with_its_secret(bot_api: FakeBotApi) -> None:
    async with _bot(bot_api) as bot:
        await bot.set_webhook("https://example.test/telegram/promo/webhook", secret_token="s3cret")
        assert (await bot.get_webhook_info()).url == "https://example.test/telegram/promo/webhook"
        assert bot_api.webhook(TOKEN)["secret_token"] == "s3cret"
        await bot.delete_webhook()
    assert bot_api.webhook(TOKEN) is None


def test_wait_for_wakes_on_arrival_and_times_out_naming_what_arrived(bot_api: FakeBotApi) -> None:
    def send_later() -> None:
        asyncio.run(_send_one(bot_api))

    thread = threading.Thread(target=send_later)
    thread.start()
    [call] = bot_api.wait_for("sendMessage", timeout=10)
    thread.join()
    assert call.params["text"] == "late"
    with pytest.raises(TimeoutError, match="sendMessage:200"):
        bot_api.wait_for("sendPhoto", timeout=0.2)


async def _send_one(api: FakeBotApi) -> None:
    async with _bot(api) as bot:
        await bot.send_message(42, "late")
