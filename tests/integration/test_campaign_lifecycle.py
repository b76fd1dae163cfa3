"""The campaign lifecycle: drafts open at their start time, live campaigns end at theirs, and the
demo campaign `seed-demo` adds is live with an overlay per shape."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session, sessionmaker

from promostack.campaigns.demo import DEMO_SLUG, demo_overlay, seed_demo_campaign
from promostack.campaigns.overlays import OverlayStore
from promostack.campaigns.records import create_campaign, get_campaign, set_overlay, set_status
from promostack.campaigns.lifecycle import apply_due_changes
from promostack.campaigns.schema import CampaignSettings
from promostack.storage import LocalStore

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def make(sessions: sessionmaker[Session], slug: str, overlay: bool = True, **times: datetime) -> None:
    create_campaign(sessions, slug, CampaignSettings(name=slug, **times), NOW - timedelta(days=1))
    if overlay:
        set_overlay(sessions, slug, "square", {"key": f"campaigns/{slug}/o.png", "sha256": "0" * 64}, NOW)


def test_due_campaigns_open_and_end_on_their_times_and_a_second_run_changes_nothing(sessions) -> None:  # type: ignore[no-untyped-def]
    make(sessions, "opens", starts_at=NOW - timedelta(minutes=1))
    make(sessions, "not-yet", starts_at=NOW + timedelta(hours=1))
    make(sessions, "no-overlay", overlay=False, starts_at=NOW - timedelta(minutes=1))
    make(sessions, "ends", ends_at=NOW - timedelta(minutes=1))
    make(sessions, "running", ends_at=NOW + timedelta(days=1))
    set_status(sessions, "running", "live", NOW)
    # "ends" went live before its end time passed.
    set_status(sessions, "ends", "live", NOW - timedelta(hours=1))

    changes = {(c.slug, c.after) for c in apply_due_changes(sessions, NOW)}
    assert changes == {("opens", "live"), ("ends", "ended")}
    assert {s: get_campaign(sessions, s).status for s in ("not-yet", "no-overlay", "running")} == {
        "not-yet": "draft", "no-overlay": "draft", "running": "live"}
    assert apply_due_changes(sessions, NOW) == []


def test_seed_demo_adds_a_live_campaign_with_every_shape_once(sessions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    overlays = OverlayStore(LocalStore(tmp_path / "store"))
    assert "added" in seed_demo_campaign(sessions, overlays, NOW)
    assert "already there" in seed_demo_campaign(sessions, overlays, NOW)
    campaign = get_campaign(sessions, DEMO_SLUG)
    assert campaign.status == "live" and sorted(campaign.overlays) == ["portrait", "square", "story"]
    assert overlays.raw(campaign.overlays["story"]["key"]) == demo_overlay("story")


def test_the_lifecycle_flow_opens_and_ends_campaigns_and_writes_a_digest_per_live_one(prefect_harness, runtime) -> None:  # type: ignore[no-untyped-def]
    from flows.campaigns import campaign_lifecycle
    from tests.integration.test_render_flows import artifacts_of

    make(runtime.sessions, "opens", starts_at=NOW - timedelta(minutes=1))
    make(runtime.sessions, "ends", ends_at=NOW - timedelta(minutes=1))
    set_status(runtime.sessions, "ends", "live", NOW - timedelta(hours=1))

    state = campaign_lifecycle(now=NOW, digest=True, return_state=True)
    report = state.result()
    assert (report.opened, report.ended) == (["opens"], ["ends"])
    assert [d.slug for d in report.digests] == ["opens"]  # the live one; the ended one has no digest
    artifact = artifacts_of(state.state_details.flow_run_id)["campaign-digest-opens"]
    assert "| 0 | 0 | 0 |" in artifact.data

    quiet = campaign_lifecycle(now=NOW + timedelta(hours=1)).model_dump()  # 10:00 UTC: no digest slot
    assert quiet == {"opened": [], "ended": [], "digests": []}
