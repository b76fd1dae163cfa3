"""The `campaign-lifecycle` flow (every 5 minutes): drafts open at their start time (when they have
an overlay), live campaigns end at their end time, and once a day a digest artifact per live
campaign says what the last 24 hours brought."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from pydantic import BaseModel

from promostack.runtime import current_runtime
from tasks.campaigns import count_campaign_activity, open_and_end_campaigns

# The run whose time falls in the first slot of the UTC day writes the day's digest.
DIGEST_SLOT = timedelta(minutes=5)


class CampaignDigest(BaseModel):
    """One live campaign's last 24 hours."""

    slug: str
    photos: int
    submissions: int
    pending: int


class LifecycleReport(BaseModel):
    """What one run changed, and the digests it wrote (none outside the daily slot)."""

    opened: list[str]
    ended: list[str]
    digests: list[CampaignDigest]


@flow(name="campaign-lifecycle", persist_result=False)
def campaign_lifecycle(now: datetime | None = None, digest: bool | None = None) -> LifecycleReport:
    """The campaigns opened and ended now, and (daily, or when `digest`) the digest per live campaign."""
    runtime = current_runtime()
    now = now or datetime.now(timezone.utc)
    changes = open_and_end_campaigns(runtime, now)
    for change in changes:
        get_run_logger().info("campaign %s: %s -> %s (%s)", change.slug, change.before, change.after, change.reason)
    write_digest = digest if digest is not None else now - now.replace(hour=0, minute=0, second=0, microsecond=0) < DIGEST_SLOT
    written: list[CampaignDigest] = []
    if write_digest:
        for row in count_campaign_activity(runtime, now - timedelta(days=1)):
            written.append(CampaignDigest(slug=row.slug, photos=row.photos, submissions=row.submissions, pending=row.pending))
            create_markdown_artifact(
                key=f"campaign-digest-{row.slug}",
                markdown=(
                    f"# {row.name}: the last 24 hours\n\n| photos made | posts entered | waiting for review |\n"
                    f"|---|---|---|\n| {row.photos} | {row.submissions} | {row.pending} |\n"
                ),
                description=f"Daily digest of campaign {row.slug} up to {now:%Y-%m-%d %H:%M} UTC",
            )
    return LifecycleReport(
        opened=[c.slug for c in changes if c.after == "live"],
        ended=[c.slug for c in changes if c.after == "ended"],
        digests=written,
    )
