"""Replacing a template's background: from the dashboard's API and the CLI, on the local store and S3.

A good image becomes the next version (the old meta backed up, the old image kept for it),
with the areas kept, scaled or flagged; a bad one is refused with its reason and changes nothing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from starlette.testclient import TestClient
from typer.testing import CliRunner

from cli.main import app as cli_app
from promostack.config import Settings, get_settings
from promostack.db.engine import make_engine
from promostack.storage import LocalStore
from promostack.templates.schema import TemplateMeta
from promostack.templates.store import TemplateStore, parse_meta
from tests.conftest import _truncate
from tests.integration.admin_support import admin_settings, log_in
from tests.integration.test_admin_templates import bomb_png, png, upload
from webapp.app import create_app


@pytest.fixture(params=["local", "s3"])
def admin(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_url: str
) -> Iterator[tuple[TestClient, str]]:
    """A logged-in dashboard client on SQLite, its templates in the local folder or on S3 over HTTP."""
    engine = make_engine(sqlite_url)
    _truncate(engine)  # no log-in attempts or other rows left by earlier tests
    engine.dispose()
    spaces: dict[str, object] = {}
    if request.param == "s3":
        s3: Settings = request.getfixturevalue("s3_settings")
        spaces = {k: getattr(s3, k) for k in Settings.model_fields if k.startswith("spaces_")}
    with TestClient(create_app(admin_settings(tmp_path, sqlite_url, **spaces))) as client:
        yield client, log_in(client)


def templates_of(client: TestClient) -> TemplateStore:
    return TemplateStore(client.app.state.runtime.store)


def replace(client: TestClient, token: str, data: bytes, slug: str = "spring-sale", **form: str):
    return client.put(
        f"/admin/api/templates/{slug}/image",
        data=form,
        files={"image": ("new.png", data, "image/png")},
        headers={"X-CSRF-Token": token},
    )


def reason(answer) -> str:
    """The sentence of an error answer (`message` in the app's error dialect, once `error`)."""
    body = answer.json()
    return body.get("message") or body["error"]


def created(client: TestClient, token: str, width: int = 600, height: int = 400) -> dict:
    """A new template (one centred coupon area), with a second small area top-left, shown on the web."""
    meta = upload(client, token, png(width, height)).json()
    headline = {"id": "headline", "default_text": "Spring", "box": {"x": 10, "y": 10, "w": 200, "h": 60}}
    meta = {**meta, "text_areas": [*meta["text_areas"], headline]}
    meta["visibility"] = {"web": True, "telegram": True}
    saved = client.put(f"/admin/api/templates/{meta['slug']}", json=meta, headers={"X-CSRF-Token": token})
    assert saved.status_code == 200, saved.text
    return saved.json()


def test_an_image_of_the_same_size_keeps_the_areas_and_is_served_as_the_next_version(admin) -> None:
    client, token = admin
    before = created(client, token)
    new_image = png(600, 400, "#ff8800")
    answer = replace(client, token, new_image, version=str(before["version"]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["refit"]["areas"] == "unchanged" and body["refit"]["needs_review"] == []
    after = body["template"]
    assert after["version"] == before["version"] + 1
    assert after["text_areas"] == before["text_areas"]
    assert client.get("/admin/api/templates/spring-sale/image").content == new_image
    # The public side (gallery cache included) sees the new version and picture at once.
    assert client.get("/api/templates/spring-sale").json()["version"] == after["version"]
    assert client.get("/api/templates/spring-sale/image").content == new_image


def test_the_old_meta_is_backed_up_and_still_restores_with_its_own_picture(admin) -> None:
    client, token = admin
    before = created(client, token)
    templates = templates_of(client)
    backups_before = len(templates.backups("spring-sale"))
    replace(client, token, png(900, 600, "#00aa00"))
    backups = templates.backups("spring-sale")
    assert len(backups) == backups_before + 1
    old_meta = templates.store.get(backups[-1])
    assert templates.store.exists(before["image_key"])  # the previous picture stays for that backup
    restored = templates.save(parse_meta(old_meta))  # what restoring a version does
    assert (restored.width, restored.height) == (600, 400)
    assert Image.open(io.BytesIO(templates.image("spring-sale"))).size == (600, 400)


def test_a_larger_image_of_the_same_shape_scales_the_areas(admin) -> None:
    client, token = admin
    before = created(client, token)
    answer = replace(client, token, png(1200, 800))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["refit"]["areas"] == "scaled" and "scaled" in body["refit"]["summary"]
    after = body["template"]
    assert (after["width"], after["height"]) == (1200, 800)
    for old, new in zip(before["text_areas"], after["text_areas"], strict=True):
        assert new["box"] == {k: v * 2 for k, v in old["box"].items()}
        assert new["max_size"] == old["max_size"] * 2


def test_an_image_of_another_shape_keeps_the_areas_and_names_those_that_need_a_look(admin) -> None:
    client, token = admin
    before = created(client, token)
    answer = replace(client, token, png(300, 400))
    assert answer.status_code == 200, answer.text
    refit, after = answer.json()["refit"], answer.json()["template"]
    assert refit["areas"] == "kept"
    # The coupon area (420 px wide) no longer fits the 300 px image; the headline still does.
    assert [r["area"] for r in refit["needs_review"]] == ["code"]
    assert "shrunk" in refit["needs_review"][0]["reason"]
    assert after["text_areas"][0]["box"]["w"] == 300
    assert after["text_areas"][1]["box"] == before["text_areas"][1]["box"]


# Each refusal: the upload, the status, and words of the reason the admin is given.
BAD_IMAGES = {
    "not-an-image": (b"%PDF-1.7 definitely not a picture", 415, "not a PNG, JPEG or WebP"),
    "corrupt-png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, 422, "PNG"),
    "decompression-bomb": (bomb_png(), 422, "limit"),
    "too-wide": (png(4200, 50), 422, "at most 4096"),
    "oversized": (png()[:100] + b"\x00" * 15_000_001, 413, "too large"),
}


@pytest.mark.parametrize("case", BAD_IMAGES)
def test_a_bad_image_is_refused_with_its_reason_and_changes_nothing(admin, case: str) -> None:
    client, token = admin
    data, status, words = BAD_IMAGES[case]
    created(client, token)
    store = client.app.state.runtime.store
    keys_before = [(o.key, o.size) for o in store.list("templates/")]
    meta_before = store.get("templates/spring-sale/meta.json")
    answer = replace(client, token, data)
    assert answer.status_code == status, answer.text
    assert words in reason(answer) and answer.json()["field"] == "image"
    assert [(o.key, o.size) for o in store.list("templates/")] == keys_before
    assert store.get("templates/spring-sale/meta.json") == meta_before


def test_a_replacement_against_a_stale_version_is_a_conflict(admin) -> None:
    client, token = admin
    before = created(client, token)
    answer = replace(client, token, png(600, 400), version=str(before["version"] - 1))
    assert answer.status_code == 409 and "changed since you opened it" in reason(answer)
    assert answer.json()["error"] == "conflict"
    assert templates_of(client).get("spring-sale").version == before["version"]


def test_a_replacement_with_a_version_that_is_not_a_number_is_422_and_changes_nothing(admin) -> None:
    client, token = admin
    before = created(client, token)
    answer = replace(client, token, png(600, 400), version="latest")
    assert answer.status_code == 422 and answer.json()["field"] == "version", answer.text
    assert templates_of(client).get("spring-sale").version == before["version"]


def test_a_replacement_without_an_image_file_is_422_naming_the_image(admin) -> None:
    client, token = admin
    before = created(client, token)
    headers = {"X-CSRF-Token": token}
    answer = client.put("/admin/api/templates/spring-sale/image", data={"version": "2"}, headers=headers)
    assert answer.status_code == 422 and answer.json()["field"] == "image", answer.text
    assert templates_of(client).get("spring-sale").version == before["version"]


def test_replacing_the_image_of_a_missing_template_is_404(admin) -> None:
    client, token = admin
    answer = replace(client, token, png(), slug="nope")
    assert answer.status_code == 404 and answer.json()["error"] == "template_not_found"


def test_cli_replace_image_saves_the_next_version_and_refuses_a_non_image(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    templates = TemplateStore(LocalStore(tmp_path / "store"))
    code = {"id": "code", "source": "coupon", "box": {"x": 140, "y": 900, "w": 800, "h": 200}}
    meta = TemplateMeta(
        slug="black-friday", name="Black Friday", image_key="templates/black-friday/background.png",
        width=1080, height=1350, text_areas=[code],
    )
    templates.save(meta, png(1080, 1350))
    good, bad = tmp_path / "wide.png", tmp_path / "notes.txt"
    good.write_bytes(png(1920, 1080))
    bad.write_text("not a picture")
    runner = CliRunner()
    try:
        done = runner.invoke(
            cli_app, ["templates", "replace-image", "black-friday", str(good)], env={"COLUMNS": "200"}
        )
        refused = runner.invoke(cli_app, ["templates", "replace-image", "black-friday", str(bad)])
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    assert "new background 1920x1080, version 2" in done.stdout and "check code" in done.stdout
    assert refused.exit_code == 1 and "not a PNG, JPEG or WebP" in refused.stderr
    assert templates.get("black-friday").version == 2
