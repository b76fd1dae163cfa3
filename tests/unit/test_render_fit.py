"""The fitting rule: sizes, line breaks and positions a user sees, checked against Pillow's own
measurements of the shipped fonts (not against the engine's numbers)."""

from __future__ import annotations

import pytest
from PIL import ImageFont

from promostack.render import RenderError, TextDoesNotFit, fit_text, font_path
from promostack.templates.schema import TextArea


def area(**fields: object) -> TextArea:
    """A text area with a 600x200 box at (50, 40) unless told otherwise."""
    fields.setdefault("box", {"x": 50, "y": 40, "w": 600, "h": 200})
    return TextArea(id=fields.pop("id", "headline"), **fields)


def pil(font: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(font)), size)


def fits_with_pillow(lines: list[str], a: TextArea, size: int) -> bool:
    """Whether `lines` fit `a` at `size`, measured with Pillow directly."""
    f = pil(a.font, size)
    ascent, descent = f.getmetrics()
    height = ascent + descent + (len(lines) - 1) * int(size * a.line_spacing + 0.5)
    avail = a.box.w - 2 * a.stroke_width
    return all(f.getlength(line) <= avail for line in lines) and height <= a.box.h


def test_one_character_gets_the_largest_size_its_box_allows() -> None:
    a = area(box={"x": 0, "y": 0, "w": 600, "h": 90}, max_size=400)
    fit = fit_text("X", a)
    assert fit.lines == ("X",)
    assert fits_with_pillow(["X"], a, fit.size)
    assert not fits_with_pillow(["X"], a, fit.size + 1), "one size larger would still have fitted"


def test_one_character_in_a_roomy_box_stops_at_max_size() -> None:
    assert fit_text("X", area(max_size=60)).size == 60


def test_single_line_area_never_wraps_and_shrinks_instead() -> None:
    text = "Twenty percent off every order this week"
    a = area(wrap=False, min_size=8)
    fit = fit_text(text, a)
    assert fit.lines == (text,)
    assert fits_with_pillow([text], a, fit.size)
    assert not fits_with_pillow([text], a, fit.size + 1)


def test_wrapping_breaks_greedily_on_spaces_and_every_line_fits() -> None:
    text = "Twenty percent off every order this week only for our newsletter friends"
    a = area(wrap=True, max_lines=4, box={"x": 0, "y": 0, "w": 500, "h": 400}, max_size=200)
    fit = fit_text(text, a)
    assert len(fit.lines) > 1
    assert " ".join(fit.lines) == text
    assert fits_with_pillow(list(fit.lines), a, fit.size)
    f = pil(a.font, fit.size)
    for line, following in zip(fit.lines, fit.lines[1:]):
        # Greedy: the next line's first word would not have fitted on this line.
        assert f.getlength(f"{line} {following.split(' ')[0]}") > a.box.w


def test_max_lines_is_respected_by_choosing_a_smaller_size() -> None:
    text = "Twenty percent off every order this week only for our newsletter friends"
    roomy = fit_text(
        text, area(wrap=True, max_lines=5, box={"x": 0, "y": 0, "w": 500, "h": 600}, max_size=300)
    )
    capped = fit_text(
        text, area(wrap=True, max_lines=2, box={"x": 0, "y": 0, "w": 500, "h": 600}, max_size=300)
    )
    assert len(roomy.lines) > 2
    assert len(capped.lines) <= 2
    assert capped.size < roomy.size


def test_a_very_long_word_is_never_broken_but_shrinks_to_fit() -> None:
    word = "Supercalifragilisticexpialidocious"
    a = area(wrap=True, max_lines=3, box={"x": 0, "y": 0, "w": 400, "h": 300}, min_size=8, max_size=200)
    fit = fit_text(f"{word} deal", a)
    assert fit.lines[0] == word
    assert pil(a.font, fit.size).getlength(word) <= 400


def test_text_that_cannot_fit_at_min_size_names_area_length_and_size() -> None:
    a = area(id="code", box={"x": 0, "y": 0, "w": 100, "h": 40}, min_size=30, max_chars=200)
    with pytest.raises(TextDoesNotFit) as caught:
        fit_text("THISCODEISFARTOOLONGFORTHEBOX", a)
    message = str(caught.value)
    assert "'code'" in message and "29 characters" in message and "30px" in message


def test_text_over_max_chars_is_refused_with_both_numbers() -> None:
    with pytest.raises(RenderError, match=r"10000 characters.*limit of 120"):
        fit_text("x" * 10_000, area())


def test_uppercase_applies_before_measuring() -> None:
    lower = fit_text("summer savings", area(wrap=False, min_size=8, max_size=300))
    upper = fit_text("summer savings", area(wrap=False, min_size=8, max_size=300, uppercase=True))
    assert upper.lines == ("SUMMER SAVINGS",)
    # Capitals are wider, so the same box holds them at a smaller size.
    assert upper.size < lower.size
    assert pil("Inter-Bold", upper.size).getlength("SUMMER SAVINGS") <= 600


def test_whitespace_is_trimmed_and_collapsed() -> None:
    assert fit_text("  SAVE \n\t 20  ", area()).lines == ("SAVE 20",)


def test_empty_text_has_nothing_to_draw() -> None:
    assert fit_text(" \n ", area()).empty


@pytest.mark.parametrize("align", ["left", "center", "right"])
def test_horizontal_alignment_puts_the_line_where_asked(align: str) -> None:
    a = area(align=align, max_size=40, stroke_width=3)
    fit = fit_text("Hello", a)
    (x, _), width = fit.origins[0], fit.widths[0]
    expected = {"left": 50 + 3, "center": 50 + (600 - width) / 2, "right": 50 + 600 - 3 - width}[align]
    assert x == pytest.approx(expected)


@pytest.mark.parametrize("valign", ["top", "middle", "bottom"])
def test_vertical_alignment_puts_the_block_where_asked(valign: str) -> None:
    a = area(valign=valign, max_size=40, wrap=True)
    fit = fit_text("Hello there", a)
    ascent, descent = pil("Inter-Bold", fit.size).getmetrics()
    top = fit.origins[0][1] - ascent
    bottom = fit.origins[-1][1] + descent
    if valign == "top":
        assert top == 40
    elif valign == "bottom":
        assert bottom == 240
    else:
        assert abs((top - 40) - (240 - bottom)) <= 1


def test_lines_are_one_line_height_apart() -> None:
    a = area(wrap=True, max_lines=3, line_spacing=1.5, box={"x": 0, "y": 0, "w": 300, "h": 600}, max_size=60)
    fit = fit_text("one two three four five six seven", a)
    steps = {b2 - b1 for (_, b1), (_, b2) in zip(fit.origins, fit.origins[1:])}
    assert len(fit.lines) > 1 and steps == {int(fit.size * 1.5 + 0.5)}


def test_stroke_narrows_the_available_width() -> None:
    plain = fit_text("WIDE WORDS HERE", area(max_size=300, min_size=8))
    stroked = fit_text("WIDE WORDS HERE", area(max_size=300, min_size=8, stroke_width=30))
    assert stroked.size < plain.size
    assert pil("Inter-Bold", stroked.size).getlength("WIDE WORDS HERE") <= 600 - 60


def test_unknown_font_names_the_font_and_the_choices() -> None:
    with pytest.raises(RenderError, match=r"unknown font 'Comic-Sans'.*Inter-Bold"):
        fit_text("hi", area(font="Comic-Sans"))


def test_remembered_fits_follow_every_change_of_the_area() -> None:
    small = fit_text("Remember me", area(max_size=30))
    large = fit_text("Remember me", area(max_size=50))
    moved = fit_text("Remember me", area(max_size=50, box={"x": 10, "y": 40, "w": 600, "h": 200}))
    assert (small.size, large.size) == (30, 50)
    assert moved.origins[0][0] == pytest.approx(large.origins[0][0] - 40)
