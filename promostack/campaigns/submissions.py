"""Submissions of social-media posts to a campaign: taking them (within the limits, once per post)
and reviewing them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from promostack.campaigns.posts import PostRef, parse_post_url
from promostack.campaigns.records import load_campaign
from promostack.campaigns.schema import effective_status
from promostack.db.campaigns import Campaign, CampaignSubmission
from promostack.db.engine import session_scope
from promostack.errors import InvalidInput, NotFound

REVIEW_STATUSES = ("pending", "approved", "rejected")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,80}\.[A-Za-z]{2,24}\Z")
_HANDLE = re.compile(r"^@?[A-Za-z0-9_.]{2,40}\Z")


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
        campaign = load_campaign(session, slug)
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
