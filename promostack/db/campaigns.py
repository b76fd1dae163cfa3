"""Tables of the campaigns feature: campaigns, the photos made on their pages, and the post URLs
people submit (migration 0008).

The photos table records that a photo was made (for the supporter counter and the stats), never
the photo itself. Submissions keep the canonical (platform, post key) of a post, unique per
campaign, so the same post cannot be entered twice however its URL was written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from promostack.db.models import Base, utcnow


class Campaign(Base):
    """A campaign: its page's texts, its overlays (one per shape), its submission rules and status."""

    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("slug", name="uq_campaigns_slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | live | ended
    starts_at: Mapped[datetime | None] = mapped_column()
    ends_at: Mapped[datetime | None] = mapped_column()
    caption_template: Mapped[str] = mapped_column(Text, default="")
    hashtags: Mapped[list[str]] = mapped_column(JSON, default=list)
    platforms: Mapped[list[str]] = mapped_column(JSON, default=list)
    coupon_code: Mapped[str | None] = mapped_column(String(64))
    per_person_limit: Mapped[int] = mapped_column(Integer, default=1)
    # shape -> {"key": storage key, "sha256": content hash}; see promostack.campaigns.overlays
    overlays: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignPhoto(Base):
    """One finished photo made on a campaign's page (the image itself is never kept)."""

    __tablename__ = "campaign_photos"
    __table_args__ = (Index("ix_campaign_photos_campaign_created", "campaign_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    shape: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignSubmission(Base):
    """A post URL someone submitted to a campaign, and its review."""

    __tablename__ = "campaign_submissions"
    __table_args__ = (
        UniqueConstraint("campaign_id", "platform", "post_key", name="uq_campaign_submissions_post"),
        Index("ix_campaign_submissions_campaign_created", "campaign_id", "created_at"),
        Index("ix_campaign_submissions_client_created", "client_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))  # instagram | tiktok | x | facebook | youtube
    post_key: Mapped[str] = mapped_column(String(160))  # the post id, or "short:<code>" when unresolved
    url: Mapped[str] = mapped_column(String(300))  # the canonical URL we rebuilt, never fetched
    resolved: Mapped[bool] = mapped_column(Boolean, default=True)
    name: Mapped[str] = mapped_column(String(80))
    person_key: Mapped[str] = mapped_column(String(120))  # the normalised email or handle
    client_key: Mapped[str] = mapped_column(String(64))  # a keyed hash of the client's IP address
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | rejected
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column()
    reviewed_by: Mapped[str | None] = mapped_column(String(80))
    review_note: Mapped[str | None] = mapped_column(String(500))
