"""How a finished promo reaches the user: as a photo (the JPEG made to survive Telegram's re-encode,
with a "Send as file" button), or as the lossless PNG document that button asks for.

Each function gives the `deliver` coroutine the promo step list awaits before it settles the
attempt; a time-out after the upload left becomes `DeliveryUnknown` (it may have arrived).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TimedOut
from telegram.ext import ContextTypes

from bots import promo_texts as say
from promostack.errors import DeliveryUnknown
from promostack.promo import PromoResult

CALLBACK_LIMIT = 64  # bytes, Telegram's limit on callback_data

Deliver = Callable[[PromoResult], Awaitable[None]]


def file_button(code: str, slug: str) -> InlineKeyboardMarkup | None:
    """The "Send as file" button under a photo (None when its data would be over 64 bytes)."""
    data = f"f|{code}|{slug}"
    if len(data.encode()) > CALLBACK_LIMIT:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(say.SEND_AS_FILE, callback_data=data)]])


def as_photo(context: ContextTypes.DEFAULT_TYPE, chat_id: int, code: str, slug: str) -> Deliver:
    """Sends the promo as a photo with its caption and the "Send as file" button."""

    async def deliver(result: PromoResult) -> None:
        try:
            await context.bot.send_photo(
                chat_id,
                photo=result.image,
                caption=say.photo_caption(code, result.template_name),
                reply_markup=file_button(code, slug),
            )
        except TimedOut as exc:
            raise DeliveryUnknown(f"sendPhoto timed out: {exc}") from exc

    return deliver


def as_file(context: ContextTypes.DEFAULT_TYPE, chat_id: int, code: str, slug: str) -> Deliver:
    """Sends the promo as a PNG document: the lossless file, untouched by Telegram."""

    async def deliver(result: PromoResult) -> None:
        try:
            await context.bot.send_document(
                chat_id,
                document=result.image,
                filename=f"{code}-{slug}.png",
                caption=say.photo_caption(code, result.template_name),
            )
        except TimedOut as exc:
            raise DeliveryUnknown(f"sendDocument timed out: {exc}") from exc

    return deliver
