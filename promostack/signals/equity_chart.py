"""The equity curve (cumulative pips after each closed signal) drawn as a PNG with Pillow."""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 960, 480
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 80, 30, 50, 40
BACKGROUND, GRID, AXIS, TEXT = (17, 24, 39), (55, 65, 81), (156, 163, 175), (229, 231, 235)
UP, DOWN = (34, 197, 94), (239, 68, 68)


def equity_png(curve: Sequence[float], title: str) -> bytes:
    """PNG bytes of `curve` (cumulative pips, starting at 0) under `title`."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=16)
    small = ImageFont.load_default(size=13)
    draw.text((MARGIN_LEFT, 14), title, fill=TEXT, font=font)
    points = list(curve) if len(curve) >= 2 else [0.0, *(curve or [0.0])]
    low, high = min(points + [0.0]), max(points + [0.0])
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def y_of(value: float) -> float:
        return MARGIN_TOP + (high - value) / (high - low) * plot_h

    def x_of(i: int) -> float:
        return MARGIN_LEFT + i / (len(points) - 1) * plot_w

    for k in range(5):
        value = low + (high - low) * k / 4
        y = y_of(value)
        draw.line([(MARGIN_LEFT, y), (WIDTH - MARGIN_RIGHT, y)], fill=GRID)
        draw.text((8, y - 8), f"{value:+.0f}", fill=AXIS, font=small)
    draw.line([(MARGIN_LEFT, y_of(0)), (WIDTH - MARGIN_RIGHT, y_of(0))], fill=AXIS, width=2)
    colour = UP if points[-1] >= 0 else DOWN
    draw.line([(x_of(i), y_of(v)) for i, v in enumerate(points)], fill=colour, width=3)
    draw.text(
        (MARGIN_LEFT, HEIGHT - 28),
        f"{len(points) - 1} trades · {points[-1]:+.1f} pips",
        fill=AXIS,
        font=small,
    )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
