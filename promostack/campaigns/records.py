"""The database side of campaigns: creating and editing them, their overlays and status, and
counting the photos people made. Submissions are in `submissions.py`, figures and the
lifecycle's due changes in `lifecycle.py`.

Every function takes the session factory and plain values, and either does all it says or, on
bad input, raises an `InvalidInput` (with the `field` it concerns) and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from promostack.campaigns.schema import SHAPES, CampaignSettings, Shape, check_slug
from promostack.db.campaigns import Campaign, CampaignPhoto, CampaignSubmission
from promostack.db.engine import session_scope
from promostack.errors import InvalidInput, NotFound

# Forward moves only: a campaign that ended stays ended (make a new one to run it again).
_MOVES: dict[str, set[str]] = {"draft": {"live", "ended"}, "live": {"ended"}, "ended": set()}


class CampaignNotFound(NotFound):
    """No campaign has that slug."""


class CampaignConflict(InvalidInput):
    """The change clashes with the campaign's state (slug taken, status move not allowed)."""

    kind = "conflict"
    status = 409


# --- campaigns -----------------------------------------------------------------------------------


def load_campaign(session: Session, slug: str) -> Campaign:
    """The campaign `slug` in `session`; `CampaignNotFound` when there is none."""
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise CampaignNotFound(f"there is no campaign {slug!r}")
    return campaign


def get_campaign(sessions: sessionmaker[Session], slug: str) -> Campaign:
    """The campaign with `slug`; CampaignNotFound otherwise."""
    with session_scope(sessions) as session:
        return load_campaign(session, slug)


def list_campaigns(sessions: sessionmaker[Session]) -> list[tuple[Campaign, int, int, int]]:
    """Every campaign, newest first, with its photos made, submissions and pending submissions."""
    with session_scope(sessions) as session:
        photos = dict(session.execute(select(CampaignPhoto.campaign_id, func.count()).group_by(CampaignPhoto.campaign_id)).all())
        subs: dict[int, int] = {}
        pending: dict[int, int] = {}
        rows = session.execute(
            select(CampaignSubmission.campaign_id, CampaignSubmission.status, func.count()).group_by(
                CampaignSubmission.campaign_id, CampaignSubmission.status
            )
        )
        for campaign_id, status, count in rows:
            subs[campaign_id] = subs.get(campaign_id, 0) + count
            if status == "pending":
                pending[campaign_id] = count
        campaigns = session.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())).all()
        return [(c, photos.get(c.id, 0), subs.get(c.id, 0), pending.get(c.id, 0)) for c in campaigns]


def create_campaign(sessions: sessionmaker[Session], slug: str, settings: CampaignSettings, now: datetime) -> Campaign:
    """The new draft campaign; CampaignConflict when the slug is taken."""
    try:
        check_slug(slug)
    except ValueError as exc:
        raise InvalidInput(f"slug {slug!r}: {exc}", field="slug") from None
    try:
        with session_scope(sessions) as session:
            campaign = Campaign(slug=slug, status="draft", overlays={}, created_at=now, updated_at=now)
            _apply(campaign, settings)
            session.add(campaign)
            session.flush()
            return campaign
    except IntegrityError:
        raise CampaignConflict(f"a campaign {slug!r} already exists: choose another slug", field="slug") from None


def update_campaign(sessions: sessionmaker[Session], slug: str, settings: CampaignSettings, now: datetime) -> Campaign:
    """The campaign with `settings` applied."""
    with session_scope(sessions) as session:
        campaign = load_campaign(session, slug)
        _apply(campaign, settings)
        campaign.updated_at = now
        return campaign


def _apply(campaign: Campaign, settings: CampaignSettings) -> None:
    campaign.name = settings.name
    campaign.description = settings.description
    campaign.starts_at = settings.starts_at
    campaign.ends_at = settings.ends_at
    campaign.caption_template = settings.caption_template
    campaign.hashtags = list(settings.hashtags)
    campaign.platforms = list(settings.platforms)
    campaign.coupon_code = settings.coupon_code or None
    campaign.per_person_limit = settings.per_person_limit


def set_status(sessions: sessionmaker[Session], slug: str, status: str, now: datetime) -> Campaign:
    """The campaign moved to `status` (draft → live → ended); CampaignConflict saying why not."""
    if status not in _MOVES:
        raise InvalidInput(f"status {status!r}: use draft, live or ended", field="status")
    with session_scope(sessions) as session:
        campaign = load_campaign(session, slug)
        if status == campaign.status:
            return campaign
        if status not in _MOVES[campaign.status]:
            raise CampaignConflict(f"a campaign that is {campaign.status} cannot become {status}", field="status")
        if status == "live" and not campaign.overlays:
            raise CampaignConflict("upload at least one overlay before the campaign goes live", field="status")
        if status == "live" and campaign.ends_at is not None and campaign.ends_at <= now:
            raise CampaignConflict("its end time has passed: move the end time first", field="status")
        campaign.status = status
        campaign.updated_at = now
        return campaign


def set_overlay(
    sessions: sessionmaker[Session], slug: str, shape: Shape, overlay: dict[str, str], now: datetime
) -> tuple[Campaign, str | None]:
    """The campaign with `overlay` as its `shape` overlay, and the storage key it replaced."""
    with session_scope(sessions) as session:
        campaign = load_campaign(session, slug)
        previous = (campaign.overlays or {}).get(shape, {}).get("key")
        campaign.overlays = {**(campaign.overlays or {}), shape: overlay}
        campaign.updated_at = now
        return campaign, previous if previous != overlay["key"] else None


def remove_overlay(sessions: sessionmaker[Session], slug: str, shape: Shape, now: datetime) -> tuple[Campaign, str]:
    """The campaign without its `shape` overlay, and the key to delete; a live one keeps its last."""
    with session_scope(sessions) as session:
        campaign = load_campaign(session, slug)
        overlays = dict(campaign.overlays or {})
        if shape not in overlays:
            raise CampaignNotFound(f"campaign {slug!r} has no {shape} overlay")
        if campaign.status == "live" and len(overlays) == 1:
            raise CampaignConflict("a live campaign needs at least one overlay: upload another first", field="overlay")
        removed = overlays.pop(shape)["key"]
        campaign.overlays = overlays
        campaign.updated_at = now
        return campaign, removed


def shapes_of(campaign: Campaign) -> list[Shape]:
    """The shapes the campaign has overlays for, in the usual order."""
    return [s for s in SHAPES if s in (campaign.overlays or {})]


# --- photos ------------------------------------------------------------------------------------


def record_photo(sessions: sessionmaker[Session], campaign_id: int, shape: Shape, now: datetime) -> int:
    """The campaign's supporter count after counting one more photo made."""
    with session_scope(sessions) as session:
        session.add(CampaignPhoto(campaign_id=campaign_id, shape=shape, created_at=now))
        session.flush()
        return session.scalar(select(func.count()).where(CampaignPhoto.campaign_id == campaign_id)) or 0


def supporters(sessions: sessionmaker[Session], campaign_id: int) -> int:
    """How many photos were made for the campaign."""
    with session_scope(sessions) as session:
        return session.scalar(select(func.count()).where(CampaignPhoto.campaign_id == campaign_id)) or 0
