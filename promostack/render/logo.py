"""Placing a logo in its box, keeping its aspect ratio."""

from __future__ import annotations

import math

from PIL import Image

from promostack.templates.schema import LogoArea


def fitted_logo(logo: Image.Image, area: LogoArea) -> tuple[Image.Image, tuple[int, int]]:
    """The logo resized for `area` (RGBA) and the top-left corner where it goes.

    "contain": the whole logo inside the box, as large as possible, centred.
    "cover": the box filled, the overflow cut equally from both sides.
    """
    box = area.box
    logo = logo.convert("RGBA")
    scale_w, scale_h = box.w / logo.width, box.h / logo.height
    scale = min(scale_w, scale_h) if area.fit == "contain" else max(scale_w, scale_h)
    # Halves round up (floor(x + 0.5)), as JavaScript's Math.round does in the canvas preview;
    # Python's round() would round them to even.
    width = max(1, math.floor(logo.width * scale + 0.5))
    height = max(1, math.floor(logo.height * scale + 0.5))
    if area.fit == "contain":
        width, height = min(width, box.w), min(height, box.h)
        resized = logo.resize((width, height), Image.Resampling.LANCZOS)
        return resized, (box.x + (box.w - width) // 2, box.y + (box.h - height) // 2)
    width, height = max(width, box.w), max(height, box.h)
    resized = logo.resize((width, height), Image.Resampling.LANCZOS)
    cut_x, cut_y = (width - box.w) // 2, (height - box.h) // 2
    return resized.crop((cut_x, cut_y, cut_x + box.w, cut_y + box.h)), (box.x, box.y)
