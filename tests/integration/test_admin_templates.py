"""The template manager's API: uploads (good and bad), saves through the store, visibility, delete."""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from starlette.testclient import TestClient

from promostack.config import Settings
from promostack.storage import build_store
from promostack.templates.store import INDEX_KEY, TemplateStore
from tests.integration.admin_support import admin, admin_settings, app_client, log_in  # noqa: F401 (fixtures)
from webapp.app import create_app


def png(width: int = 600, height: int = 400, colour: str = "#224466") -> bytes:
    """A real PNG of the given size."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def bomb_png(side: int = 30_000) -> bytes:
    """A tiny PNG whose header claims side×side pixels: a decompression bomb's calling card."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def store_of(client: TestClient) -> TemplateStore:
    """The template store the app under test writes to."""
    return TemplateStore(client.app.state.runtime.store)


def upload(
    client: TestClient, token: str, data: bytes, name: str = "Spring Sale", filename: str = "bg.png"
) -> object:
    return client.post(
        "/admin/api/templates",
        data={"name": name},
        files={"image": (filename, data, "image/png")},
        headers={"X-CSRF-Token": token},
    )


def test_upload_creates_a_hidden_template_with_a_coupon_area(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    answer = upload(client, token, png(800, 500))
    assert answer.status_code == 201, answer.text
    meta = answer.json()
    assert (meta["slug"], meta["width"], meta["height"]) == ("spring-sale", 800, 500)
    assert meta["visibility"] == {"web": False, "telegram": False}
    assert [a["source"] for a in meta["text_areas"]] == ["coupon"]
    stored = store_of(client)
    assert stored.get("spring-sale").image_key == "templates/spring-sale/background.png"
    assert [t.slug for t in stored.index().templates] == ["spring-sale"]
    assert client.get("/admin/api/templates/spring-sale/image").content == png(800, 500)


def test_uploading_a_second_template_with_the_same_slug_is_a_conflict(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    assert upload(client, token, png()).status_code == 201
    again = upload(client, token, png(300, 300))
    assert again.status_code == 409 and "already exists" in again.json()["message"]
    assert (again.json()["error"], again.json()["field"]) == ("conflict", "slug")
    assert store_of(client).get("spring-sale").width == 600


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"%PDF-1.7 definitely not a picture", 415, "not a PNG, JPEG or WebP"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, 422, "PNG"),
        (bomb_png(), 422, "limit"),
        (png(4200, 50), 422, "at most 4096"),
    ],
    ids=["not-an-image", "corrupt-png", "decompression-bomb", "too-wide"],
)
def test_bad_uploads_are_refused_with_a_reason_and_store_nothing(
    admin: tuple[TestClient, str], data: bytes, status: int, words: str
) -> None:
    client, token = admin
    answer = upload(client, token, data)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["message"] and answer.json()["field"] == "image"
    assert client.app.state.runtime.store.list("templates/") == []


def test_an_oversized_upload_is_413_and_stores_nothing(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    from webapp.routes.admin_templates import MAX_IMAGE_BYTES

    answer = upload(client, token, png()[:100] + b"\x00" * (MAX_IMAGE_BYTES + 1))
    assert answer.status_code == 413 and "too large" in answer.json()["message"]
    assert client.app.state.runtime.store.list("templates/") == []


def test_upload_without_a_name_is_refused(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    answer = upload(client, token, png(), name="  ")
    assert answer.status_code == 422 and answer.json()["field"] == "name"


def test_a_form_without_an_image_file_is_422_naming_the_image_and_stores_nothing(
    admin: tuple[TestClient, str],
) -> None:
    client, token = admin
    headers = {"X-CSRF-Token": token}
    answer = client.post("/admin/api/templates", data={"name": "Spring Sale"}, headers=headers)
    assert answer.status_code == 422, answer.text
    assert (answer.json()["error"], answer.json()["field"]) == ("invalid_input", "image")
    assert client.app.state.runtime.store.list("templates/") == []


def test_a_malformed_slug_is_422_naming_the_slug_and_stores_nothing(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    answer = client.post(
        "/admin/api/templates",
        data={"name": "Spring Sale", "slug": "Spring Sale!"},
        files={"image": ("bg.png", png(), "image/png")},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 422, answer.text
    assert (answer.json()["error"], answer.json()["field"]) == ("invalid_template", "slug")
    assert "'Spring Sale!'" in answer.json()["message"]
    assert client.app.state.runtime.store.list("templates/") == []


def _with_new_area(meta: dict) -> dict:
    area = {
        "id": "headline",
        "source": "text",
        "default_text": "Summer",
        "font": "Inter-Bold",
        "color": "#ffcc00",
        "align": "left",
        "box": {"x": 10, "y": 10, "w": 300, "h": 80},
    }
    return {**meta, "text_areas": [*meta["text_areas"], area]}


def _round_trip(client: TestClient, token: str) -> None:
    meta = upload(client, token, png()).json()
    saved = client.put(
        "/admin/api/templates/spring-sale", json=_with_new_area(meta), headers={"X-CSRF-Token": token}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == meta["version"] + 1

    store = client.app.state.runtime.store
    on_disk = json.loads(store.get("templates/spring-sale/meta.json"))
    assert [a["id"] for a in on_disk["text_areas"]] == ["code", "headline"]
    assert on_disk["text_areas"][1]["color"] == "#ffcc00"
    index = json.loads(store.get(INDEX_KEY))
    assert [(t["slug"], t["version"]) for t in index["templates"]] == [("spring-sale", meta["version"] + 1)]
    backups = store_of(client).backups("spring-sale")
    assert len(backups) == 1
    assert json.loads(store.get(backups[0]))["version"] == meta["version"]


def test_save_round_trip_updates_meta_and_index_and_keeps_a_backup(admin: tuple[TestClient, str]) -> None:
    _round_trip(*admin)


@pytest.fixture
def s3_admin(tmp_path: Path, db_url: str, s3_settings: Settings) -> Iterator[tuple[TestClient, str]]:
    """A logged-in client of an app whose object store is the S3 HTTP endpoint."""
    spaces = {k: getattr(s3_settings, k) for k in Settings.model_fields if k.startswith("spaces_")}
    with TestClient(create_app(admin_settings(tmp_path, db_url, **spaces))) as client:
        yield client, log_in(client)


def test_save_round_trip_through_s3(s3_admin: tuple[TestClient, str], s3_settings: Settings) -> None:
    _round_trip(*s3_admin)
    # Read back through a separate client of the bucket: the objects really are in S3.
    assert "spring-sale" in build_store(s3_settings).get(INDEX_KEY).decode()


def test_schema_errors_come_back_as_422_naming_the_field_and_change_nothing(
    admin: tuple[TestClient, str],
) -> None:
    client, token = admin
    meta = upload(client, token, png()).json()
    bad = _with_new_area(meta)
    bad["text_areas"][1]["box"]["w"] = 0
    bad["text_areas"][1]["color"] = "yellow"
    answer = client.put("/admin/api/templates/spring-sale", json=bad, headers={"X-CSRF-Token": token})
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_input"
    assert answer.json()["message"].startswith("the template is not valid: ")
    fields = {f["field"] for f in answer.json()["fields"]}
    assert fields == {"text_areas.1.box.w", "text_areas.1.color"}
    assert store_of(client).get("spring-sale").version == meta["version"]
    assert store_of(client).backups("spring-sale") == []


def test_an_area_outside_the_image_is_refused_and_says_where(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    meta = upload(client, token, png(600, 400)).json()
    bad = _with_new_area(meta)
    bad["text_areas"][1]["box"] = {"x": 500, "y": 10, "w": 300, "h": 80}
    answer = client.put("/admin/api/templates/spring-sale", json=bad, headers={"X-CSRF-Token": token})
    assert answer.status_code == 422 and "text_areas[1].box" in answer.json()["message"]
    # A rule of the meta as a whole is named `template` (the editor lists it under that name).
    assert [f["field"] for f in answer.json()["fields"]] == ["template"]
    assert store_of(client).get("spring-sale").version == meta["version"]


def test_saving_a_stale_version_is_a_conflict(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    meta = upload(client, token, png()).json()
    headers = {"X-CSRF-Token": token}
    assert (
        client.put("/admin/api/templates/spring-sale", json=_with_new_area(meta), headers=headers).status_code
        == 200
    )
    stale = client.put("/admin/api/templates/spring-sale", json={**meta, "name": "Other"}, headers=headers)
    assert stale.status_code == 409 and "changed since you opened it" in stale.json()["message"]
    assert stale.json()["error"] == "conflict"
    assert store_of(client).get("spring-sale").name == "Spring Sale"


def test_saving_without_a_version_is_refused(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    meta = upload(client, token, png()).json()
    del meta["version"]
    answer = client.put("/admin/api/templates/spring-sale", json=meta, headers={"X-CSRF-Token": token})
    assert answer.status_code == 422 and answer.json()["field"] == "version"
    assert store_of(client).backups("spring-sale") == []


def test_saving_a_body_that_is_not_an_object_is_400_and_changes_nothing(
    admin: tuple[TestClient, str],
) -> None:
    client, token = admin
    upload(client, token, png())
    answer = client.put("/admin/api/templates/spring-sale", json=[1, 2], headers={"X-CSRF-Token": token})
    assert answer.status_code == 400 and answer.json()["error"] == "malformed_body", answer.text
    assert store_of(client).backups("spring-sale") == []


def test_saving_an_unknown_template_is_404_and_creates_nothing(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    meta = upload(client, token, png()).json()
    answer = client.put("/admin/api/templates/nope", json=meta, headers={"X-CSRF-Token": token})
    assert answer.status_code == 404, answer.text
    assert (answer.json()["error"], answer.json()["field"]) == ("template_not_found", "template")
    assert not store_of(client).exists("nope")


def test_visibility_toggles_show_in_the_index(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    upload(client, token, png())
    answer = client.put(
        "/admin/api/templates/spring-sale/visibility", json={"web": True}, headers={"X-CSRF-Token": token}
    )
    assert answer.status_code == 200 and answer.json()["visibility"] == {"web": True, "telegram": False}
    store = store_of(client)
    assert [t.slug for t in store.visible("web")] == ["spring-sale"]
    assert store.visible("telegram") == []
    bad = client.put(
        "/admin/api/templates/spring-sale/visibility", json={"web": "yes"}, headers={"X-CSRF-Token": token}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "visibility"
    assert [t.slug for t in store.visible("web")] == ["spring-sale"]


def test_showing_an_unknown_template_is_404(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    headers = {"X-CSRF-Token": token}
    answer = client.put("/admin/api/templates/nope/visibility", json={"web": True}, headers=headers)
    assert answer.status_code == 404 and answer.json()["error"] == "template_not_found"
    assert store_of(client).index().templates == []


def test_a_malformed_slug_in_the_address_is_422_naming_the_slug(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    upload(client, token, png())
    for answer in (
        client.get("/admin/api/templates/Spring_Sale"),
        client.get("/admin/api/templates/Spring_Sale/image"),
        client.delete("/admin/api/templates/Spring_Sale", headers={"X-CSRF-Token": token}),
    ):
        assert answer.status_code == 422, answer.text
        assert (answer.json()["error"], answer.json()["field"]) == ("invalid_template", "slug")
    assert store_of(client).exists("spring-sale")


def test_delete_removes_the_template_from_the_index(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    upload(client, token, png())
    assert (
        client.delete("/admin/api/templates/spring-sale", headers={"X-CSRF-Token": token}).status_code == 204
    )
    assert store_of(client).index().templates == []
    assert client.get("/admin/api/templates/spring-sale").status_code == 404
    assert client.get("/admin/api/templates").json()["templates"] == []


def test_delete_without_csrf_token_keeps_the_template(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    upload(client, token, png())
    assert client.delete("/admin/api/templates/spring-sale").status_code == 403
    assert store_of(client).exists("spring-sale")


def test_fonts_lists_the_shipped_fonts_with_urls_the_browser_can_load(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    fonts = client.get("/admin/api/fonts").json()["fonts"]
    assert "Inter-Bold" in fonts
    assert client.get(fonts["Inter-Bold"]["url"]).status_code == 200
