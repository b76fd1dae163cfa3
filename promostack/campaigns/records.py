"""The database side of campaigns: creating and editing them, counting photos, taking and
reviewing submissions, figures, and the lifecycle's due changes.

Every function takes the session factory and plain values, and either does all it says or, on
bad input, raises an `InvalidInput` (with the `field` it concerns) and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from promostack.campaigns.posts import PostRef, parse_post_url
from promostack.campaigns.schema import SHAPES, CampaignSettings, Shape, Status, check_slug, effective_status
from promostack.campaigns.stats import CampaignStats, daily_series
from promostack.db.campaigns import Campaign, CampaignPhoto, CampaignSubmission
from promostack.db.engine import session_scope
from promostack.errors import InvalidInput, NotFound

REVIEW_STATUSES = ("pending", "approved", "rejected")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,80}\.[A-Za-z]{2,24}\Z")
_HANDLE = re.compile(r"^@?[A-Za-z0-9_.]{2,40}\Z")
# Forward moves only: a campaign that ended stays ended (make a new one to run it again).
_MOVES: dict[str, set[str]] = {"draft": {"live", "ended"}, "live": {"ended"}, "ended": set()}


class CampaignNotFound(NotFound):
    """No campaign has that slug."""


class CampaignConflict(InvalidInput):
    """The change clashes with the campaign's state (slug taken, status move not allowed)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SubmissionRefused(InvalidInput):
    """A submission that is not taken: a field is wrong, the post is in already, or a limit is reached."""

    def __init__(self, message: str, field: str, kind: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.kind = kind  # invalid | duplicate | limit | closed


@dataclass(frozen=True)
class SubmissionLimits:
    """How many posts one client (IP address) may send in `window` across all campaigns."""

    per_client: int = 10
    window: timedelta = timedelta(hours=1)


# --- campaigns -----------------------------------------------------------------------------------


def _get(session: Session, slug: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise CampaignNotFound(f"there is no campaign {slug!r}")
    return campaign


def get_campaign(sessions: sessionmaker[Session], slug: str) -> Campaign:
    """The campaign with `slug`; CampaignNotFound otherwise."""
    with session_scope(sessions) as session:
        return _get(session, slug)


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
        raise CampaignConflict(f"slug {slug!r}: {exc}", field="slug") from None
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
        campaign = _get(session, slug)
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
        raise CampaignConflict(f"status {status!r}: use draft, live or ended", field="status")
    with session_scope(sessions) as session:
        campaign = _get(session, slug)
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
        campaign = _get(session, slug)
        previous = (campaign.overlays or {}).get(shape, {}).get("key")
        campaign.overlays = {**(campaign.overlays or {}), shape: overlay}
        campaign.updated_at = now
        return campaign, previous if previous != overlay["key"] else None


def remove_overlay(sessions: sessionmaker[Session], slug: str, shape: Shape, now: datetime) -> tuple[Campaign, str]:
    """The campaign without its `shape` overlay, and the key to delete; a live one keeps its last."""
    with session_scope(sessions) as session:
        campaign = _get(session, slug)
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


# --- submissions -------------------------------------------------------------------------------


def person_key(contact: str) -> str:
    """The normalised email or handle that identifies a participant; SubmissionRefused otherwise."""
    text = contact.strip()
    if _EMAIL.match(text):
        return text.lower()
    if _HANDLE.match(text):
        return "@" + text.lstrip("@").lower()
    raise SubmissionRefused("give your email or your @handle, so we can reach you if you win", field="contact")


def submit_post(
    sessions: sessionmaker[Session],
    slug: str,
    *,
    name: str,
    contact: str,
    url: str,
    client_key: str,
    now: datetime,
    limits: SubmissionLimits = SubmissionLimits(),
) -> CampaignSubmission:
    """The stored submission; SubmissionRefused (naming the field) when it is not taken."""
    name = name.strip()
    if not name or len(name) > 80:
        raise SubmissionRefused("give your name (at most 80 characters)", field="name")
    person = person_key(contact)
    with session_scope(sessions) as session:
        campaign = _get(session, slug)
        if effective_status(campaign.status, campaign.starts_at, campaign.ends_at, now) != "live":
            raise SubmissionRefused("this campaign is not taking submissions", field="url", kind="closed")
        post: PostRef = parse_post_url(url, campaign.platforms)
        recent = session.scalar(
            select(func.count()).where(
                CampaignSubmission.client_key == client_key, CampaignSubmission.created_at > now - limits.window
            )
        )
        if (recent or 0) >= limits.per_client:
            raise SubmissionRefused(
                f"too many submissions from your connection: at most {limits.per_client} an hour. Try again later",
                field="url",
                kind="limit",
            )
        mine = session.scalar(
            select(func.count()).where(
                CampaignSubmission.campaign_id == campaign.id,
                CampaignSubmission.person_key == person,
                CampaignSubmission.status != "rejected",
            )
        )
        if (mine or 0) >= campaign.per_person_limit:
            limit = campaign.per_person_limit
            raise SubmissionRefused(
                f"you have already entered {limit} post{'s' if limit != 1 else ''}, the most this campaign takes per person",
                field="contact",
                kind="limit",
            )
        if _duplicate(session, campaign.id, post):
            raise SubmissionRefused("this post has already been entered in the campaign", field="url", kind="duplicate")
        submission = CampaignSubmission(
            campaign_id=campaign.id,
            platform=post.platform,
            post_key=post.post_key,
            url=post.url,
            resolved=post.resolved,
            name=name,
            person_key=person,
            client_key=client_key[:64],
            status="pending",
            created_at=now,
        )
        session.add(submission)
        try:
            session.flush()
        except IntegrityError:
            # Entered by someone else a moment ago: the unique key is the final word.
            raise SubmissionRefused("this post has already been entered in the campaign", field="url", kind="duplicate") from None
        return submission


def _duplicate(session: Session, campaign_id: int, post: PostRef) -> bool:
    return (
        session.scalar(
            select(CampaignSubmission.id).where(
                CampaignSubmission.campaign_id == campaign_id,
                CampaignSubmission.platform == post.platform,
                CampaignSubmission.post_key == post.post_key,
            )
        )
        is not None
    )


@dataclass(frozen=True)
class SubmissionFilter:
    """Which submissions the queue shows."""

    campaign: str | None = None
    status: str | None = None
    platform: str | None = None


def list_submissions(
    sessions: sessionmaker[Session], where: SubmissionFilter, limit: int | None = 200
) -> list[tuple[CampaignSubmission, str]]:
    """Submissions matching `where`, newest first, each with its campaign's slug."""
    query = select(CampaignSubmission, Campaign.slug).join(Campaign, Campaign.id == CampaignSubmission.campaign_id)
    if where.campaign:
        query = query.where(Campaign.slug == where.campaign)
    if where.status:
        query = query.where(CampaignSubmission.status == where.status)
    if where.platform:
        query = query.where(CampaignSubmission.platform == where.platform)
    query = query.order_by(CampaignSubmission.created_at.desc(), CampaignSubmission.id.desc())
    if limit is not None:
        query = query.limit(limit)
    with session_scope(sessions) as session:
        return [(row, slug) for row, slug in session.execute(query).all()]


def review(
    sessions: sessionmaker[Session], ids: Sequence[int], decision: str, note: str, reviewer: str, now: datetime
) -> list[CampaignSubmission]:
    """The submissions `ids`, approved or rejected with `note`; all of them or none."""
    if decision not in ("approved", "rejected"):
        raise InvalidInput("decision: use approved or rejected")
    if not ids:
        raise InvalidInput("choose at least one submission")
    if len(note) > 500:
        raise InvalidInput("the note is longer than 500 characters")
    with session_scope(sessions) as session:
        rows = session.scalars(select(CampaignSubmission).where(CampaignSubmission.id.in_(set(ids)))).all()
        missing = sorted(set(ids) - {r.id for r in rows})
        if missing:
            raise NotFound(f"no submission {', '.join(map(str, missing))}: reload the queue")
        for row in rows:
            row.status, row.review_note, row.reviewed_by, row.reviewed_at = decision, note.strip() or None, reviewer, now
        return sorted(rows, key=lambda r: r.id)


# --- figures and lifecycle -----------------------------------------------------------------------


def campaign_stats(sessions: sessionmaker[Session], slug: str, now: datetime, days: int = 30) -> CampaignStats:
    """Photos and submissions of the campaign, totals and per UTC day over the last `days` days."""
    since = datetime.combine(now.date() - timedelta(days=days - 1), datetime.min.time(), tzinfo=now.tzinfo)
    with session_scope(sessions) as session:
        campaign = _get(session, slug)
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
