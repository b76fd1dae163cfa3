"""render_template: what a user sees in the finished image, and every input it refuses."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image, ImageChops

from promostack.render import BadImage, RenderError, TextDoesNotFit, render_template
from promostack.templates.schema import TemplateMeta

GREY = (128, 128, 128)


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def background(size: tuple[int, int] = (400, 300), color: tuple[int, int, int] = GREY) -> bytes:
    return png(Image.new("RGB", size, color))


def template(
    *areas: dict[str, Any], logo: dict[str, Any] | None = None, size: tuple[int, int] = (400, 300)
) -> TemplateMeta:
    if not areas:
        areas = ({"id": "code", "source": "coupon", "box": {"x": 40, "y": 60, "w": 320, "h": 120}},)
    return TemplateMeta(
        slug="test",
        name="Test",
        image_key="templates/test/bg.png",
        width=size[0],
        height=size[1],
        text_areas=list(areas),
        logo_area=logo,
    )


def decode(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def ink(
    image: Image.Image, color: tuple[int, int, int], tolerance: int = 12
) -> tuple[int, int, int, int] | None:
    """The bounding box of pixels within `tolerance` of `color`."""
    target = Image.new("RGB", image.size, color)
    diff = ImageChops.difference(image, target).convert("L")
    return diff.point(lambda v: 255 if v <= tolerance else 0).getbbox()


def test_text_is_drawn_in_its_colour_inside_its_box() -> None:
    meta = template({"id": "code", "box": {"x": 40, "y": 60, "w": 320, "h": 120}, "color": "#ff0000"})
    box = ink(decode(render_template(meta, background(), {"code": "SAVE20"})), (255, 0, 0))
    assert box is not None
    left, top, right, bottom = box
    assert 40 <= left and right <= 360 and 60 <= top and bottom <= 180
    assert right - left > 200, "the code should fill most of the box width"


def test_missing_text_uses_the_default_and_empty_text_draws_nothing() -> None:
    meta = template(
        {
            "id": "code",
            "default_text": "HELLO",
            "box": {"x": 40, "y": 60, "w": 320, "h": 120},
            "color": "#ff0000",
        }
    )
    assert ink(decode(render_template(meta, background(), {})), (255, 0, 0)) is not None
    blank = decode(render_template(meta, background(), {"code": "   "}))
    assert ImageChops.difference(blank, Image.new("RGB", (400, 300), GREY)).getbbox() is None


@pytest.mark.parametrize("align", ["left", "right"])
def test_alignment_is_visible_in_the_pixels(align: str) -> None:
    meta = template(
        {
            "id": "t",
            "box": {"x": 40, "y": 60, "w": 320, "h": 120},
            "color": "#ff0000",
            "align": align,
            "max_size": 40,
        }
    )
    left, _, right, _ = ink(decode(render_template(meta, background(), {"t": "Hi"})), (255, 0, 0))
    if align == "left":
        assert 40 <= left <= 48
    else:
        assert 352 <= right <= 360


def test_stroke_is_drawn_around_the_text() -> None:
    area = {"id": "t", "box": {"x": 40, "y": 60, "w": 320, "h": 120}, "color": "#ffffff", "max_size": 80}
    plain = decode(render_template(template(area), background(), {"t": "SALE"}))
    stroked = decode(
        render_template(
            template({**area, "stroke_width": 6, "stroke_color": "#0000ff"}), background(), {"t": "SALE"}
        )
    )
    assert ink(plain, (0, 0, 255)) is None
    blue = ink(stroked, (0, 0, 255))
    white = ink(stroked, (255, 255, 255))
    assert blue is not None and white is not None
    # The stroke surrounds the fill on every side.
    assert blue[0] < white[0] and blue[1] < white[1] and blue[2] > white[2] and blue[3] > white[3]


def test_shadow_is_the_text_shape_shifted_by_its_offset() -> None:
    area = {
        "id": "t",
        "box": {"x": 40, "y": 60, "w": 320, "h": 120},
        "color": "#ffffff",
        "max_size": 60,
        "shadow": {"dx": 12, "dy": 9, "color": "#000000"},
    }
    out = decode(render_template(template(area), background(), {"t": "SALE"}))
    white, black = ink(out, (255, 255, 255)), ink(out, (0, 0, 0))
    assert white is not None and black is not None
    assert black[2] - white[2] == pytest.approx(12, abs=1)
    assert black[3] - white[3] == pytest.approx(9, abs=1)


def test_shadow_and_text_colours_keep_their_alpha() -> None:
    area = {
        "id": "t",
        "box": {"x": 40, "y": 60, "w": 320, "h": 120},
        "color": "#ffffff80",
        "max_size": 100,
        "shadow": {"dx": 40, "dy": 0, "color": "#00000080"},
    }
    out = decode(render_template(template(area), background(color=(0, 0, 0)), {"t": "I"}))
    assert ink(out, (128, 128, 128), tolerance=3) is not None, "half-transparent white on black is grey"
    assert ink(out, (255, 255, 255), tolerance=40) is None


def _stripes(size: tuple[int, int]) -> bytes:
    """A logo of three equal vertical stripes: red, green, blue."""
    logo = Image.new("RGBA", size)
    third = size[0] // 3
    for i, color in enumerate([(255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 255)]):
        logo.paste(color, (i * third, 0, (i + 1) * third, size[1]))
    return png(logo)


def test_logo_contain_keeps_its_aspect_ratio_centred_in_the_box() -> None:
    meta = template(logo={"box": {"x": 100, "y": 50, "w": 200, "h": 200}, "fit": "contain"})
    out = decode(render_template(meta, background(), {"code": ""}, logo=_stripes((300, 100))))
    red, green, blue = ink(out, (255, 0, 0)), ink(out, (0, 255, 0)), ink(out, (0, 0, 255))
    whole = (red[0], red[1], blue[2], blue[3])
    assert whole[2] - whole[0] == pytest.approx(200, abs=1)
    assert whole[3] - whole[1] == pytest.approx(67, abs=2)  # 300:100 scaled to width 200
    assert whole[1] - 50 == pytest.approx(250 - whole[3], abs=1)  # centred vertically
    assert green[2] - green[0] == pytest.approx(67, abs=3)


def test_logo_cover_fills_the_box_and_crops_the_sides() -> None:
    meta = template(logo={"box": {"x": 100, "y": 50, "w": 200, "h": 200}, "fit": "cover"})
    out = decode(render_template(meta, background(), {"code": ""}, logo=_stripes((300, 100))))
    # Scaled to 600x200, the centre 200 pixels are the green stripe (resampling softens its
    # outermost columns), and no background shows through anywhere in the box.
    green = ink(out, (0, 255, 0))
    assert green[1:4:2] == (50, 250) and abs(green[0] - 100) <= 2 and abs(green[2] - 300) <= 2
    assert ink(out, (255, 0, 0)) is None and ink(out, (0, 0, 255)) is None
    assert ink(out.crop((100, 50, 300, 250)), GREY, tolerance=30) is None


@pytest.mark.parametrize(
    ("fmt", "kind", "mode"), [("png", "PNG", "RGB"), ("jpeg", "JPEG", "RGB"), ("webp", "WEBP", "RGB")]
)
def test_every_format_decodes_at_the_template_size(fmt: str, kind: str, mode: str) -> None:
    data = render_template(template(), background(), {"code": "SAVE20"}, fmt=fmt, quality=80)
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size, image.mode) == (kind, (400, 300), mode)


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_same_inputs_give_the_same_bytes(fmt: str) -> None:
    meta = template(
        {
            "id": "t",
            "box": {"x": 20, "y": 20, "w": 360, "h": 200},
            "wrap": True,
            "stroke_width": 3,
            "shadow": {},
        },
        logo={"box": {"x": 10, "y": 230, "w": 100, "h": 60}},
    )
    args = (meta, background(), {"t": "Same in, same out ☺"})
    assert render_template(*args, logo=_stripes((90, 30)), fmt=fmt) == render_template(
        *args, logo=_stripes((90, 30)), fmt=fmt
    )


def test_transparent_background_stays_transparent_in_png() -> None:
    clear = png(Image.new("RGBA", (400, 300), (0, 0, 0, 0)))
    image = Image.open(io.BytesIO(render_template(template(), clear, {"code": "X"})))
    assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0


def test_see_through_ink_on_an_opaque_rgba_background_leaves_it_opaque() -> None:
    opaque = png(Image.new("RGBA", (400, 300), (0, 0, 0, 255)))
    area = {"id": "t", "box": {"x": 40, "y": 60, "w": 320, "h": 120}, "color": "#ffffff80", "max_size": 100}
    image = Image.open(io.BytesIO(render_template(template(area), opaque, {"t": "I"})))
    assert image.getchannel("A").getextrema() == (255, 255), "the PNG must not get see-through patches"
    assert ink(image.convert("RGB"), (128, 128, 128), tolerance=3) is not None, "still grey, as on RGB"


def test_see_through_text_on_a_transparent_background_keeps_its_own_alpha() -> None:
    clear = png(Image.new("RGBA", (400, 300), (0, 0, 0, 0)))
    area = {"id": "t", "box": {"x": 40, "y": 60, "w": 320, "h": 120}, "color": "#ff000080", "max_size": 100}
    image = Image.open(io.BytesIO(render_template(template(area), clear, {"t": "I"})))
    red = [p for p in image.getdata() if p[3] > 0]
    assert red and max(p[3] for p in red) == 128 and all(p[:3] == (255, 0, 0) for p in red if p[3] == 128)


# --- refusals -----------------------------------------------------------------------------


def test_unknown_area_id_is_refused_naming_it_and_the_known_ones() -> None:
    with pytest.raises(RenderError, match=r"no text area 'headline'; its areas are code"):
        render_template(template(), background(), {"headline": "Hi"})


def test_a_text_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(RenderError, match="the text for 'code' must be a string"):
        render_template(template(), background(), {"code": 20})  # type: ignore[dict-item]


def test_unknown_font_is_refused() -> None:
    meta = template({"id": "t", "font": "Papyrus", "box": {"x": 0, "y": 0, "w": 100, "h": 100}})
    with pytest.raises(RenderError, match="unknown font 'Papyrus'"):
        render_template(meta, background(), {"t": "hi"})


def test_corrupt_background_is_a_bad_image_naming_the_background() -> None:
    data = background()
    with pytest.raises(BadImage, match="^background: "):
        render_template(template(), data[: len(data) // 3], {"code": "X"})


def test_background_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(RenderError, match=r"is 500x300 but the template says 400x300"):
        render_template(template(), background((500, 300)), {"code": "X"})


def test_non_image_logo_is_refused() -> None:
    meta = template(logo={"box": {"x": 0, "y": 0, "w": 50, "h": 50}})
    with pytest.raises(BadImage, match="^logo: the file is not a PNG"):
        render_template(meta, background(), {"code": "X"}, logo=b"<svg></svg>")


def test_oversized_logo_bytes_are_refused() -> None:
    meta = template(logo={"box": {"x": 0, "y": 0, "w": 50, "h": 50}})
    with pytest.raises(BadImage, match="^logo: .*limit is 15,000,000"):
        render_template(meta, background(), {"code": "X"}, logo=b"\x89PNG" + bytes(16_000_000))


def test_decompression_bomb_logo_is_refused() -> None:
    meta = template(logo={"box": {"x": 0, "y": 0, "w": 50, "h": 50}})
    with pytest.raises(BadImage, match="^logo: the image is too large"):
        render_template(meta, background(), {"code": "X"}, logo=png(Image.new("1", (10_000, 5_000))))


def test_logo_for_a_template_without_a_logo_area_is_refused() -> None:
    with pytest.raises(RenderError, match="has no logo area"):
        render_template(template(), background(), {"code": "X"}, logo=_stripes((30, 30)))


def test_absurdly_long_text_is_refused() -> None:
    with pytest.raises(RenderError, match="more than its limit of 120"):
        render_template(template(), background(), {"code": "A" * 1_000_000})


def test_text_that_does_not_fit_is_refused_before_any_image_is_read() -> None:
    meta = template({"id": "code", "box": {"x": 0, "y": 0, "w": 60, "h": 30}, "min_size": 24})
    with pytest.raises(TextDoesNotFit, match="'code'"):
        render_template(meta, b"not even an image", {"code": "FARTOOLONGCODE"})


def test_unsupported_characters_are_refused_by_name() -> None:
    with pytest.raises(RenderError, match=r"'🚀' \(U\+1F680 ROCKET\)"):
        render_template(
            template(
                {"id": "code", "font": "BebasNeue-Regular", "box": {"x": 0, "y": 0, "w": 300, "h": 100}}
            ),
            background(),
            {"code": "WIN 🚀"},
        )


@pytest.mark.parametrize(
    ("options", "message"),
    [({"fmt": "gif"}, "unsupported output format"), ({"quality": 0}, "quality 0 is out of range")],
)
def test_bad_output_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(RenderError, match=message):
        render_template(template(), background(), {"code": "X"}, **options)


def _glyph_extent(font_name: str, size: int, text: str) -> tuple[int, int]:
    """Width and height of the ink Pillow draws for `text` in `font_name`, thresholded like `ink`."""
    from PIL import ImageDraw, ImageFont

    from promostack.render import font_path

    canvas = Image.new("L", (size * 3, size * 3), 0)
    font = ImageFont.truetype(str(font_path(font_name)), size)
    ImageDraw.Draw(canvas).text((size, size * 2), text, font=font, fill=255, anchor="ls")
    left, top, right, bottom = canvas.point(lambda v: 255 if v >= 155 else 0).getbbox()
    return right - left, bottom - top


def test_a_character_the_font_lacks_is_drawn_from_the_fallback_not_as_a_box() -> None:
    from promostack.render import fit_text

    area = {
        "id": "t",
        "box": {"x": 40, "y": 60, "w": 320, "h": 120},
        "color": "#ff0000",
        "font": "Inter-Bold",
    }
    meta = template(area)
    size = fit_text("☺", meta.text_areas[0]).size
    left, top, right, bottom = ink(decode(render_template(meta, background(), {"t": "☺"})), (255, 0, 0), 100)
    smiley = _glyph_extent("DejaVuSans-Bold", size, "☺")
    tofu = _glyph_extent("Inter-Bold", size, "☺")
    assert abs((right - left) - smiley[0]) <= 2 and abs((bottom - top) - smiley[1]) <= 2
    assert abs((right - left) - tofu[0]) > 4 or abs((bottom - top) - tofu[1]) > 4


def test_text_and_shadow_at_the_image_edge_are_clipped_not_refused() -> None:
    area = {
        "id": "t",
        "box": {"x": 0, "y": 0, "w": 200, "h": 80},
        "color": "#ffffff",
        "stroke_width": 4,
        "stroke_color": "#0000ff",
        "shadow": {"dx": -30, "dy": -30, "color": "#00000080"},
    }
    out = decode(render_template(template(area), background(), {"t": "EDGE"}))
    assert ink(out, (255, 255, 255)) is not None and ink(out, (0, 0, 255)) is not None
    assert ink(out, (64, 64, 64), tolerance=3) is not None, "the half-clipped shadow is still drawn"


def test_stroke_and_shadow_on_a_transparent_background_keep_their_colours() -> None:
    area = {
        "id": "t",
        "box": {"x": 40, "y": 60, "w": 320, "h": 120},
        "color": "#ff0000",
        "stroke_width": 5,
        "stroke_color": "#0000ff",
        "shadow": {"dx": 15, "dy": 15, "color": "#00ff00"},
    }
    clear = png(Image.new("RGBA", (400, 300), (0, 0, 0, 0)))
    out = Image.open(io.BytesIO(render_template(template(area), clear, {"t": "SALE"})))
    opaque = out.convert("RGB")
    alpha = out.getchannel("A")
    assert alpha.getpixel((0, 0)) == 0
    for color in [(255, 0, 0), (0, 0, 255), (0, 255, 0)]:
        box = ink(opaque, color)
        assert box is not None and alpha.crop(box).getextrema()[1] == 255, color
