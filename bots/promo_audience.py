"""The promo bot's audience at the door: every update touches its user, `/start` registers them
(new, returning or reactivated) and greets them."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import ContextTypes

from bots import promo_texts as say
from bots.background import run_in_background
from promostack import audience
from promostack.runtime import Runtime


async def see_user(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Records that the update's user was seen now."""
    person = _person(update)
    text = update.message.text if update.message else None
    # /start registers the user itself, and must see whether they are new or coming back.
    if person is not None and not (text and text.split()[0].split("@")[0] == "/start"):
        # In the background: the command's answer never waits for this write; the bot awaits its
        # background work when it stops, so no touch is lost on shutdown.
        sessions = _runtime(context).sessions
        run_in_background(
            context.application, asyncio.to_thread(audience.touch, sessions, _bot_id(context), person)
        )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Registers (or reactivates) the user and greets them."""
    person = _person(update)
    if person is None or update.effective_message is None:
        return
    arrival = await asyncio.to_thread(audience.register, _runtime(context).sessions, _bot_id(context), person)
    await update.effective_message.reply_html(say.greeting(arrival, person.first_name))


def _runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    return context.bot_data["runtime"]


def _bot_id(context: ContextTypes.DEFAULT_TYPE) -> str:
    return str(context.bot_data.get("bot_id", "promo"))


def _person(update: Update) -> audience.Person | None:
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    return audience.Person(user.id, user.username, user.first_name, user.language_code)
