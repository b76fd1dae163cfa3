"""Sending a broadcast: the Telegram client, how its errors are read, and the paced send loop.

Every send ends in one row state (see `promostack.broadcasts.states`):

* `sent` with Telegram's message id;
* `blocked`: a 403 "bot was blocked by the user" / "user is deactivated" — the user is marked
  blocked in the audience, so later broadcasts skip them;
* `failed` with the reason: any other 400/403 (Telegram will refuse it again), or a 5xx /
  refused connection still failing after `RETRY_DELAYS_S`;
* `unknown`: the request left and no answer came (a read time-out, a connection cut mid-request):
  the message may have arrived, so it is never sent again automatically (an admin may re-queue).

A 429 holds the whole run until Telegram's `retry_after` has passed, then the same row is sent
again (a 429 guarantees Telegram did nothing). The pace is the shared limiter's one-second window
per bot token (`promostack.limits.acquire`), so every process sending with the token shares it.

Tasks never import `bots/`: the client here is a plain `telegram.Bot` without a rate limiter,
because the pacing above is the limiter.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import Bot, Chat, ChatMemberAdministrator, ChatMemberOwner, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from promostack import audience
from promostack.broadcasts import control, recipients, states
from promostack.broadcasts.pacing import RETRY_DELAYS_S, Pace, means_blocked, pace_key
from promostack.broadcasts.recipients import Checkpoint, Outcome, Recipient
from promostack.errors import DependencyError, InvalidInput
from promostack.limits import RateLimiter, acquire
from promostack.runtime import Runtime
from tasks.forex_channel import ChannelRejected, PostMaybeSent, PostNotSent, classify_send_error

log = logging.getLogger(__name__)

MAX_FLOOD_WAITS = 20  # 429s one row may meet before it is failed (Telegram would be banning us)


class BotNotConfigured(InvalidInput):
    """The broadcast's bot has no token, so nothing can be sent with it."""


def bot_token(runtime: Runtime, bot_id: str) -> str:
    """The token of bot `bot_id` (the ids of `bots.registry`); `BotNotConfigured` without one."""
    token = runtime.settings.bot_token(bot_id)
    if token is None:
        raise BotNotConfigured(f"bot {bot_id!r} has no token; set it before broadcasting with it", field="bot")
    return token.get_secret_value()


@dataclass
class Content:
    """What every recipient gets: the HTML text (a caption under a photo), the photo as bytes
    until Telegram gave its file id, URL buttons, and whether it goes on the paid lane."""

    text: str
    buttons: list[dict[str, str]]
    paid: bool = False
    photo: bytes | None = None
    photo_file_id: str | None = None

    @property
    def needs_upload(self) -> bool:
        """True while the photo's bytes have not reached Telegram yet."""
        return self.photo is not None and self.photo_file_id is None

    def markup(self) -> InlineKeyboardMarkup | None:
        """The URL buttons, one per row."""
        if not self.buttons:
            return None
        return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], url=b["url"])] for b in self.buttons])


@dataclass(frozen=True)
class ErrorReading:
    """What a failed request means: `wait` (429), `blocked`, `retry`, `failed` or `unknown`."""

    kind: str
    reason: str
    retry_after_s: float = 0.0


def read_error(exc: TelegramError) -> ErrorReading:
    """What Telegram's error `exc` means for the row it was sent for."""
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after
        return ErrorReading("wait", f"flood control: retry after {wait}", float(getattr(wait, "total_seconds", lambda: wait)()))
    if isinstance(exc, Forbidden) and means_blocked(403, exc.message):
        return ErrorReading("blocked", exc.message)
    outcome = classify_send_error(exc)
    if isinstance(outcome, PostNotSent):
        return ErrorReading("retry", str(outcome))
    if isinstance(outcome, ChannelRejected):
        return ErrorReading("failed", exc.message)
    assert isinstance(outcome, PostMaybeSent)
    return ErrorReading("unknown", str(outcome))


class TelegramSender:
    """A bot's Bot API client for bulk sends. Use `async with TelegramSender(...) as sender:`."""

    def __init__(self, token: str, api_base: str, *, pool: int = 32, read_timeout_s: float = 10.0) -> None:
        request = HTTPXRequest(
            connection_pool_size=pool, connect_timeout=5.0, read_timeout=read_timeout_s,
            write_timeout=read_timeout_s, pool_timeout=read_timeout_s, media_write_timeout=30.0,
        )
        self.bot = Bot(token, base_url=api_base.rstrip("/") + "/bot", request=request)

    async def __aenter__(self) -> TelegramSender:
        try:
            await self.bot.initialize()
        except TelegramError as exc:
            raise DependencyError(f"the Bot API did not answer getMe: {exc}") from exc
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bot.shutdown()

    async def deliver(self, chat_id: int, content: Content) -> Message:
        """The message Telegram made of `content` in `chat_id` (TelegramError when it refused)."""
        extra: dict[str, Any] = {"allow_paid_broadcast": True} if content.paid else {}
        if content.photo is not None or content.photo_file_id is not None:
            return await self.bot.send_photo(
                chat_id, content.photo_file_id or content.photo, caption=content.text,
                parse_mode=ParseMode.HTML, reply_markup=content.markup(), **extra,
            )
        return await self.bot.send_message(
            chat_id, content.text, parse_mode=ParseMode.HTML, reply_markup=content.markup(), **extra
        )

    async def chat_admin_status(self, chat_ref: int | str) -> tuple[Chat, bool]:
        """The chat `chat_ref` (@username or id) and whether this bot may post there (an admin
        with the right to post in a channel, the creator, or an admin of a group)."""
        chat = await self.bot.get_chat(chat_ref)
        member = await self.bot.get_chat_member(chat.id, self.bot.id)
        if isinstance(member, ChatMemberOwner):
            return chat, True
        if isinstance(member, ChatMemberAdministrator):
            return chat, chat.type != ChatType.CHANNEL or bool(member.can_post_messages)
        return chat, False

    async def post_photo(self, chat_id: int, photo: bytes, caption: str) -> int:
        """The message id of `photo` posted to `chat_id` with the HTML `caption`."""
        message = await self.bot.send_photo(chat_id, photo, caption=caption or None, parse_mode=ParseMode.HTML)
        return message.message_id

    async def delete(self, chat_id: int, message_id: int) -> bool:
        """True when the message is gone (deleted now, or already)."""
        try:
            return await self.bot.delete_message(chat_id, message_id)
        except BadRequest as exc:
            if "not found" in exc.message.lower():
                return True
            raise


Progress = Callable[[Checkpoint], Awaitable[None]]


class Pacer:
    """The run's shared pace plus its own 429 hold: every send waits for both."""

    def __init__(self, limiter: RateLimiter, token: str, pace: Pace) -> None:
        self.limiter, self.key, self.pace = limiter, pace_key(token), pace
        self.resume_at = 0.0
        self.floods = 0

    async def ready(self) -> None:
        """Returns when this run may send one more request."""
        await self._hold()
        await acquire(self.limiter, self.key, self.pace.limit)
        await self._hold()  # a 429 may have arrived while we waited for the window

    def flood(self, seconds: float) -> None:
        """Holds every send of the run for `seconds` (extended, never shortened)."""
        self.floods += 1
        self.resume_at = max(self.resume_at, time.monotonic() + seconds)

    async def _hold(self) -> None:
        # A timed wait is the point: Telegram said "not before this moment".
        while (delay := self.resume_at - time.monotonic()) > 0:
            await asyncio.sleep(delay)


async def send_one(
    runtime: Runtime, bot_id: str, broadcast_id: int, sender: TelegramSender, pacer: Pacer, content: Content, row: Recipient
) -> Outcome:
    """The outcome of sending `content` to `row` (never raises for Telegram's answers)."""
    tries = floods = 0
    while True:
        await pacer.ready()
        try:
            message = await sender.deliver(row.chat_id, content)
        except TelegramError as exc:
            reading = read_error(exc)
        else:
            if content.needs_upload and message.photo:
                content.photo_file_id = message.photo[-1].file_id
                await asyncio.to_thread(control.set_photo, runtime.sessions, broadcast_id, file_id=content.photo_file_id)
            return Outcome(row.id, states.SENT, message.message_id)
        if reading.kind == "wait" and floods < MAX_FLOOD_WAITS:
            floods += 1
            pacer.flood(reading.retry_after_s)
            continue
        if reading.kind == "retry" and tries < len(RETRY_DELAYS_S):
            await asyncio.sleep(RETRY_DELAYS_S[tries])
            tries += 1
            continue
        if reading.kind == "blocked":
            await asyncio.to_thread(audience.mark_blocked, runtime.sessions, bot_id, row.chat_id)
            return Outcome(row.id, states.BLOCKED, error=reading.reason)
        if reading.kind == "unknown":
            return Outcome(row.id, states.UNKNOWN, error=reading.reason)
        return Outcome(row.id, states.FAILED, error=reading.reason if reading.kind == "failed" else f"{reading.reason} (gave up after {tries + 1} tries)")


async def send_all(
    runtime: Runtime,
    broadcast_id: int,
    bot_id: str,
    runner: str,
    sender: TelegramSender,
    pacer: Pacer,
    content: Content,
    progress: Progress | None = None,
) -> str:
    """The broadcast's status when this run stopped sending: every pending row was tried, or an
    admin paused or cancelled it (checked at every checkpoint, between refills of the in-flight
    set), or the run lost its lease."""
    in_flight: set[asyncio.Task[Outcome]] = set()
    finished: list[Outcome] = []
    # Refill when half the slots are free: one checkpoint (one transaction) per few sends.
    refill_at = max(1, pacer.pace.in_flight // 2)
    try:
        while True:
            free = pacer.pace.in_flight - len(in_flight)
            if content.needs_upload:
                # The photo goes up once: one send alone, then everyone gets its file id.
                free = 0 if in_flight else 1
            if in_flight and free < refill_at:
                # Not enough room to refill: keep the outcomes for the next checkpoint.
                done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                finished += [t.result() for t in done]
                continue
            claim = free
            point = await asyncio.to_thread(
                recipients.checkpoint, runtime.sessions, broadcast_id, runner, finished, claim
            )
            finished = []
            status = point.status if point.holds else "lost"
            if progress is not None:
                await progress(point)
            for row in point.claimed:
                in_flight.add(asyncio.create_task(send_one(runtime, bot_id, broadcast_id, sender, pacer, content, row)))
            if not in_flight:
                return status
            done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            finished = [t.result() for t in done]
    except BaseException:
        # A dependency failed (or the run is being cancelled): stop the sends still in flight.
        # Their rows stay `sending`, so the next run counts them `unknown`: they may have arrived.
        for pending in in_flight:
            pending.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)
        raise


async def retract_all(runtime: Runtime, broadcast_id: int, sender: TelegramSender, pacer: Pacer) -> tuple[int, int]:
    """(deleted, not deleted): the broadcast's sent messages deleted within Telegram's 48 h."""
    deleted = kept = 0
    after = 0
    batch = max(8, pacer.pace.in_flight * 4)

    async def delete(row: Recipient) -> bool:
        for _ in range(MAX_FLOOD_WAITS):
            await pacer.ready()
            try:
                return await sender.delete(row.chat_id, int(row.message_id or 0))
            except RetryAfter as exc:
                pacer.flood(read_error(exc).retry_after_s)
            except TelegramError as exc:
                log.info("message %s in chat %s not deleted: %s", row.message_id, row.chat_id, exc)
                return False
        return False

    while rows := await asyncio.to_thread(recipients.to_retract, runtime.sessions, broadcast_id, after_id=after, limit=batch):
        after = rows[-1].id
        gate = asyncio.Semaphore(pacer.pace.in_flight)

        async def bounded(row: Recipient) -> bool:
            async with gate:
                return await delete(row)

        results = await asyncio.gather(*(bounded(row) for row in rows))
        gone = [row.id for row, ok in zip(rows, results) if ok]
        await asyncio.to_thread(recipients.mark_retracted, runtime.sessions, gone)
        deleted += len(gone)
        kept += len(rows) - len(gone)
    return deleted, kept
