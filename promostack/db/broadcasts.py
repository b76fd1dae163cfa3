"""Tables of the broadcasts feature (migration 0010): broadcasts, their recipient snapshot, the
Telegram channels each bot may post to, and the posts made there.

A broadcast's recipients are a snapshot taken once when it first starts: one row per (broadcast,
chat), unique, so a resume can neither add a user nor send to a chat twice. A row's state is
`pending → sending → sent | blocked | failed | unknown` (see `promostack.broadcasts.states`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from promostack.db.models import Base, utcnow


class Broadcast(Base):
    """A message to a bot's audience: what it says, who gets it, and where it stands."""

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bot: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)  # Telegram HTML, checked before saving
    # The photo's bytes in object storage (an upload or a rendered promo), and Telegram's file id
    # once the first send uploaded it (file ids are per bot, so it is kept per broadcast).
    photo_key: Mapped[str | None] = mapped_column(String(255))
    photo_file_id: Mapped[str | None] = mapped_column(String(255))
    promo_template: Mapped[str | None] = mapped_column(String(64))
    promo_code: Mapped[str | None] = mapped_column(String(64))
    buttons: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{"text", "url"}], one per row
    seen_within_days: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(16))
    paid: Mapped[bool] = mapped_column(Boolean, default=False)  # allow_paid_broadcast lane
    # draft | scheduled | queued | running | paused | cancelled | done | retracting | retracted
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    scheduled_at: Mapped[datetime | None] = mapped_column()
    snapshot_at: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    retracted_at: Mapped[datetime | None] = mapped_column()
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    # The runner holding the broadcast and when it last said so: one runner at a time.
    runner: Mapped[str | None] = mapped_column(String(32))
    heartbeat_at: Mapped[datetime | None] = mapped_column()


class BroadcastRecipient(Base):
    """One chat of a broadcast's snapshot and what happened when it was sent to."""

    __tablename__ = "broadcast_recipients"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "chat_id", name="uq_broadcast_recipients_chat"),
        Index("ix_broadcast_recipients_state", "broadcast_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column()
    retracted_at: Mapped[datetime | None] = mapped_column()


class TelegramChannel(Base):
    """A channel one of our bots may post to (the bot was an admin there when it was added)."""

    __tablename__ = "telegram_channels"
    __table_args__ = (UniqueConstraint("bot", "chat_id", name="uq_telegram_channels_bot_chat"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bot: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(64))
    added_by: Mapped[str | None] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelPost(Base):
    """A promo image posted (or to be posted) to a channel: scheduled → sending → posted | failed | unknown."""

    __tablename__ = "channel_posts"
    __table_args__ = (Index("ix_channel_posts_channel_created", "channel_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("telegram_channels.id", ondelete="CASCADE"))
    template_slug: Mapped[str] = mapped_column(String(64))
    coupon_code: Mapped[str] = mapped_column(String(64))
    caption: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="scheduled")
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    event_id: Mapped[str | None] = mapped_column(String(32))  # its generation event
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    scheduled_at: Mapped[datetime | None] = mapped_column()
    posted_at: Mapped[datetime | None] = mapped_column()
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
