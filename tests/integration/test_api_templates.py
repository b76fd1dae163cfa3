"""GET /api/templates, /api/templates/<slug>, its image, and /api/fonts: what the page and any
integration read to know the templates."""

from __future__ import annotations

import io

from PIL import Image

from tests.integration.public_world import PublicWorld, world  # noqa: F401 (fixture)


def test_list_shows_only_templates_visible_on_the_web(world: PublicWorld) -> None:
    listed = world.client.get("/api/templates")
    assert listed.status_code == 200
    slugs = [t["slug"] for t in listed.json()["templates"]]
    assert sorted(slugs) == sorted(t.slug for t in world.templates if t.visibility.web)
    assert "bot-only" not in slugs


def test_one_template_gives_its_text_areas_and_size(world: PublicWorld) -> None:
    meta = world.template("black-friday")
    answer = world.client.get("/api/templates/black-friday")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["width"], body["height"]) == (meta.width, meta.height)
    assert [a["id"] for a in body["text_areas"]] == [a.id for a in meta.text_areas]


def test_unknown_and_hidden_templates_are_404_with_a_message(world: PublicWorld) -> None:
    for slug in ("no-such-template", "bot-only", "Bad_Slug!"):
        answer = world.client.get(f"/api/templates/{slug}")
        assert answer.status_code == 404, slug
        assert answer.json()["error"] == "template_not_found"
        assert slug in answer.json()["message"]


def test_template_image_is_the_png_background_at_template_size(world: PublicWorld) -> None:
    meta = world.template("summer-sale")
    answer = world.client.get(f"/api/templates/summer-sale/image?v={meta.version}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert "max-age" in answer.headers["cache-control"]
    assert Image.open(io.BytesIO(answer.content)).size == (meta.width, meta.height)


def test_hidden_template_image_is_not_served(world: PublicWorld) -> None:
    assert world.client.get("/api/templates/bot-only/image").status_code == 404


def test_fonts_list_the_files_the_page_can_load(world: PublicWorld) -> None:
    fonts = world.client.get("/api/fonts").json()["fonts"]
    inter = fonts["Inter-Bold"]
    assert inter["units_per_em"] > 0 and inter["ascender"] > 0 > inter["descender"]
    served = world.client.get(inter["url"])
    assert served.status_code == 200
    assert served.content[:4] in (b"OTTO", b"\x00\x01\x00\x00")
    assert world.client.get("/fonts/No-Such-Font").status_code == 404
    assert world.client.get("/fonts/..%2Fconfig").status_code == 404


def test_gallery_preview_is_a_jpeg_thumbnail_showing_the_sample_texts(world: PublicWorld) -> None:
    meta = world.template("black-friday")
    answer = world.client.get(f"/api/templates/black-friday/preview?v={meta.version}")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    thumb = Image.open(io.BytesIO(answer.content)).convert("RGB")
    assert thumb.width == 720 and abs(thumb.height - round(720 * meta.height / meta.width)) <= 1
    background = Image.open(io.BytesIO(world.client.get("/api/templates/black-friday/image").content)).convert("RGB")
    background.thumbnail(thumb.size)
    # The sample texts are drawn: the thumbnail differs from the bare background where they go.
    area = meta.area("code").box
    scale = thumb.width / meta.width
    region = (int(area.x * scale), int(area.y * scale), int((area.x + area.w) * scale), int((area.y + area.h) * scale))
    drawn, bare = thumb.crop(region).tobytes(), background.resize(thumb.size).crop(region).tobytes()
    changed = sum(abs(a - b) > 40 for a, b in zip(drawn, bare)) / len(drawn)
    assert changed > 0.05
    assert world.client.get("/api/templates/bot-only/preview").status_code == 404


def test_gallery_and_images_come_from_s3_storage_too(s3_settings, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    from promostack.runtime import build_runtime
    from tests.integration.public_world import seed_templates
    from webapp.app import create_app

    settings = s3_settings.model_copy(update={"database_url": sqlite_url})
    rt = build_runtime(settings)
    metas = {m.slug: m for m in seed_templates(rt)}
    rt.close()
    with TestClient(create_app(settings)) as client:
        slugs = [t["slug"] for t in client.get("/api/templates").json()["templates"]]
        assert sorted(slugs) == sorted(s for s, m in metas.items() if m.visibility.web)
        image = client.get("/api/templates/welcome-offer/image")
        assert Image.open(io.BytesIO(image.content)).size == (metas["welcome-offer"].width, metas["welcome-offer"].height)
        assert "Welcome offer" in client.get("/").text
