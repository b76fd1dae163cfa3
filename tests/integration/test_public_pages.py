"""The public pages as served HTML: the gallery and each template's generator page."""

from __future__ import annotations

import json
import re

from tests.integration.public_world import PublicWorld, world  # noqa: F401 (fixture)


def test_gallery_links_every_web_template_and_hides_the_rest(world: PublicWorld) -> None:
    page = world.client.get("/")
    assert page.status_code == 200
    for meta in world.templates:
        shown = f'href="http://testserver/t/{meta.slug}"' in page.text
        assert shown == meta.visibility.web, meta.slug
    assert "Black Friday" in page.text


def test_generator_page_has_a_field_per_text_area_with_the_coupon_first(world: PublicWorld) -> None:
    meta = world.template("black-friday")
    page = world.client.get("/t/black-friday")
    assert page.status_code == 200
    fields = re.findall(r'data-area="([a-z_]+)"', page.text)
    assert sorted(fields) == sorted(a.id for a in meta.text_areas)
    assert fields[0] == meta.coupon_area.id
    # The limit is announced and counted by the page, never enforced by cutting the text.
    assert f'data-max-chars="{meta.coupon_area.max_chars}"' in page.text and 'maxlength' not in page.text
    # A shared link shows the template's thumbnail.
    assert f'og:image" content="http://testserver/api/templates/black-friday/preview?v={meta.version}"' in page.text


def test_generator_page_declares_the_server_fonts_and_embeds_the_meta(world: PublicWorld) -> None:
    page = world.client.get("/t/black-friday").text
    data = json.loads(re.search(r'<script type="application/json" id="template-meta">(.*?)</script>', page, re.DOTALL)[1])
    assert data["meta"]["slug"] == "black-friday"
    assert '<link rel="stylesheet" href="http://testserver/fonts/fonts.css">' in page
    faces = world.client.get("/fonts/fonts.css").text
    for name, font in data["fonts"].items():
        assert f'font-family: "{name}"; src: url("{font["url"]}")' in faces
        assert world.client.get(font["url"]).status_code == 200
    # Each area's font is there, and so is the font its missing characters fall back to.
    for area in data["meta"]["text_areas"]:
        assert area["font"] in data["fonts"]
        assert data["fonts"][area["font"]]["fallback"] in data["fonts"]


def test_unknown_or_hidden_template_page_is_a_404_page_linking_the_gallery(world: PublicWorld) -> None:
    for slug in ("no-such-thing", "bot-only", "Not_A_Slug"):
        page = world.client.get(f"/t/{slug}")
        assert page.status_code == 404
        assert f"no template called “{slug}”" in page.text
        assert 'href="http://testserver/"' in page.text


def test_gallery_without_templates_says_so(runtime) -> None:  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    from webapp.app import create_app

    with TestClient(create_app(runtime.settings)) as client:
        page = client.get("/")
    assert page.status_code == 200 and "No templates yet" in page.text
