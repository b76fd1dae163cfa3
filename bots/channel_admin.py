"""The promo bot's handlers for broadcasts and channels: who may receive broadcasts
(`my_chat_member`) and `/post` for the admins in `ADMIN_TELEGRAM_IDS`.

- `my_chat_member` in a private chat is Telegram telling the bot that the user blocked it
  (`kicked`) or came back (`member`): the audience flag follows, so broadcasts skip blocked
  users before a send ever fails, and a user who unblocks is reached again.
- `/post <channel> <CODE> <template> [caption]` posts a promo image to one of the bot's registered
  channels through the channel-post step list (`flows.channel_post.post_now`).
"""

from __future__ import annotations

import asyncio
import html

from telegram import ChatMember, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from flows.channel_post import post_now
from promostack import audience
from promostack.broadcasts import channels
from promostack.errors import PromoStackError
from promostack.runtime import Runtime

POST_USAGE = "Usage: <code>/post @channel CODE template [caption]</code>"
NOT_ADMIN = "Only the bot's admins can post to channels."
GONE = (ChatMember.BANNED, ChatMember.LEFT)


async def membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Marks a user who blocked the bot blocked, and one who unblocked it active again."""
    change = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE or change.from_user.is_bot:
        return
    runtime: Runtime = context.bot_data["runtime"]
    bot_id = str(context.bot_data.get("bot_id", "promo"))
    user = change.from_user
    if change.new_chat_member.status in GONE:
        await asyncio.to_thread(audience.mark_blocked, runtime.sessions, bot_id, user.id)
    elif change.new_chat_member.status == ChatMember.MEMBER:
        person = audience.Person(user.id, user.username, user.first_name, user.language_code)
        await asyncio.to_thread(audience.register, runtime.sessions, bot_id, person)


async def post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Posts a promo image to a registered channel, for the admins only."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    runtime: Runtime = context.bot_data["runtime"]
    if user.id not in runtime.settings.admin_chat_ids:
        await message.reply_text(NOT_ADMIN)
        return
    args = context.args or []
    if len(args) < 3:
        await message.reply_html(POST_USAGE)
        return
    bot_id = str(context.bot_data.get("bot_id", "promo"))
    channel_ref, code, slug, caption = args[0], args[1], args[2], " ".join(args[3:])
    try:
        channel = await asyncio.to_thread(channels.find_channel, runtime.sessions, bot_id, channel_ref)
        report = await post_now(runtime, channel.id, slug, code, caption, requested_by=str(user.id))
    except PromoStackError as exc:
        await message.reply_text(f"Not posted: {exc.user_message}")
        return
    where = f"@{channel.username}" if channel.username else html.escape(channel.title)
    if report.state == channels.POSTED:
        await message.reply_text(f"Posted to {where} (message {report.message_id}).")
    elif report.state == channels.UNKNOWN:
        await message.reply_text(f"Telegram did not confirm the post to {where} in time; check the channel before posting again.")
    else:
        await message.reply_text(f"Not posted to {where}: {report.error}")
