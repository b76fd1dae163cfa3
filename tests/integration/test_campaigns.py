"""Campaigns end to end through the web app, on SQLite and Postgres, with overlays in a real S3
endpoint: the admin sets a campaign up, visitors frame photos and enter posts, the admin reviews
and exports. Every refusal says why and changes nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from starlette.testclient import TestClient

from promostack.config import Settings
from promostack.storage import build_store
from tests.integration.admin_support import admin_settings, log_in

SQUARE = (1080, 1080)


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def frame_png(size: tuple[int, int] = SQUARE) -> bytes:
    """An overlay: a white border around a see-through window."""
    overlay = Image.new("RGBA", size, (255, 255, 255, 255))
    ImageDraw.Draw(overlay).rectangle((90, 90, size[0] - 91, size[1] - 91), fill=(0, 0, 0, 0))
    return png(overlay)


PHOTO = jpeg(Image.new("RGB", (1600, 1200), (30, 90, 200)))


@pytest.fixture
def world(tmp_path: Path, db_url: str, s3_settings: Settings) -> Iterator[tuple[TestClient, str, Settings]]:
    """A logged-in admin client (and its CSRF token) of an app on the test database and S3."""
    from webapp.app import create_app

    s3 = {k: getattr(s3_settings, k) for k in ("spaces_bucket", "spaces_endpoint_url", "spaces_region", "spaces_access_key", "spaces_secret_key")}
    settings = admin_settings(tmp_path, db_url, campaign_photo_max_bytes=3_000_000, campaign_submissions_per_hour=5, **s3)
    with TestClient(create_app(settings)) as client:
        yield client, log_in(client), settings


def create_live(client: TestClient, token: str, slug: str = "summer", **fields: object) -> dict:
    """A live campaign with a square overlay, made through the admin API."""
    body = {"slug": slug, "name": "Summer of Gold", "caption_template": "{name} is in! Code {code}", "hashtags": ["gold"],
            "coupon_code": "GOLD25", "platforms": ["instagram", "tiktok", "x"], "per_person_limit": 2, **fields}
    answer = client.post("/admin/api/campaigns", json=body, headers={"X-CSRF-Token": token})
    assert answer.status_code == 201, answer.text
    answer = client.put(f"/admin/api/campaigns/{slug}/overlays/square", content=frame_png(), headers={"X-CSRF-Token": token})
    assert answer.status_code == 200, answer.text
    answer = client.post(f"/admin/api/campaigns/{slug}/status", json={"status": "live"}, headers={"X-CSRF-Token": token})
    assert answer.status_code == 200, answer.text
    return answer.json()


def stored_keys(settings: Settings) -> list[str]:
    return [o.key for o in build_store(settings).list("campaigns/")]


def submit(client: TestClient, url: str, contact: str = "ana@example.com", slug: str = "summer", name: str = "Ana"):  # type: ignore[no-untyped-def]
    return client.post(f"/c/{slug}/submissions", json={"name": name, "contact": contact, "url": url})


# --- setting up ---------------------------------------------------------------------------------------


def test_an_overlay_uploaded_by_the_admin_is_kept_in_object_storage_and_the_page_shows_it(world) -> None:  # type: ignore[no-untyped-def]
    client, token, settings = world
    campaign = create_live(client, token)
    keys = stored_keys(settings)
    assert len(keys) == 1 and keys[0].startswith("campaigns/summer/overlay-square-")
    page = client.get("/c/summer")
    assert page.status_code == 200 and "Summer of Gold" in page.text
    overlay = client.get(campaign["overlays"]["square"]["url"].replace("/admin/api/campaigns/summer/overlays/square", "/c/summer/overlay/square.png"))
    assert overlay.status_code == 200 and overlay.content == frame_png()


@pytest.mark.parametrize(
    ("upload", "reason"),
    [
        (jpeg(Image.new("RGB", SQUARE)), "must be a PNG"),
        (png(Image.new("RGB", SQUARE, "white")), "no transparency"),
        (frame_png((1080, 1350)), "needs exactly 1080x1080"),
        (b"x" * 10_000_001, "too large: the limit is 10 MB"),
    ],
)
def test_a_bad_overlay_is_refused_with_the_reason_and_nothing_is_stored(world, upload: bytes, reason: str) -> None:  # type: ignore[no-untyped-def]
    client, token, settings = world
    client.post("/admin/api/campaigns", json={"slug": "summer", "name": "Summer"}, headers={"X-CSRF-Token": token})
    answer = client.put("/admin/api/campaigns/summer/overlays/square", content=upload, headers={"X-CSRF-Token": token})
    assert answer.status_code in (413, 422) and reason in answer.json()["message"]
    assert answer.json()["field"] == "overlay"
    assert client.get("/admin/api/campaigns/summer").json()["overlays"] == {}
    assert stored_keys(settings) == []


def test_a_campaign_without_an_overlay_cannot_go_live(world) -> None:  # type: ignore[no-untyped-def]
    client, token, _ = world
    client.post("/admin/api/campaigns", json={"slug": "summer", "name": "Summer"}, headers={"X-CSRF-Token": token})
    answer = client.post("/admin/api/campaigns/summer/status", json={"status": "live"}, headers={"X-CSRF-Token": token})
    assert answer.status_code == 409 and "at least one overlay" in answer.json()["message"]
    assert client.get("/c/summer").status_code == 404


def test_refusals_say_whether_the_input_or_the_campaigns_state_is_wrong(world) -> None:  # type: ignore[no-untyped-def]
    client, token, _ = world
    csrf = {"X-CSRF-Token": token}
    assert client.post("/admin/api/campaigns", json={"slug": "summer", "name": "S"}, headers=csrf).status_code == 201

    taken = client.post("/admin/api/campaigns", json={"slug": "summer", "name": "Again"}, headers=csrf)
    assert taken.status_code == 409 and taken.json()["error"] == "conflict" and taken.json()["field"] == "slug"
    bad_slug = client.post("/admin/api/campaigns", json={"slug": "Sum mer!", "name": "S"}, headers=csrf)
    assert bad_slug.status_code == 422 and bad_slug.json()["field"] == "slug"
    bad_status = client.post("/admin/api/campaigns/summer/status", json={"status": "paused"}, headers=csrf)
    assert bad_status.status_code == 422 and bad_status.json()["field"] == "status" and "draft, live or ended" in bad_status.text
    bad_filter = client.get("/admin/api/campaign-submissions?status=maybe")
    assert bad_filter.status_code == 422 and bad_filter.json()["field"] == "status"
    not_an_object = client.post("/admin/api/campaigns", json=["summer"], headers=csrf)
    assert not_an_object.status_code == 400 and not_an_object.json()["error"] == "malformed_body"
    unknown = client.get("/admin/api/campaigns/winter")
    assert unknown.status_code == 404 and unknown.json()["error"] == "campaign_not_found"
    assert [c["name"] for c in client.get("/admin/api/campaigns").json()["campaigns"]] == ["S"]


def test_changing_a_campaign_needs_the_csrf_token(world) -> None:  # type: ignore[no-untyped-def]
    client, token, _ = world
    answer = client.post("/admin/api/campaigns", json={"slug": "summer", "name": "Summer"})
    assert answer.status_code == 403
    assert client.get("/admin/api/campaigns").json()["campaigns"] == []


def test_a_caption_with_an_unknown_variable_is_refused_naming_it(world) -> None:  # type: ignore[no-untyped-def]
    client, token, _ = world
    answer = client.post("/admin/api/campaigns", json={"slug": "summer", "name": "S", "caption_template": "Hi {email}"},
                         headers={"X-CSRF-Token": token})
    assert answer.status_code == 422 and "{email}" in answer.json()["message"]


# --- the public page ---------------------------------------------------------------------------------


def test_a_visitor_gets_a_framed_jpeg_and_becomes_a_supporter_while_the_photo_is_not_kept(world) -> None:  # type: ignore[no-untyped-def]
    client, token, settings = world
    create_live(client, token)
    answer = client.post("/c/summer/photo?shape=square&zoom=1.5&cx=0.4&cy=0.5", content=PHOTO, headers={"Content-Type": "image/jpeg"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/jpeg" and answer.headers["x-supporters"] == "1"
    image = Image.open(io.BytesIO(answer.content))
    assert image.size == SQUARE and image.getpixel((10, 10)) == (255, 255, 255)
    assert len(stored_keys(settings)) == 1  # the overlay only
    assert ">1</strong>" in client.get("/c/summer").text


@pytest.mark.parametrize(
    ("query", "body", "status", "field", "reason"),
    [
        ("shape=square", b"GIF89a not really", 422, "photo", "not a photo"),
        ("shape=square", b"\x00" * 3_000_001, 413, "photo", "limit is 3 MB"),
        ("shape=square", png(Image.new("1", (9000, 9000))), 422, "photo", "megapixels"),
        ("shape=story", PHOTO, 400, "shape", "Choose one of the shapes: square"),
        ("shape=square&zoom=9", PHOTO, 400, "placement", "placement is not valid"),
    ],
)
def test_a_bad_upload_is_refused_at_its_field_and_nothing_is_counted(world, query, body, status, field, reason) -> None:  # type: ignore[no-untyped-def]
    client, token, _ = world
    create_live(client, token)
    answer = client.post(f"/c/summer/photo?{query}", content=body)
    assert answer.status_code == status
    assert answer.json()["field"] == field and reason in answer.json()["message"]
    assert client.get("/admin/api/campaigns/summer/stats").json()["photos"] == 0


def test_a_draft_campaign_page_says_it_is_not_open_and_an_ended_one_answers_410(world) -> None:  # type: ignore[no-untyped-def]
    client, token, _ = world
    client.post("/admin/api/campaigns", json={"slug": "later", "name": "Later"}, headers={"X-CSRF-Token": token})
    draft = client.get("/c/later")
    assert draft.status_code == 404 and "not open" in draft.text
    create_live(client, token)
    client.post("/admin/api/campaigns/summer/status", json={"status": "ended"}, headers={"X-CSRF-Token": token})
    ended = client.get("/c/summer")
    assert ended.status_code == 410 and "has ended" in ended.text
    assert client.post("/c/summer/photo?shape=square", content=PHOTO).status_code == 410
    assert submit(client, "https://www.instagram.com/p/Cabc12345/").status_code == 410


# --- submissions -------------------------------------------------------------------------------------


def test_a_post_link_is_entered_once_however_it_is_spelled(world) -> None:  # type: ignore[no-untyped-def]
    client, token, _ = world
    create_live(client, token)
    first = submit(client, "https://twitter.com/ana/status/1234567890123?s=20")
    assert first.status_code == 201 and first.json()["url"] == "https://x.com/i/status/1234567890123"
    again = submit(client, "x.com/someone/status/1234567890123", contact="@bob")
    assert again.status_code == 409 and again.json()["field"] == "url" and "already been entered" in again.json()["message"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://example.com/p/abc", "not accepted"),
        ("https://youtu.be/dQw4w9WgXcQ", "YouTube posts are not part of this campaign"),
        ("https://www.instagram.com/ana/", "not a link to one post"),
    ],
)
def test_a_link_that_is_not_an_accepted_post_is_refused_at_the_url_field(world, url: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    client, token, _ = world
    create_live(client, token)
    answer = submit(client, url)
    assert answer.status_code == 422 and answer.json()["field"] == "url" and reason in answer.json()["message"]
    assert client.get("/admin/api/campaign-submissions").json()["submissions"] == []


def test_a_short_link_is_taken_as_unresolved_for_the_reviewer_to_open(world) -> None:  # type: ignore[no-untyped-def]
    client, token, _ = world
    create_live(client, token)
    answer = submit(client, "https://vm.tiktok.com/ZMabc123/")
    assert answer.status_code == 201 and answer.json()["resolved"] is False
    assert "short link" in answer.json()["message"]


def test_one_person_enters_at_most_the_campaigns_limit(world) -> None:  # type: ignore[no-untyped-def]
    client, token, _ = world
    create_live(client, token)  # two per person
    assert submit(client, "https://www.instagram.com/p/Caaaa1111/", contact="Ana@Example.com").status_code == 201
    assert submit(client, "https://www.instagram.com/p/Cbbbb2222/", contact="ana@example.com ").status_code == 201
    third = submit(client, "https://www.instagram.com/p/Ccccc3333/", contact="ANA@example.com")
    assert third.status_code == 429 and third.json()["field"] == "contact" and "already entered 2 posts" in third.json()["message"]


def test_one_connection_sends_at_most_the_hourly_limit(world) -> None:  # type: ignore[no-untyped-def]
    client, token, _ = world
    create_live(client, token, per_person_limit=100)  # the app allows 5 an hour per address
    for i in range(5):
        assert submit(client, f"https://www.instagram.com/p/Cpost{i}xyz/", contact=f"@user{i}").status_code == 201
    sixth = submit(client, "https://www.instagram.com/p/Cpost9xyz/", contact="@user9")
    assert sixth.status_code == 429 and "at most 5 an hour" in sixth.json()["message"]


# --- review, figures, export ----------------------------------------------------------------------------


def test_the_admin_approves_several_at_once_with_a_note_and_the_queue_shows_who_and_when(world) -> None:  # type: ignore[no-untyped-def]
    client, token, _ = world
    create_live(client, token, per_person_limit=10)
    ids = [submit(client, url).json()["id"] for url in (
        "https://www.instagram.com/p/Caaaa1111/", "https://www.tiktok.com/@ana/video/7312345678901234567",
        "https://x.com/ana/status/99887766")]
    answer = client.post("/admin/api/campaign-submissions/review", json={"ids": ids[:2], "decision": "approved", "note": "great"},
                         headers={"X-CSRF-Token": token})
    assert answer.status_code == 200 and answer.json()["count"] == 2
    approved = client.get("/admin/api/campaign-submissions?status=approved").json()["submissions"]
    assert sorted(s["id"] for s in approved) == sorted(ids[:2])
    assert all(s["review_note"] == "great" and s["reviewed_by"].startswith("admin") and s["reviewed_at"] for s in approved)
    tiktok = client.get("/admin/api/campaign-submissions?platform=tiktok&campaign=summer").json()["submissions"]
    assert [s["id"] for s in tiktok] == [ids[1]]
    stats = client.get("/admin/api/campaigns/summer/stats").json()
    assert stats["by_status"] == {"pending": 1, "approved": 2, "rejected": 0}
    assert stats["by_platform"] == {"instagram": 1, "tiktok": 1, "x": 1}
    assert stats["days"][-1]["submissions"] == 3


def test_reviewing_an_unknown_submission_changes_none_of_them(world) -> None:  # type: ignore[no-untyped-def]
    client, token, _ = world
    create_live(client, token)
    known = submit(client, "https://www.instagram.com/p/Caaaa1111/").json()["id"]
    answer = client.post("/admin/api/campaign-submissions/review", json={"ids": [known, 999999], "decision": "rejected"},
                         headers={"X-CSRF-Token": token})
    assert answer.status_code == 404 and "999999" in answer.json()["message"]
    assert client.get("/admin/api/campaign-submissions").json()["submissions"][0]["status"] == "pending"


def test_the_csv_export_escapes_cells_a_spreadsheet_would_run(world) -> None:  # type: ignore[no-untyped-def]
    client, token, _ = world
    create_live(client, token, per_person_limit=10)
    for name, url in (("=HYPERLINK(\"http://evil\")", "https://www.instagram.com/p/Caaaa1111/"),
                      ("+1 555", "https://www.instagram.com/p/Cbbbb2222/"), ("@admin", "https://www.instagram.com/p/Ccccc3333/"),
                      ("-2", "https://www.instagram.com/p/Cdddd4444/"), ("Ana", "https://www.instagram.com/p/Ceeee5555/")):
        assert submit(client, url, name=name).status_code == 201
    answer = client.get("/admin/api/campaign-submissions.csv?campaign=summer")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert sorted(r["name"] for r in rows) == sorted(["'=HYPERLINK(\"http://evil\")", "'+1 555", "'@admin", "'-2", "Ana"])
    assert all(r["campaign"] == "summer" and r["url"].startswith("https://www.instagram.com/p/") for r in rows)
