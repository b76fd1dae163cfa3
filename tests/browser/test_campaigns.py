"""Campaigns in Chromium: the public page on a phone (pick, place, make, download, submit) and
the admin's review queue."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from promostack.campaigns.demo import DEMO_SLUG, seed_demo_campaign
from promostack.campaigns.overlays import OverlayStore
from promostack.campaigns.submissions import SubmissionFilter, list_submissions
from tests.browser.admin_support import log_in, problems  # noqa: F401 (fixtures)
from tests.browser.conftest import LiveServer, save_screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(live_server: LiveServer) -> str:
    """The demo campaign in the live server (added once; other tests may have added it)."""
    runtime = live_server.runtime
    seed_demo_campaign(runtime.sessions, OverlayStore(runtime.store), datetime.now(timezone.utc))
    return f"{live_server.url}/c/{DEMO_SLUG}"


def photo_file(tmp_path) -> str:  # type: ignore[no-untyped-def]
    """A landscape JPEG: red left half, blue right half."""
    image = Image.new("RGB", (1600, 1000), (220, 30, 30))
    ImageDraw.Draw(image).rectangle((800, 0, 1600, 1000), fill=(30, 30, 220))
    path = tmp_path / "holiday.jpg"
    image.save(path, "JPEG", quality=90)
    return str(path)


def test_on_a_phone_a_visitor_frames_a_photo_downloads_it_and_enters_a_post(phone_page, demo, tmp_path, problems, live_server) -> None:  # type: ignore[no-untyped-def]
    page = phone_page
    page.goto(demo)
    expect(page.locator("h1")).to_have_text("Gold Rush 2026")
    page.set_input_files("#photo-input", photo_file(tmp_path))
    expect(page.locator("#frame-hint")).to_be_hidden()
    # Drag the photo right: the frame moves towards the photo's red (left) half.
    box = page.locator("#frame-stage").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 150, cy, steps=5)
    page.mouse.up()
    page.check("input[name=shape][value=portrait]", force=True)
    save_screenshot(page, "campaign-phone-placed", full_page=True)
    page.click("#make-photo")
    expect(page.locator("#result")).to_be_visible()
    expect(page.locator("#photo-status")).to_have_text("Your photo is ready.")
    with page.expect_download() as download:
        page.click("#download-photo")
    path = download.value.path()
    made = Image.open(path)
    assert made.size == (1080, 1350)
    r, g, b = made.getpixel((540, 675))[:3]
    assert r > 150 and b < 100  # dragged onto the red half
    # Enter a post: first a link of another site, then the right one.
    page.fill("#sub-name", "Ana")
    page.fill("#sub-contact", "ana@example.com")
    page.fill("#sub-url", "https://example.com/my-post")
    page.click("#submit-post")
    expect(page.locator("#error-url")).to_contain_text("not accepted")
    page.fill("#sub-url", "https://www.instagram.com/p/CgoldRush1/")
    page.click("#submit-post")
    expect(page.locator("#submit-status")).to_contain_text("Thank you")
    save_screenshot(page, "campaign-phone-submitted", full_page=True)
    rows = list_submissions(live_server.runtime.sessions, SubmissionFilter(campaign=DEMO_SLUG))
    assert any(row.post_key == "CgoldRush1" for row, _ in rows)
    assert problems == []


def test_a_file_that_is_not_a_photo_is_refused_at_the_photo_field(phone_page, demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fake = tmp_path / "notes.jpg"
    fake.write_bytes(b"these are notes, not a photo")
    phone_page.goto(demo)
    phone_page.set_input_files("#photo-input", str(fake))
    phone_page.click("#make-photo")
    expect(phone_page.locator("#error-photo")).to_contain_text("not a photo")


def test_the_admin_approves_a_submission_from_the_review_queue(page, demo, live_server, problems) -> None:  # type: ignore[no-untyped-def]
    from promostack.campaigns.submissions import submit_post

    submit_post(live_server.runtime.sessions, DEMO_SLUG, name="Bo", contact="@bo", url="https://x.com/bo/status/555000111",
                client_key="browser-test", now=datetime.now(timezone.utc))
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin#/campaigns/review?campaign={DEMO_SLUG}&status=pending")
    row = page.locator("#submission-table tr", has_text="@bo")
    expect(row).to_be_visible()
    row.locator("input[type=checkbox]").check()
    page.fill("#review-note", "nice post")
    page.click("#approve-selected")
    expect(page.locator("#submission-table tr", has_text="@bo")).to_have_count(0)  # left the pending filter
    page.select_option("#f-status", "approved")
    approved = page.locator("#submission-table tr", has_text="@bo")
    expect(approved).to_contain_text("nice post")
    expect(approved).to_contain_text("approved")
    save_screenshot(page, "campaign-admin-review")
    page.goto(f"{live_server.url}/admin#/campaigns/{DEMO_SLUG}")
    expect(page.locator("#campaign-stats")).to_be_visible()
    save_screenshot(page, "campaign-admin-detail", full_page=True)
    assert problems == []
