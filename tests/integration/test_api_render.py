"""POST /api/render: the finished image through the render-promo flow, and a clear answer for
every way a request can be wrong (400/404/413/422) or the coupon service down (503)."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from starlette.testclient import TestClient

from promostack.db import GenerationEvent
from promostack.templates.store import TemplateStore
from tests.conftest import make_settings
from tests.fakes.funderpro import FakeFunderPro, run_fake_funderpro
from tests.integration.public_world import (  # noqa: F401 (fixture)
    EXPIRED_CODE,
    VALID_CODE,
    PublicWorld,
    demo_templates,
    world,
)

pytestmark = pytest.mark.usefixtures("prefect_harness")


def events(world: PublicWorld) -> list[GenerationEvent]:
    """Every generation event recorded so far, oldest first."""
    with world.runtime.sessions() as session:
        return list(session.scalars(select(GenerationEvent).order_by(GenerationEvent.id)))


def png_logo() -> str:
    """A small opaque PNG logo as base64."""
    out = io.BytesIO()
    Image.new("RGB", (80, 40), (0, 200, 120)).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def test_render_gives_a_png_of_template_size_and_records_an_api_event(world: PublicWorld) -> None:
    meta = world.template("black-friday")
    answer = world.client.post(
        "/api/render", json={"template": "black-friday", "code": VALID_CODE.lower(), "texts": {"headline": "Hi"}}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(answer.content))
    assert image.format == "PNG" and image.size == (meta.width, meta.height)
    [event] = events(world)
    assert (event.channel, event.template_slug, event.coupon_code, event.success) == (
        "api", "black-friday", VALID_CODE, True,
    )


def test_jpeg_with_quality_and_the_web_channel(world: PublicWorld) -> None:
    answer = world.client.post(
        "/api/render",
        json={"template": "summer-sale", "code": VALID_CODE, "format": "jpeg", "quality": 70, "channel": "web"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(answer.content)).format == "JPEG"
    assert [e.channel for e in events(world)] == ["web"]


def test_a_logo_is_drawn_into_the_logo_area(world: PublicWorld) -> None:
    body = {"template": "black-friday", "code": VALID_CODE}
    plain = Image.open(io.BytesIO(world.client.post("/api/render", json=body).content)).convert("RGB")
    with_logo = world.client.post("/api/render", json={**body, "logo": f"data:image/png;base64,{png_logo()}"})
    assert with_logo.status_code == 200, with_logo.text
    box = world.template("black-friday").logo_area.box
    centre = (box.x + box.w // 2, box.y + box.h // 2)
    assert Image.open(io.BytesIO(with_logo.content)).convert("RGB").getpixel(centre) == (0, 200, 120)
    assert plain.getpixel(centre) != (0, 200, 120)


def test_invalid_coupon_is_422_naming_the_code_and_gives_no_image(world: PublicWorld) -> None:
    answer = world.client.post("/api/render", json={"template": "black-friday", "code": EXPIRED_CODE})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"] == "invalid_coupon" and answer.json()["field"] == "code"
    # The same sentence for expired and unknown codes: a stranger cannot tell which exist.
    assert answer.json()["message"] == f"{EXPIRED_CODE} is not a valid coupon code."
    assert [e.success for e in events(world)] == [False]


def test_text_that_does_not_fit_is_422_naming_the_area(world: PublicWorld) -> None:
    # One 60-character word cannot be broken, and is far wider than the box at the minimum size.
    answer = world.client.post(
        "/api/render", json={"template": "black-friday", "code": VALID_CODE, "texts": {"headline": "W" * 60}}
    )
    assert answer.status_code == 422
    assert answer.json()["error"] == "text_does_not_fit"
    assert answer.json()["field"] == "texts.headline"


def test_text_over_the_character_limit_is_422(world: PublicWorld) -> None:
    answer = world.client.post(
        "/api/render", json={"template": "black-friday", "code": VALID_CODE, "texts": {"headline": "a " * 61}}
    )
    assert answer.status_code == 422
    assert "headline" in answer.json()["message"] and "limit" in answer.json()["message"]


@pytest.mark.parametrize("slug", ["no-such-template", "bot-only", "../etc"])
def test_unknown_or_hidden_template_is_404(world: PublicWorld, slug: str) -> None:
    answer = world.client.post("/api/render", json={"template": slug, "code": VALID_CODE})
    assert answer.status_code == 404
    assert answer.json()["field"] == "template"
    assert events(world) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": VALID_CODE}, "template"),
        ({"template": "black-friday"}, "code"),
        ({"template": "black-friday", "code": VALID_CODE, "format": "gif"}, "format"),
        ({"template": "black-friday", "code": VALID_CODE, "quality": 0}, "quality"),
        ({"template": "black-friday", "code": VALID_CODE, "texts": ["headline"]}, "texts"),
        ({"template": "black-friday", "code": VALID_CODE, "texts": {"headline": 5}}, "texts.headline"),
        ({"template": "black-friday", "code": VALID_CODE, "colour": "red"}, "colour"),
        ({"template": "black-friday", "code": VALID_CODE, "logo": "not base64!"}, "logo"),
    ],
)
def test_wrong_fields_are_400_naming_the_field(world: PublicWorld, body: dict, field: str) -> None:
    answer = world.client.post("/api/render", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field
    assert field in answer.json()["message"]


def test_malformed_json_is_400(world: PublicWorld) -> None:
    answer = world.client.post("/api/render", content=b"{template: x}", headers={"content-type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"] == "malformed_json"


def test_a_logo_that_is_not_an_image_is_422(world: PublicWorld) -> None:
    body = {"template": "black-friday", "code": VALID_CODE, "logo": base64.b64encode(b"hello").decode()}
    answer = world.client.post("/api/render", json=body)
    assert answer.status_code == 422 and answer.json()["field"] == "logo"


def test_oversized_body_is_413_and_renders_nothing(world: PublicWorld) -> None:
    huge = "A" * (9 * 1024 * 1024)
    answer = world.client.post("/api/render", json={"template": "black-friday", "code": VALID_CODE, "logo": huge})
    assert answer.status_code == 413
    assert events(world) == []


@pytest.fixture
def outage_client(tmp_path: Path, sqlite_url: str) -> Iterator[TestClient]:
    """A client on an app whose coupon service (the fake FunderPro) answers 503 to everything."""
    from promostack.runtime import build_runtime
    from webapp.app import create_app

    with run_fake_funderpro(FakeFunderPro(codes={"FP20": (True, None, 20.0)}, mode="5xx")) as fake:
        settings = make_settings(
            tmp_path,
            database_url=sqlite_url,
            coupon_validator="funderpro",
            funderpro_product_id=fake.product_id,
            funderpro_api_base=fake.base_url,
        )
        rt = build_runtime(settings)
        store = TemplateStore(rt.store)
        for meta, image in demo_templates():
            store.save(meta, image)
        rt.close()
        with TestClient(create_app(settings)) as client:
            yield client


def test_validation_outage_is_503_with_a_clear_message(outage_client: TestClient) -> None:
    answer = outage_client.post("/api/render", json={"template": "black-friday", "code": "FP20"})
    assert answer.status_code == 503
    assert answer.json()["error"] == "coupon_service_unavailable"
    assert "try again" in answer.json()["message"]
