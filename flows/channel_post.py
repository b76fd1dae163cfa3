"""The `channel-post` flow: a promo image (template + code + caption) posted to a Telegram channel.

The step list (`post_to_channel`, also awaited directly by `/post` in the bot and "post now" on
the dashboard): claim the post (only a `scheduled` post is claimed, so it is never posted twice),
make the promo with the one promo step list (`make_promo`: a generation event recorded, the image
rendered) and hand it a `deliver` coroutine that sends the photo, so the event is settled after
the send; then record the message id (or the reason, or `unknown` when the send timed out after
leaving). Scheduled posts are flow runs of the `channel-post` deployment at their time.

`register_channel` checks with `getChatMember` that the bot is an administrator who may post
there before the channel is saved.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from pydantic import BaseModel
from telegram.error import TelegramError, TimedOut

from flows.render_promo import make_promo
from promostack.broadcasts import channels
from promostack.broadcasts.html import check_html
from promostack.errors import DeliveryUnknown, InvalidInput, PromoStackError
from promostack.promo import PromoRequest, PromoResult
from promostack.runtime import Runtime, current_runtime
from tasks.telegram_send import TelegramSender, bot_token, read_error


class BotNotChannelAdmin(InvalidInput):
    """The bot is not an administrator allowed to post in the channel."""


class ChannelUnreachable(InvalidInput):
    """Telegram does not know the channel, or will not tell this bot about it."""


class PostReport(BaseModel):
    """How a channel post ended."""

    post_id: int
    state: str
    message_id: int | None = None
    event_id: str | None = None
    error: str | None = None


async def register_channel(runtime: Runtime, bot_id: str, chat_ref: str, added_by: str | None) -> channels.Channel:
    """The channel `chat_ref` (@username or id) registered for `bot_id`, once Telegram confirmed
    the bot may post there; `BotNotChannelAdmin` or `ChannelUnreachable` saying what to fix."""
    ref = chat_ref.strip()
    if not ref:
        raise InvalidInput("name the channel: @username or its numeric id", field="chat")
    target: int | str = int(ref) if ref.lstrip("-").isdigit() else (ref if ref.startswith("@") else f"@{ref}")
    async with TelegramSender(bot_token(runtime, bot_id), runtime.settings.telegram_api_base) as sender:
        try:
            chat, may_post = await sender.chat_admin_status(target)
        except TelegramError as exc:
            raise ChannelUnreachable(f"Telegram cannot find {ref} for this bot: {read_error(exc).reason}", field="chat") from exc
        if not may_post:
            raise BotNotChannelAdmin(
                f"the bot is not an administrator of {chat.title or ref} with the right to post: "
                "add it as an admin in the channel's settings, then register the channel again",
                field="chat",
            )
    return await asyncio.to_thread(
        channels.add_channel, runtime.sessions, bot_id, chat.id, chat.title or ref, chat.username, added_by
    )


async def schedule_post(
    runtime: Runtime, channel_id: int, template_slug: str, coupon_code: str, caption: str,
    requested_by: str | None, scheduled_at: datetime | None = None,
) -> int:
    """The id of a new post to channel `channel_id` (its caption checked as Telegram HTML)."""
    if caption.strip():
        check_html(caption, caption=True)
    return await asyncio.to_thread(
        channels.create_post, runtime.sessions, channel_id, template_slug.strip().lower(), coupon_code.strip(),
        caption, requested_by, scheduled_at,
    )


async def post_to_channel(runtime: Runtime, post_id: int) -> PostReport:
    """The report of posting `post_id` (nothing is sent when it was already claimed)."""
    post = await asyncio.to_thread(channels.claim_post, runtime.sessions, post_id)
    if post is None:
        done = await asyncio.to_thread(channels.get_post, runtime.sessions, post_id)
        return PostReport(post_id=post_id, state=done.state, message_id=done.message_id, event_id=done.event_id, error=done.error)
    channel = await asyncio.to_thread(channels.get_channel, runtime.sessions, post.channel_id)
    request = PromoRequest(
        template_slug=post.template_slug, coupon_code=post.coupon_code, channel="telegram", bot_id=channel.bot,
        user_ref=f"channel:{channel.chat_id}"[:64], event_id=uuid.uuid4().hex,
    )
    sent: list[int] = []
    async with TelegramSender(bot_token(runtime, channel.bot), runtime.settings.telegram_api_base) as sender:

        async def deliver(result: PromoResult) -> None:
            try:
                sent.append(await sender.post_photo(channel.chat_id, result.image, post.caption))
            except TimedOut as exc:
                raise DeliveryUnknown(f"the post timed out after it left; it may be in the channel: {exc}") from exc
            except TelegramError as exc:
                raise InvalidInput(f"Telegram refused the post: {read_error(exc).reason}") from exc

        try:
            await make_promo(runtime, request, deliver)
        except DeliveryUnknown as exc:
            state, error = channels.UNKNOWN, str(exc)
        except PromoStackError as exc:
            state, error = channels.FAILED, exc.user_message
        else:
            state, error = channels.POSTED, None
    event_id = request.event_id
    message_id = sent[0] if sent else None
    await asyncio.to_thread(
        channels.settle_post, runtime.sessions, post_id, state, message_id=message_id, error=error, event_id=event_id
    )
    return PostReport(post_id=post_id, state=state, message_id=message_id, event_id=event_id, error=error)


async def post_now(
    runtime: Runtime, channel_id: int, template_slug: str, coupon_code: str, caption: str, requested_by: str | None
) -> PostReport:
    """The report of a post made right now (the `/post` command, the dashboard's "post now")."""
    post_id = await schedule_post(runtime, channel_id, template_slug, coupon_code, caption, requested_by)
    return await post_to_channel(runtime, post_id)


@flow(name="channel-post", persist_result=False)
async def channel_post(post_id: int) -> PostReport:
    """The report of posting channel post `post_id` (scheduled from the dashboard)."""
    report = await post_to_channel(current_runtime(), post_id)
    await create_markdown_artifact(
        markdown=f"**Channel post {post_id}: {report.state}** message {report.message_id or '-'} {report.error or ''}",
        key=f"channel-post-{post_id}",
    )
    return report
