"""A new background: the upload check, and how a template's areas are carried over to its size."""

import io

import pytest
from PIL import Image

from promostack.render import BadImage
from promostack.templates.background import (
    MAX_BACKGROUND_BYTES,
    BackgroundTooBig,
    ImageTooLarge,
    NotAnImage,
    read_background,
    refit_areas,
)
from promostack.templates.schema import TemplateMeta


def encoded(width: int, height: int, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "#224466").save(out, fmt)
    return out.getvalue()


def template(width: int = 1080, height: int = 1350, logo: dict | None = None) -> TemplateMeta:
    return TemplateMeta(
        slug="black-friday",
        name="Black Friday",
        image_key="templates/black-friday/background.png",
        width=width,
        height=height,
        text_areas=[
            {
                "id": "code",
                "source": "coupon",
                "box": {"x": 140, "y": 900, "w": 800, "h": 200},
                "min_size": 20,
                "max_size": 160,
                "stroke_width": 6,
                "shadow": {"dx": 4, "dy": 6},
            },
            {"id": "headline", "box": {"x": 100, "y": 100, "w": 400, "h": 120}},
        ],
        logo_area=logo,
    )


@pytest.mark.parametrize(("fmt", "suffix"), [("PNG", ".png"), ("JPEG", ".jpg"), ("WEBP", ".webp")])
def test_an_upload_is_known_by_its_bytes_with_its_size(fmt: str, suffix: str) -> None:
    background = read_background(encoded(300, 200, fmt))
    assert (background.suffix, background.width, background.height) == (suffix, 300, 200)


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"GIF89a not what a template takes", NotAnImage, "not a PNG, JPEG or WebP"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (MAX_BACKGROUND_BYTES + 1), ImageTooLarge, "limit is 15 MB"),
        (encoded(4100, 10), BackgroundTooBig, "at most 4096 px a side"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, BadImage, "PNG"),
    ],
    ids=["not-an-image", "oversized", "too-wide", "corrupt"],
)
def test_a_bad_upload_is_refused_with_its_reason(data: bytes, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        read_background(data)


def test_the_same_size_changes_no_area() -> None:
    meta = template()
    refitted, refit = refit_areas(meta, 1080, 1350)
    assert refitted.text_areas == meta.text_areas
    assert (refit.areas, refit.needs_review) == ("unchanged", [])
    assert refit.summary == "Same size (1080x1350): the areas are unchanged."


def test_a_larger_image_of_the_same_shape_scales_boxes_type_strokes_and_shadows() -> None:
    meta = template(logo={"box": {"x": 900, "y": 20, "w": 160, "h": 80}})
    refitted, refit = refit_areas(meta, 2160, 2700)
    code = refitted.area("code")
    assert code.box.model_dump() == {"x": 280, "y": 1800, "w": 1600, "h": 400}
    assert (code.min_size, code.max_size, code.stroke_width) == (40, 320, 12)
    assert code.shadow is not None and (code.shadow.dx, code.shadow.dy) == (8, 12)
    assert refitted.logo_area is not None
    assert refitted.logo_area.box.model_dump() == {"x": 1800, "y": 40, "w": 320, "h": 160}
    assert (refitted.width, refitted.height) == (2160, 2700)
    assert (refit.areas, refit.needs_review) == ("scaled", [])


def test_scaling_down_keeps_type_sizes_within_the_schema() -> None:
    refitted, _ = refit_areas(template(), 108, 135)
    code = refitted.area("code")
    assert code.min_size == 4 and code.max_size == 16  # 20 / 10 would be 2, below the schema's 4
    assert code.box.model_dump() == {"x": 14, "y": 90, "w": 80, "h": 20}


def test_a_one_pixel_crop_scales_rather_than_flagging_every_area() -> None:
    refitted, refit = refit_areas(template(), 1079, 1350)
    assert refit.areas == "scaled" and refit.needs_review == []
    code = refitted.area("code")
    assert code.box.x + code.box.w <= 1079


def test_another_shape_keeps_areas_in_place_and_flags_only_those_moved_to_fit() -> None:
    meta = template(logo={"box": {"x": 900, "y": 20, "w": 160, "h": 80}})
    refitted, refit = refit_areas(meta, 1080, 1080)
    assert refit.areas == "kept"
    assert refitted.area("headline").box == meta.area("headline").box  # it still fits: not flagged
    assert refitted.area("code").box.model_dump() == {"x": 140, "y": 880, "w": 800, "h": 200}
    assert refitted.area("code").max_size == 160  # type is not scaled either
    assert [(r.area, r.reason) for r in refit.needs_review] == [
        ("code", "moved to fit inside the new 1080x1080 image")
    ]
    assert "check code (moved to fit inside the new 1080x1080 image)" in refit.summary


def test_an_area_larger_than_the_new_image_is_shrunk_to_it_and_flagged() -> None:
    refitted, refit = refit_areas(template(), 600, 1350)
    assert refitted.area("code").box.model_dump() == {"x": 0, "y": 900, "w": 600, "h": 200}
    assert [(r.area, r.reason.split(" to ")[0]) for r in refit.needs_review] == [("code", "moved and shrunk")]


def test_a_logo_area_moved_to_fit_is_flagged_by_its_name() -> None:
    _, refit = refit_areas(template(logo={"box": {"x": 900, "y": 20, "w": 160, "h": 80}}), 1000, 1350)
    assert "logo_area" in [r.area for r in refit.needs_review]
