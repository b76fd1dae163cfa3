"""A campaign's figures, and the lifecycle's due changes and daily digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from promostack.campaigns.records import load_campaign
from promostack.campaigns.schema import Status
from promostack.campaigns.stats import CampaignStats, daily_series
from promostack.campaigns.submissions import REVIEW_STATUSES
from promostack.db.campaigns import Campaign, CampaignPhoto, CampaignSubmission
from promostack.db.engine import session_scope


# --- figures and lifecycle -----------------------------------------------------------------------


def campaign_stats(sessions: sessionmaker[Session], slug: str, now: datetime, days: int = 30) -> CampaignStats:
    """Photos and submissions of the campaign, totals and per UTC day over the last `days` days."""
    since = datetime.combine(now.date() - timedelta(days=days - 1), datetime.min.time(), tzinfo=now.tzinfo)
    with session_scope(sessions) as session:
        campaign = load_campaign(session, slug)
        by_shape = dict(
            session.execute(
                select(CampaignPhoto.shape, func.count()).where(CampaignPhoto.campaign_id == campaign.id).group_by(CampaignPhoto.shape)
            ).all()
        )
        pairs = session.execute(
            select(CampaignSubmission.status, CampaignSubmission.platform, func.count())
            .where(CampaignSubmission.campaign_id == campaign.id)
            .group_by(CampaignSubmission.status, CampaignSubmission.platform)
        ).all()
        photo_times = session.scalars(
            select(CampaignPhoto.created_at).where(CampaignPhoto.campaign_id == campaign.id, CampaignPhoto.created_at >= since)
        ).all()
        submission_times = session.scalars(
            select(CampaignSubmission.created_at).where(
                CampaignSubmission.campaign_id == campaign.id, CampaignSubmission.created_at >= since
            )
        ).all()
    by_status = dict.fromkeys(REVIEW_STATUSES, 0)
    by_platform: dict[str, int] = {}
    for status, platform, count in pairs:
        by_status[status] = by_status.get(status, 0) + count
        by_platform[platform] = by_platform.get(platform, 0) + count
    return CampaignStats(
        photos=sum(by_shape.values()),
        photos_by_shape=by_shape,
        submissions=sum(by_status.values()),
        by_status=by_status,
        by_platform=by_platform,
        days=daily_series(photo_times, submission_times, now.date(), days),
    )


@dataclass(frozen=True)
class StatusChange:
    """A campaign the lifecycle moved, and why."""

    slug: str
    before: Status
    after: Status
    reason: str


def apply_due_changes(sessions: sessionmaker[Session], now: datetime) -> list[StatusChange]:
    """Open drafts whose start time came (when they have an overlay) and end live campaigns whose
    end time passed; the changes made. Running it twice changes nothing the second time."""
    changes: list[StatusChange] = []
    with session_scope(sessions) as session:
        due = session.scalars(
            select(Campaign).where(
                ((Campaign.status == "draft") & (Campaign.starts_at <= now))
                | ((Campaign.status == "live") & (Campaign.ends_at <= now))
            )
        ).all()
        for campaign in due:
            if campaign.status == "live":
                changes.append(StatusChange(campaign.slug, "live", "ended", f"its end time {campaign.ends_at:%Y-%m-%d %H:%M} UTC passed"))
                campaign.status = "ended"
            elif campaign.ends_at is not None and campaign.ends_at <= now:
                changes.append(StatusChange(campaign.slug, "draft", "ended", "its start and end times both passed"))
                campaign.status = "ended"
            elif campaign.overlays:
                changes.append(StatusChange(campaign.slug, "draft", "live", f"its start time {campaign.starts_at:%Y-%m-%d %H:%M} UTC came"))
                campaign.status = "live"
            else:
                continue
            campaign.updated_at = now
    return changes


@dataclass(frozen=True)
class Digest:
    """What happened in a live campaign since a time."""

    slug: str
    name: str
    photos: int
    submissions: int
    pending: int


def digests(sessions: sessionmaker[Session], since: datetime) -> list[Digest]:
    """For every live campaign: photos made and submissions since `since`, and the pending queue."""
    with session_scope(sessions) as session:
        live = session.scalars(select(Campaign).where(Campaign.status == "live").order_by(Campaign.slug)).all()
        out = []
        for campaign in live:
            photos = session.scalar(
                select(func.count()).where(CampaignPhoto.campaign_id == campaign.id, CampaignPhoto.created_at >= since)
            )
            new = session.scalar(
                select(func.count()).where(CampaignSubmission.campaign_id == campaign.id, CampaignSubmission.created_at >= since)
            )
            pending = session.scalar(
                select(func.count()).where(CampaignSubmission.campaign_id == campaign.id, CampaignSubmission.status == "pending")
            )
            out.append(Digest(campaign.slug, campaign.name, photos or 0, new or 0, pending or 0))
        return out
