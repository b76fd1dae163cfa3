"""The demo campaign `promostack seed-demo` adds: its settings and overlays drawn on the spot."""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.orm import Session, sessionmaker

from promostack.campaigns.overlays import OverlayStore
from promostack.campaigns.records import CampaignNotFound, create_campaign, get_campaign, set_overlay, set_status
from promostack.campaigns.schema import SHAPES, CampaignSettings, Shape
from promostack.render.typefaces import font_path

DEMO_SLUG = "gold-rush"
DEMO_SETTINGS = CampaignSettings(
    name="Gold Rush 2026",
    description="Frame your photo for the Gold Rush, share it, and enter your post to win a funded account.",
    caption_template="{name} is joining the Gold Rush 2026! Use my code {code} for 25% off.",
    hashtags=["GoldRush2026", "PromoStack"],
    coupon_code="GOLD25",
    per_person_limit=3,
)


def demo_overlay(shape: Shape) -> bytes:
    """A PNG frame for `shape`: a gold band at the top and bottom with the campaign's name."""
    width, height = SHAPES[shape]
    band = height // 7
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for y in range(band):
        shade = 150 + int(80 * y / band)
        draw.line((0, y, width, y), fill=(shade, int(shade * 0.72), 30, 235))
        draw.line((0, height - 1 - y, width, height - 1 - y), fill=(shade, int(shade * 0.72), 30, 235))
    draw.rectangle((0, 0, width - 1, height - 1), outline=(255, 214, 102, 255), width=18)
    title = ImageFont.truetype(str(font_path("BebasNeue-Regular")), size=band * 3 // 4)
    small = ImageFont.truetype(str(font_path("Inter-Bold")), size=band // 4)
    draw.text((width // 2, band // 2), "GOLD RUSH 2026", font=title, fill=(27, 20, 4, 255), anchor="mm")
    draw.text((width // 2, height - band // 2), "I'M IN · #GoldRush2026", font=small, fill=(27, 20, 4, 255), anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def seed_demo_campaign(sessions: sessionmaker[Session], overlays: OverlayStore, now: datetime) -> str:
    """What was done: the live demo campaign with an overlay per shape, added when absent."""
    try:
        get_campaign(sessions, DEMO_SLUG)
        return f"campaign {DEMO_SLUG}: already there"
    except CampaignNotFound:
        pass
    create_campaign(sessions, DEMO_SLUG, DEMO_SETTINGS, now)
    for shape in SHAPES:
        stored = overlays.put(DEMO_SLUG, shape, demo_overlay(shape))
        set_overlay(sessions, DEMO_SLUG, shape, stored.as_json(), now)
    set_status(sessions, DEMO_SLUG, "live", now)
    return f"campaign {DEMO_SLUG}: added, live at /c/{DEMO_SLUG}"
