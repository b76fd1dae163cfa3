"""Regenerates the demo templates: each background PNG is drawn here with Pillow, and each
`meta.json` is written from a `TemplateMeta`, so both always agree.

Run `python -m promostack.templates.demo.build`. The output is deterministic: running it twice
gives the same files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from promostack.render.typefaces import font_path, load_font
from promostack.templates.schema import TemplateMeta

DEMO_DIR = Path(__file__).parent
IMAGE_NAME = "background.png"
# A fixed date keeps regenerated metas identical; the seeder stamps its own times on import.
STAMP = datetime(2026, 1, 1, tzinfo=timezone.utc)

Rgb = tuple[int, int, int]


def _gradient(size: tuple[int, int], start: Rgb, end: Rgb, angle: float) -> Image.Image:
    """A linear gradient from `start` to `end`, turned by `angle` degrees (0 = top to bottom)."""
    side = int((size[0] ** 2 + size[1] ** 2) ** 0.5) + 2
    ramp = Image.linear_gradient("L").resize((side, side), Image.Resampling.BILINEAR)
    ramp = ramp.rotate(angle, resample=Image.Resampling.BILINEAR)
    left, top = (side - size[0]) // 2, (side - size[1]) // 2
    mask = ramp.crop((left, top, left + size[0], top + size[1]))
    return Image.composite(Image.new("RGB", size, end), Image.new("RGB", size, start), mask)


def _overlay(base: Image.Image, paint: Callable[[ImageDraw.ImageDraw], None], blur: float = 0) -> Image.Image:
    """`base` with translucent shapes drawn by `paint` composited over it."""
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    paint(ImageDraw.Draw(layer))
    if blur:
        layer = layer.filter(ImageFilter.GaussianBlur(blur))
    return Image.alpha_composite(base.convert("RGBA"), layer)


def _ticket(
    base: Image.Image, box: tuple[int, int, int, int], fill: Rgb, dash: Rgb, notch: int = 26
) -> Image.Image:
    """`base` with a coupon ticket: a soft shadow, a rounded card with side notches, a dashed rule."""
    x0, y0, x1, y1 = box
    base = _overlay(
        base,
        lambda d: d.rounded_rectangle((x0 + 6, y0 + 16, x1 + 6, y1 + 16), 28, fill=(0, 0, 0, 90)),
        blur=14,
    )
    shape = Image.new("L", base.size, 0)
    draw = ImageDraw.Draw(shape)
    draw.rounded_rectangle(box, 28, fill=255)
    mid = (y0 + y1) // 2
    draw.ellipse((x0 - notch, mid - notch, x0 + notch, mid + notch), fill=0)
    draw.ellipse((x1 - notch, mid - notch, x1 + notch, mid + notch), fill=0)
    base.paste(fill + (255,), (0, 0), shape)
    line = ImageDraw.Draw(base)
    inset = 22
    for x in range(x0 + inset, x1 - inset, 28):
        line.rounded_rectangle((x, y0 + inset, min(x + 16, x1 - inset), y0 + inset + 3), 1, fill=dash)
        line.rounded_rectangle((x, y1 - inset - 3, min(x + 16, x1 - inset), y1 - inset), 1, fill=dash)
    return base


def _label(
    base: Image.Image,
    text: str,
    font: str,
    size: int,
    center: tuple[int, int],
    fill: Rgb | tuple[int, int, int, int],
) -> None:
    """Static lettering baked into the background, centred on `center` (middle of the cap height)."""
    ImageDraw.Draw(base).text(center, text, font=load_font(font_path(font), size), fill=fill, anchor="mm")


@dataclass(frozen=True)
class Demo:
    """One demo template: its meta (without image and times) and how its background is drawn."""

    meta: dict
    draw: Callable[[tuple[int, int]], Image.Image]


def _summer_sale(size: tuple[int, int]) -> Image.Image:
    base = _gradient(size, (255, 138, 61), (238, 42, 123), 45)

    def shapes(d: ImageDraw.ImageDraw) -> None:
        d.ellipse((700, -180, 1260, 380), fill=(255, 214, 102, 120))
        d.ellipse((-160, 820, 300, 1280), fill=(255, 255, 255, 40))
        d.ellipse((860, 560, 1160, 860), fill=(255, 255, 255, 28))

    base = _overlay(base, shapes)
    pill = (340, 70, 740, 130)
    base = _overlay(base, lambda d: d.rounded_rectangle(pill, 30, fill=(255, 255, 255, 235)))
    _label(base, "LIMITED TIME OFFER", "Inter-Bold", 26, (540, 100), (238, 42, 123))
    base = _ticket(base, (140, 660, 940, 900), (255, 255, 255), (255, 196, 214))
    _label(base, "YOUR CODE", "Inter-Bold", 24, (540, 712), (150, 150, 160))
    return base.convert("RGB")


def _black_friday(size: tuple[int, int]) -> Image.Image:
    base = _gradient(size, (24, 24, 34), (8, 8, 12), 0)

    def stripes(d: ImageDraw.ImageDraw) -> None:
        for i in range(-4, 12):
            x = i * 150
            d.polygon([(x, 0), (x + 60, 0), (x - 340, 1350), (x - 400, 1350)], fill=(245, 197, 66, 10))
        d.rectangle((0, 0, 1080, 14), fill=(245, 197, 66, 255))
        d.rectangle((0, 1336, 1080, 1350), fill=(245, 197, 66, 255))

    base = _overlay(base, stripes)
    _label(base, "BLACK", "BebasNeue-Regular", 260, (540, 330), (245, 197, 66))
    _label(base, "FRIDAY", "BebasNeue-Regular", 260, (540, 540), (255, 255, 255))
    card = (120, 900, 960, 1140)

    def frame(d: ImageDraw.ImageDraw) -> None:
        d.rounded_rectangle(card, 24, fill=(255, 255, 255, 14), outline=(245, 197, 66, 255), width=4)

    base = _overlay(base, frame)
    _label(base, "USE CODE AT CHECKOUT", "Inter-Bold", 26, (540, 950), (245, 197, 66))
    return base.convert("RGB")


def _welcome_offer(size: tuple[int, int]) -> Image.Image:
    base = _gradient(size, (11, 37, 69), (27, 153, 139), 300)

    def shapes(d: ImageDraw.ImageDraw) -> None:
        d.ellipse((640, -260, 1460, 560), fill=(255, 255, 255, 22))
        d.ellipse((860, 330, 1320, 790), fill=(255, 255, 255, 18))
        for i in range(6):
            d.ellipse((70 + i * 26, 560, 80 + i * 26, 570), fill=(255, 255, 255, 150))

    base = _overlay(base, shapes)
    base = _ticket(base, (760, 164, 1140, 464), (255, 255, 255), (160, 222, 214), notch=22)
    _label(base, "YOUR CODE", "Inter-Bold", 22, (950, 214), (120, 130, 140))
    return base.convert("RGB")


DEMOS: dict[str, Demo] = {
    "summer-sale": Demo(
        meta={
            "name": "Summer sale",
            "description": "Warm gradient square with a tear-off coupon ticket.",
            "width": 1080,
            "height": 1080,
            "tags": ["sale", "square", "instagram"],
            "text_areas": [
                {
                    "id": "headline",
                    "label": "Headline",
                    "default_text": "Summer sale 30% off",
                    "box": {"x": 80, "y": 170, "w": 920, "h": 330},
                    "font": "BebasNeue-Regular",
                    "color": "#ffffff",
                    "min_size": 48,
                    "max_size": 210,
                    "wrap": True,
                    "max_lines": 2,
                    "line_spacing": 0.95,
                    "max_chars": 40,
                    "shadow": {"dx": 0, "dy": 6, "color": "#8a1a4a66"},
                },
                {
                    "id": "subline",
                    "label": "Subline",
                    "default_text": "On every plan, this week only",
                    "box": {"x": 120, "y": 520, "w": 840, "h": 100},
                    "font": "Inter-Regular",
                    "color": "#ffffff",
                    "min_size": 20,
                    "max_size": 44,
                    "wrap": True,
                    "max_lines": 2,
                    "max_chars": 90,
                },
                {
                    "id": "code",
                    "label": "Coupon code",
                    "source": "coupon",
                    "default_text": "SUMMER30",
                    "box": {"x": 190, "y": 738, "w": 700, "h": 130},
                    "font": "JetBrainsMono-Bold",
                    "color": "#ee2a7b",
                    "min_size": 28,
                    "max_size": 104,
                    "uppercase": True,
                    "max_chars": 24,
                },
            ],
            "logo_area": {"box": {"x": 430, "y": 940, "w": 220, "h": 100}, "fit": "contain"},
        },
        draw=_summer_sale,
    ),
    "black-friday": Demo(
        meta={
            "name": "Black Friday",
            "description": "Black and gold portrait poster with a framed code.",
            "width": 1080,
            "height": 1350,
            "tags": ["black-friday", "portrait", "stories"],
            "text_areas": [
                {
                    "id": "headline",
                    "label": "Headline",
                    "default_text": "Up to 50% off everything",
                    "box": {"x": 90, "y": 660, "w": 900, "h": 200},
                    "font": "Inter-Bold",
                    "color": "#ffffff",
                    "min_size": 32,
                    "max_size": 92,
                    "wrap": True,
                    "max_lines": 2,
                    "line_spacing": 1.05,
                    "max_chars": 60,
                },
                {
                    "id": "code",
                    "label": "Coupon code",
                    "source": "coupon",
                    "default_text": "BLACK50",
                    "box": {"x": 160, "y": 985, "w": 760, "h": 130},
                    "font": "JetBrainsMono-Bold",
                    "color": "#f5c542",
                    "min_size": 28,
                    "max_size": 110,
                    "uppercase": True,
                    "max_chars": 24,
                },
                {
                    "id": "fine_print",
                    "label": "Fine print",
                    "default_text": "Valid until Monday midnight. One use per customer.",
                    "box": {"x": 120, "y": 1180, "w": 840, "h": 90},
                    "font": "Inter-Regular",
                    "color": "#b8b8c8",
                    "min_size": 16,
                    "max_size": 30,
                    "wrap": True,
                    "max_lines": 2,
                    "max_chars": 140,
                },
            ],
            "logo_area": {"box": {"x": 440, "y": 60, "w": 200, "h": 110}, "fit": "contain"},
        },
        draw=_black_friday,
    ),
    "welcome-offer": Demo(
        meta={
            "name": "Welcome offer",
            "description": "Landscape link-preview card (1200x628) for a first-order discount.",
            "width": 1200,
            "height": 628,
            "tags": ["welcome", "landscape", "link-preview"],
            "text_areas": [
                {
                    "id": "headline",
                    "label": "Headline",
                    "default_text": "Welcome! Here's 15% off your first order",
                    "box": {"x": 70, "y": 150, "w": 620, "h": 250},
                    "font": "Inter-Bold",
                    "color": "#ffffff",
                    "align": "left",
                    "valign": "bottom",
                    "min_size": 28,
                    "max_size": 72,
                    "wrap": True,
                    "max_lines": 3,
                    "line_spacing": 1.08,
                    "max_chars": 80,
                },
                {
                    "id": "subline",
                    "label": "Subline",
                    "default_text": "Paste the code at checkout.",
                    "box": {"x": 70, "y": 420, "w": 620, "h": 90},
                    "font": "Inter-Regular",
                    "color": "#d8f3ee",
                    "align": "left",
                    "valign": "top",
                    "min_size": 18,
                    "max_size": 34,
                    "wrap": True,
                    "max_lines": 2,
                    "max_chars": 90,
                },
                {
                    "id": "code",
                    "label": "Coupon code",
                    "source": "coupon",
                    "default_text": "HELLO15",
                    "box": {"x": 810, "y": 282, "w": 280, "h": 130},
                    "font": "JetBrainsMono-Bold",
                    "color": "#0b2545",
                    "min_size": 14,
                    "max_size": 72,
                    "uppercase": True,
                    "max_chars": 24,
                },
            ],
            "logo_area": {"box": {"x": 70, "y": 50, "w": 200, "h": 70}, "fit": "contain"},
        },
        draw=_welcome_offer,
    ),
}


def demo_meta(slug: str) -> TemplateMeta:
    """The validated meta of the demo template `slug`."""
    meta = DEMOS[slug].meta
    return TemplateMeta(
        slug=slug, image_key=f"templates/{slug}/{IMAGE_NAME}", created_at=STAMP, updated_at=STAMP, **meta
    )


def build(root: Path = DEMO_DIR) -> list[Path]:
    """Every demo template written under `root/<slug>/`; the folders written."""
    written = []
    for slug, demo in DEMOS.items():
        meta = demo_meta(slug)
        folder = root / slug
        folder.mkdir(parents=True, exist_ok=True)
        demo.draw((meta.width, meta.height)).save(folder / IMAGE_NAME, "PNG", optimize=True)
        text = json.dumps(meta.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
        (folder / "meta.json").write_text(text, encoding="utf-8")
        written.append(folder)
    return written


if __name__ == "__main__":
    for path in build():
        print(path)
