"""Painting fitted text: shadow, stroke and fill, each composited with its colour's alpha."""

from __future__ import annotations

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


def _scaled(mask: Image.Image, alpha: int) -> Image.Image:
    """`mask` with every coverage value multiplied by alpha/255 (rounded)."""
    if alpha == 255:
        return mask
    return mask.point([(v * alpha + 127) // 255 for v in range(256)])


def _paint(image: Image.Image, color: Rgba, mask: Image.Image, at: tuple[int, int]) -> None:
    """Blend `color` into `image` through `mask` placed at `at` (clipped to the image)."""
    left, top = at
    # Clip by hand: paste refuses a box that reaches outside the image.
    x0, y0 = max(left, 0), max(top, 0)
    x1 = min(left + mask.width, image.width)
    y1 = min(top + mask.height, image.height)
    if x0 >= x1 or y0 >= y1:
        return
    part = mask.crop((x0 - left, y0 - top, x1 - left, y1 - top))
    fill = color if image.mode == "RGBA" else color[:3]
    image.paste(fill, (x0, y0, x1, y1), _scaled(part, color[3]))


def draw_text(image: Image.Image, fit: FitResult, area: TextArea) -> None:
    """Draw `fit` (from `fit_text`) onto `image`: shadow, then stroke, then fill."""
    if fit.empty:
        return
    box, stroke = area.box, area.stroke_width
    # Glyphs may overshoot the box a little (accents above the ascent, the stroke): draw the
    # masks on a margin around it so nothing is cut.
    pad = stroke + fit.size // 2 + 2
    left, top = box.x - pad, box.y - pad
    size = (box.w + 2 * pad, box.h + 2 * pad)
    fill_mask = Image.new("L", size, 0)
    stroke_mask = Image.new("L", size, 0) if stroke else None
    fill_draw = ImageDraw.Draw(fill_mask)
    stroke_draw = ImageDraw.Draw(stroke_mask) if stroke_mask else None
    for runs, (x, baseline) in zip(fit.runs, fit.origins):
        pen = x - left
        for text, font_info in runs:
            font = load_font(font_info.path, fit.size)
            at = (pen, baseline - top)
            fill_draw.text(at, text, font=font, fill=255, anchor="ls")
            if stroke_draw is not None:
                stroke_draw.text(at, text, font=font, fill=255, anchor="ls", stroke_width=stroke)
            pen += font.getlength(text)
    outline = stroke_mask if stroke_mask is not None else fill_mask
    if area.shadow is not None:
        _paint(image, parse_color(area.shadow.color), outline, (left + area.shadow.dx, top + area.shadow.dy))
    if stroke_mask is not None:
        _paint(image, parse_color(area.stroke_color), stroke_mask, (left, top))
    _paint(image, parse_color(area.color), fill_mask, (left, top))
