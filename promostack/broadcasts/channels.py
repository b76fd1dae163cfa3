"""Telegram channels our bots post to, and the posts made there.

A channel is registered per bot once Telegram confirmed the bot is an administrator there
(`flows.channel_post.register_channel` asks `getChatMember`). A post goes `scheduled → sending →
posted (message id) | failed (reason) | unknown`; only a `scheduled` post is ever claimed, so a
re-run of its flow (a retry, a second worker) never posts it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from promostack.db.broadcasts import ChannelPost, TelegramChannel
from promostack.db.engine import session_scope
from promostack.db.models import utcnow
from promostack.errors import NotFound

SCHEDULED, SENDING, POSTED, FAILED, UNKNOWN = "scheduled", "sending", "posted", "failed", "unknown"


@dataclass(frozen=True)
class Channel:
    """A registered channel."""

    id: int
    bot: str
    chat_id: int
    title: str
    username: str | None
    added_by: str | None
    added_at: datetime


@dataclass(frozen=True)
class Post:
    """A channel post and where it stands."""

    id: int
    channel_id: int
    template_slug: str
    coupon_code: str
    caption: str
    state: str
    message_id: int | None
    event_id: str | None
    error: str | None
    requested_by: str | None
    created_at: datetime
    scheduled_at: datetime | None
    posted_at: datetime | None


def _found(session: Session, model: type[TelegramChannel] | type[ChannelPost], row_id: int, what: str):  # type: ignore[no-untyped-def]
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(f"no {what} {row_id}")
    return row


def _channel(row: TelegramChannel) -> Channel:
    return Channel(row.id, row.bot, row.chat_id, row.title, row.username, row.added_by, row.added_at)


def _post(row: ChannelPost) -> Post:
    return Post(
        row.id, row.channel_id, row.template_slug, row.coupon_code, row.caption, row.state, row.message_id,
        row.event_id, row.error, row.requested_by, row.created_at, row.scheduled_at, row.posted_at,
    )


def add_channel(
    factory: sessionmaker[Session], bot: str, chat_id: int, title: str, username: str | None, added_by: str | None
) -> Channel:
    """The channel, registered for `bot` (its title and username refreshed when it already was)."""
    values = {"bot": bot, "chat_id": chat_id, "title": title[:255], "username": username, "added_by": added_by, "added_at": utcnow()}
    with session_scope(factory) as session:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(
            insert(TelegramChannel).values(**values).on_conflict_do_update(
                index_elements=["bot", "chat_id"], set_={"title": values["title"], "username": username}
            )
        )
        row = session.scalar(select(TelegramChannel).where(TelegramChannel.bot == bot, TelegramChannel.chat_id == chat_id))
        assert row is not None
        return _channel(row)


def channels(factory: sessionmaker[Session], bot: str | None = None) -> list[Channel]:
    """The registered channels (of `bot`, when given), oldest first."""
    with session_scope(factory) as session:
        query = select(TelegramChannel).order_by(TelegramChannel.id)
        if bot:
            query = query.where(TelegramChannel.bot == bot)
        return [_channel(row) for row in session.scalars(query)]


def get_channel(factory: sessionmaker[Session], channel_id: int) -> Channel:
    """The channel `channel_id`; `NotFound` when none."""
    with session_scope(factory) as session:
        return _channel(_found(session, TelegramChannel, channel_id, "channel"))


def find_channel(factory: sessionmaker[Session], bot: str, ref: str) -> Channel:
    """`bot`'s channel named by `ref` (@username, chat id or our id); `NotFound` naming the known ones."""
    wanted = ref.strip().lstrip("@").lower()
    known = channels(factory, bot)
    for channel in known:
        if wanted in {(channel.username or "").lower(), str(channel.chat_id), str(channel.id)}:
            return channel
    names = ", ".join(f"@{c.username}" if c.username else str(c.chat_id) for c in known) or "none yet"
    raise NotFound(f"no channel {ref!r} registered for this bot (registered: {names})")


def remove_channel(factory: sessionmaker[Session], channel_id: int) -> None:
    """Nothing; the channel and its posts' records are gone."""
    with session_scope(factory) as session:
        session.delete(_found(session, TelegramChannel, channel_id, "channel"))


def create_post(
    factory: sessionmaker[Session],
    channel_id: int,
    template_slug: str,
    coupon_code: str,
    caption: str,
    requested_by: str | None,
    scheduled_at: datetime | None = None,
) -> int:
    """The id of a new scheduled post to channel `channel_id`."""
    with session_scope(factory) as session:
        _found(session, TelegramChannel, channel_id, "channel")
        row = ChannelPost(
            channel_id=channel_id, template_slug=template_slug, coupon_code=coupon_code, caption=caption,
            requested_by=requested_by, scheduled_at=scheduled_at, state=SCHEDULED,
        )
        session.add(row)
        session.flush()
        return row.id


def claim_post(factory: sessionmaker[Session], post_id: int) -> Post | None:
    """The post, now `sending`, when it was `scheduled`; None when another run has it or had it."""
    with session_scope(factory) as session:
        claimed = session.execute(
            update(ChannelPost).where(ChannelPost.id == post_id, ChannelPost.state == SCHEDULED).values(state=SENDING)
        )
        row = _found(session, ChannelPost, post_id, "channel post")
        return _post(row) if claimed.rowcount else None


def settle_post(
    factory: sessionmaker[Session], post_id: int, state: str, *, message_id: int | None = None,
    error: str | None = None, event_id: str | None = None,
) -> None:
    """Nothing; records how the post ended."""
    values: dict[str, object] = {"state": state, "message_id": message_id, "error": error, "event_id": event_id}
    if state == POSTED:
        values["posted_at"] = utcnow()
    with session_scope(factory) as session:
        session.execute(update(ChannelPost).where(ChannelPost.id == post_id).values(**values))


def get_post(factory: sessionmaker[Session], post_id: int) -> Post:
    """The post `post_id`; `NotFound` when none."""
    with session_scope(factory) as session:
        return _post(_found(session, ChannelPost, post_id, "channel post"))


def recent_posts(factory: sessionmaker[Session], limit: int = 50) -> list[Post]:
    """The newest posts first."""
    with session_scope(factory) as session:
        return [_post(row) for row in session.scalars(select(ChannelPost).order_by(ChannelPost.id.desc()).limit(limit))]
