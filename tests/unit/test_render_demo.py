"""The demo templates a new user sees first: valid metas, matching images, and they render."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from promostack.render import render_template
from promostack.templates.demo import DEMO_DIR
from promostack.templates.demo.build import build
from promostack.templates.schema import TemplateMeta

DEMOS = sorted(p.parent for p in DEMO_DIR.glob("*/meta.json"))


def load(folder: Path) -> tuple[TemplateMeta, bytes]:
    meta = TemplateMeta.model_validate_json((folder / "meta.json").read_text(encoding="utf-8"))
    return meta, (folder / meta.image_key.rsplit("/", 1)[1]).read_bytes()


def test_there_are_at_least_three_demos_in_more_than_one_shape() -> None:
    metas = [load(folder)[0] for folder in DEMOS]
    assert len(metas) >= 3
    assert (1080, 1080) in {(m.width, m.height) for m in metas}
    assert len({(m.width, m.height) for m in metas}) >= 2
    assert any(m.logo_area for m in metas)


@pytest.mark.parametrize("folder", DEMOS, ids=lambda p: p.name)
def test_demo_meta_matches_its_folder_and_image(folder: Path) -> None:
    meta, image = load(folder)
    assert meta.slug == folder.name
    assert meta.image_key == f"templates/{folder.name}/background.png"
    assert meta.coupon_area is not None and len(meta.text_areas) >= 2
    assert Image.open(io.BytesIO(image)).size == (meta.width, meta.height)


@pytest.mark.parametrize("folder", DEMOS, ids=lambda p: p.name)
def test_demo_renders_a_typical_coupon_and_changes_the_picture(folder: Path) -> None:
    meta, image = load(folder)
    logo = io.BytesIO()
    Image.new("RGBA", (300, 120), (20, 20, 20, 255)).save(logo, "PNG")
    out = render_template(
        meta, image, {meta.coupon_area.id: "WELCOME-2026"}, logo=logo.getvalue() if meta.logo_area else None
    )
    rendered = Image.open(io.BytesIO(out)).convert("RGB")
    box = meta.coupon_area.box
    region = (box.x, box.y, box.x + box.w, box.y + box.h)
    before = Image.open(io.BytesIO(image)).convert("RGB").crop(region)
    assert rendered.crop(region).tobytes() != before.tobytes(), "the coupon code was not drawn"


@pytest.mark.parametrize("folder", DEMOS, ids=lambda p: p.name)
def test_demo_takes_the_longest_code_its_coupon_area_allows(folder: Path) -> None:
    meta, image = load(folder)
    area = meta.coupon_area
    out = render_template(meta, image, {area.id: "W" * area.max_chars})  # widest capital, every slot
    assert Image.open(io.BytesIO(out)).size == (meta.width, meta.height)


def test_generator_reproduces_the_shipped_files(tmp_path: Path) -> None:
    build(tmp_path)
    for folder in DEMOS:
        for name in ("meta.json", "background.png"):
            assert (tmp_path / folder.name / name).read_bytes() == (folder / name).read_bytes(), (
                folder.name,
                name,
            )
    json.loads((tmp_path / DEMOS[0].name / "meta.json").read_text())
