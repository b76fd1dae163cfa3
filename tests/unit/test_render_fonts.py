"""The shipped fonts: the manifest, coverage from the cmap, fallback per run, refusals by name."""

from __future__ import annotations

import json

import pytest
from PIL import ImageFont

from promostack.render import RenderError, available_fonts, fit_text, font_path
from promostack.render.sfnt import read_font_facts
from promostack.render.typefaces import FONTS_DIR, coverage
from promostack.templates.schema import TextArea

# A private-use code point in plane 16: no shipped font maps it, so Pillow draws .notdef.
ABSENT = "\U0010fffd"


def test_every_manifest_font_exists_with_its_licence_and_true_metrics() -> None:
    fonts = available_fonts()
    assert {f.role for f in fonts} == {"text", "display", "mono", "fallback"}
    for info in fonts:
        assert info.path.is_file() and info.path.stat().st_size < 1_000_000
        assert info.licence_path.is_file()
        facts = read_font_facts(info.path)
        assert (facts.units_per_em, facts.ascender, facts.descender) == (
            info.units_per_em,
            info.ascender,
            info.descender,
        )
        assert info.fallback is None or font_path(info.fallback).is_file()


def test_manifest_ascent_and_descent_match_pillow_at_every_size() -> None:
    for info in available_fonts():
        for size in (7, 12, 33, 64, 100, 250):
            assert ImageFont.truetype(str(info.path), size).getmetrics() == (
                info.ascent(size),
                info.descent(size),
            ), (info.name, size)


def test_schema_default_font_resolves() -> None:
    assert font_path("Inter-Bold").name.startswith("Inter-Bold")
    assert json.loads((FONTS_DIR / "fonts.json").read_text())["default_font"] == "Inter-Bold"


def test_unknown_font_is_a_render_error_listing_the_fonts() -> None:
    with pytest.raises(RenderError, match="unknown font 'Nope'.*JetBrainsMono-Bold"):
        font_path("Nope")


@pytest.mark.parametrize("name", [f.name for f in available_fonts()])
def test_cmap_coverage_agrees_with_what_pillow_draws(name: str) -> None:
    """A character outside the cmap is drawn as .notdef by Pillow; one inside is not."""
    font = ImageFont.truetype(str(font_path(name)), 40)
    notdef = bytes(font.getmask(ABSENT))
    covered = coverage(font_path(name))
    assert ord(ABSENT) not in covered
    samples = "AZaz09%€ßéŁЖжΩλ→★☺♥✓ﬁ優한🎉😀"
    for ch in samples:
        drawn_as_notdef = bytes(font.getmask(ch)) == notdef
        assert (ord(ch) in covered) != drawn_as_notdef, f"{name}: {ch!r} (U+{ord(ch):04X})"


def test_characters_missing_from_the_font_use_the_fallback_run() -> None:
    area = TextArea(id="t", box={"x": 0, "y": 0, "w": 600, "h": 100}, font="Inter-Bold")
    fit = fit_text("Hi ☺ there", area)
    runs = [(text, font.name) for text, font in fit.runs[0]]
    assert runs == [("Hi ", "Inter-Bold"), ("☺", "DejaVuSans-Bold"), (" there", "Inter-Bold")]


def test_characters_no_font_has_are_refused_by_name() -> None:
    area = TextArea(id="promo", box={"x": 0, "y": 0, "w": 600, "h": 100})
    with pytest.raises(RenderError) as caught:
        fit_text("Party 🎉 優惠", area)
    message = str(caught.value)
    assert "'promo'" in message
    assert "U+1F389" in message and "U+512A" in message and "U+60E0" in message
