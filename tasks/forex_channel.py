"""The forex channel: posts signals, closing replies and recaps to the Telegram channel.

It lives with the tasks that call it (tasks may use third-party clients; `bots/` holds the
Applications and their command handlers, and tasks never import `bots`).

Sending is where duplicates are born, so every send ends in one of three plain outcomes the
caller records (see `promostack.signals.records`):

* it arrived: Telegram answered with the message (its id is kept);
* `PostNotSent` (a `DependencyError`, retried): Telegram answered with an error such as 429 or
  5xx, or the connection was never made — the message certainly did not go out;
* `PostMaybeSent`: the request left but no answer came (a read time-out, a dropped
  connection) — it may be in the channel, so it is never sent again automatically.
A 400/401/403 (`ChannelRejected`, an `InvalidInput`) is a configuration problem (wrong channel,
bot not admin, bad token): retrying cannot help.
"""

from __future__ import annotations

import httpx
from telegram import LinkPreviewOptions, ReplyParameters
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from promostack.config import Settings
from promostack.errors import DependencyError, InvalidInput, PromoStackError
from promostack.signals.messages import PARSE_MODE


class PostNotSent(DependencyError):
    """Telegram certainly did not post the message; sending it again is safe."""


class PostMaybeSent(PromoStackError):
    """The message may or may not be in the channel; it must not be sent again automatically."""


class ChannelRejected(InvalidInput):
    """Telegram refused the post (bad channel, token or rights): fix the configuration."""


class ChannelNotConfigured(InvalidInput):
    """The forex bot's token or channel id is missing."""


def classify_send_error(exc: TelegramError) -> PromoStackError:
    """The outcome a failed send stands for: not sent (retry), maybe sent, or rejected."""
    cause = exc.__cause__
    if isinstance(exc, RetryAfter):
        return PostNotSent(f"Telegram flood control: retry after {exc.retry_after}")
    if isinstance(exc, (BadRequest, Forbidden, InvalidToken, ChatMigrated)):
        return ChannelRejected(f"Telegram refused the post: {exc.message}")
    if isinstance(exc, TimedOut):
        # A connect or pool time-out happens before a byte is sent; any later one is ambiguous.
        if isinstance(cause, (httpx.ConnectTimeout, httpx.PoolTimeout)):
            return PostNotSent(f"Telegram unreachable: {type(cause).__name__}")
        return PostMaybeSent("Telegram did not answer in time; the post may have arrived")
    if isinstance(exc, NetworkError):
        if cause is None or not isinstance(cause, httpx.HTTPError):
            # Telegram answered with an error status (5xx, 502): it did not post.
            return PostNotSent(f"Telegram error: {exc.message}")
        if isinstance(cause, httpx.ConnectError):
            return PostNotSent(f"Telegram unreachable: {exc.message}")
        return PostMaybeSent(
            f"connection to Telegram broke mid-request ({exc.message}); the post may have arrived"
        )
    return PostMaybeSent(f"unexpected Telegram error {type(exc).__name__}: {exc}")


class ForexChannel:
    """The forex bot speaking in its channel. Use `async with ForexChannel(settings) as channel:`."""

    def __init__(self, settings: Settings, read_timeout_s: float = 15.0) -> None:
        if settings.forex_bot_token is None or not settings.forex_channel_id:
            raise ChannelNotConfigured("set FOREX_BOT_TOKEN and FOREX_CHANNEL_ID to post signals")
        channel = settings.forex_channel_id
        self.chat_id: int | str = int(channel) if channel.lstrip("-").isdigit() else channel
        self.bot = ExtBot(
            settings.forex_bot_token.get_secret_value(),
            base_url=settings.telegram_api_base.rstrip("/") + "/bot",
            request=HTTPXRequest(
                connect_timeout=5.0, read_timeout=read_timeout_s, write_timeout=read_timeout_s
            ),
            # Telegram's 429 answers name a wait; the limiter waits it out once before giving up.
            rate_limiter=AIORateLimiter(max_retries=1),
        )

    async def __aenter__(self) -> ForexChannel:
        try:
            await self.bot.initialize()
        except TelegramError as exc:
            raise classify_send_error(exc) from exc
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bot.shutdown()

    async def send_text(self, text: str, reply_to: int | None = None) -> int:
        """The message id of `text` posted to the channel (as a reply to `reply_to`, if given)."""
        try:
            message = await self.bot.send_message(
                self.chat_id,
                text,
                parse_mode=PARSE_MODE,
                # If the original post was deleted, the reply still goes out on its own.
                reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)
                if reply_to
                else None,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except TelegramError as exc:
            raise classify_send_error(exc) from exc
        return message.message_id

    async def send_photo(self, png: bytes, caption: str) -> int:
        """The message id of the photo `png` posted with `caption`."""
        try:
            message = await self.bot.send_photo(self.chat_id, png, caption=caption, parse_mode=PARSE_MODE)
        except TelegramError as exc:
            raise classify_send_error(exc) from exc
        return message.message_id
