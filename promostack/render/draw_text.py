"""Painting fitted text: shadow, stroke and fill, each blended with its colour's alpha."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

from promostack.render.fit import FitResult
from promostack.render.typefaces import load_font
from promostack.templates.schema import TextArea

Rgba = tuple[int, int, int, int]


def parse_color(value: str) -> Rgba:
    """The (r, g, b, a) of a '#RRGGBB' or '#RRGGBBAA' colour (alpha 255 when absent)."""
    digits = value.lstrip("#")
    r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    a = int(digits[6:8], 16) if len(digits) == 8 else 255
    return r, g, b, a


def _strokes(
    draw: ImageDraw.ImageDraw,
    fit: FitResult,
    dx: float,
    dy: float,
    fill: Rgba | int,
    stroke: int,
    stroke_fill: Rgba | int | None,
) -> None:
    """Every run of `fit` drawn with `draw`, shifted by (dx, dy)."""
    for runs, (x, baseline) in zip(fit.runs, fit.origins, strict=True):
        pen = x + dx
        for text, font_info in runs:
            font = load_font(font_info.path, fit.size)
            draw.text(
                (pen, baseline + dy),
                text,
                font=font,
                fill=fill,
                anchor="ls",
                stroke_width=stroke,
                stroke_fill=stroke_fill,
            )
            pen += font.getlength(text)


def _layer(
    image: Image.Image, fit: FitResult, area: TextArea, color: Rgba, stroke: int, dx: int = 0, dy: int = 0
) -> None:
    """One layer of the text — the glyphs, or with `stroke` the glyphs grown by `stroke` px — in
    `color`, shifted by (dx, dy)."""
    if image.mode == "RGB" and color[3] == 255:
        # The fast path: Pillow draws opaque ink straight onto the glyph boxes.
        _strokes(ImageDraw.Draw(image), fit, dx, dy, color[:3], stroke, color[:3] if stroke else None)
        return
    # Pillow ignores an ink's alpha when drawing text and overwrites RGBA pixels, so
    # see-through colours and transparent backgrounds are blended through a coverage mask.
    # The mask spans the lines' advance boxes plus a margin for the stroke and for glyphs that
    # overshoot their advance or the ascent (italics, accents); nothing outside it is touched.
    pad = stroke + fit.size // 4 + 2
    left = math.floor(min(x for x, _ in fit.origins)) - pad
    right = math.ceil(max(x + w for (x, _), w in zip(fit.origins, fit.widths, strict=True))) + pad
    top = fit.origins[0][1] - fit.ascent - pad
    bottom = fit.origins[-1][1] + fit.descent + pad
    mask = Image.new("L", (right - left, bottom - top), 0)
    _strokes(ImageDraw.Draw(mask), fit, -left, -top, 255, stroke, 255 if stroke else None)
    _blend_mask(image, color, mask, (left + dx, top + dy))


def _blend_mask(image: Image.Image, color: Rgba, mask: Image.Image, at: tuple[int, int]) -> None:
    """Blend `color` into `image` through `mask` placed at `at` (clipped to the image)."""
    left, top = at
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + mask.width, image.width), min(top + mask.height, image.height)
    if x0 >= x1 or y0 >= y1:
        return
    part = mask.crop((x0 - left, y0 - top, x1 - left, y1 - top))
    if color[3] != 255:
        part = part.point([(v * color[3] + 127) // 255 for v in range(256)])
    if image.mode == "RGBA":
        # Source-over, as the canvas draws: `paste` would interpolate the alpha channel too and
        # make an opaque background see-through under see-through ink.
        ink = Image.new("RGBA", part.size, (*color[:3], 0))
        ink.putalpha(part)
        image.alpha_composite(ink, (x0, y0))
    else:
        image.paste(color[:3], (x0, y0, x1, y1), part)


def draw_text(image: Image.Image, fit: FitResult, area: TextArea) -> None:
    """Draw `fit` (from `fit_text`) onto `image`: shadow, then stroke, then fill.

    The stroke layer is the glyphs grown by `stroke_width` and filled (Pillow's stroke; canvas:
    `strokeText` with `lineWidth = 2 × stroke_width` plus `fillText`, both in the stroke colour);
    the shadow is that same shape (or the bare glyphs without a stroke) in the shadow colour.
    """
    if fit.empty:
        return
    stroke = area.stroke_width
    if area.shadow is not None:
        _layer(image, fit, area, parse_color(area.shadow.color), stroke, area.shadow.dx, area.shadow.dy)
    if stroke:
        _layer(image, fit, area, parse_color(area.stroke_color), stroke)
    _layer(image, fit, area, parse_color(area.color), 0)
