"""What a campaign is made of: its output shapes, statuses, the settings an admin edits, the
placement a visitor chooses, and the caption with its variables filled in."""

from __future__ import annotations

import re
import string
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from promostack.campaigns.posts import PLATFORMS

Shape = Literal["square", "portrait", "story"]
# Output size of each shape; an overlay must be exactly this size.
SHAPES: dict[Shape, tuple[int, int]] = {
    "square": (1080, 1080),
    "portrait": (1080, 1350),
    "story": (1080, 1920),
}
SHAPE_LABELS: dict[Shape, str] = {"square": "Square 1:1", "portrait": "Portrait 4:5", "story": "Story 9:16"}
Status = Literal["draft", "live", "ended"]
STATUSES: tuple[Status, ...] = ("draft", "live", "ended")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\Z")
CAPTION_VARIABLES = ("name", "code")
MAX_ZOOM = 5.0


class CampaignSettings(BaseModel):
    """The fields an admin sets on a campaign (overlays are uploaded apart)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    caption_template: str = Field(default="", max_length=2000)
    hashtags: list[str] = Field(default_factory=list, max_length=30)
    platforms: list[str] = Field(default_factory=lambda: list(PLATFORMS))
    coupon_code: str | None = Field(default=None, max_length=64)
    per_person_limit: int = Field(default=1, ge=1, le=100)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time with its UTC offset, like 2026-12-01T09:00:00Z")
        return value

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, tags: list[str]) -> list[str]:
        cleaned = []
        for tag in tags:
            word = tag.strip().lstrip("#")
            if not word:
                continue
            if not re.fullmatch(r"\w{1,60}", word):
                raise ValueError(f"#{word} is not a hashtag: letters, digits and _ only")
            if word.lower() not in (t.lower() for t in cleaned):
                cleaned.append(word)
        return cleaned

    @field_validator("platforms")
    @classmethod
    def _platforms(cls, platforms: list[str]) -> list[str]:
        unknown = sorted(set(platforms) - set(PLATFORMS))
        if unknown:
            raise ValueError(f"unknown platform {', '.join(unknown)}: use {', '.join(PLATFORMS)}")
        return [p for p in PLATFORMS if p in platforms]

    @field_validator("caption_template")
    @classmethod
    def _caption(cls, template: str) -> str:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        except ValueError as exc:
            raise ValueError(f"the caption has a stray brace ({exc}); write {{{{ or }}}} for a brace") from None
        unknown = sorted({f for f in fields if f not in CAPTION_VARIABLES})
        if unknown:
            raise ValueError(
                f"unknown variable {', '.join('{' + f + '}' for f in unknown)}: use {{name}} and {{code}}"
            )
        return template

    @model_validator(mode="after")
    def _times_in_order(self) -> CampaignSettings:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("the end time must be after the start time")
        return self


def check_slug(slug: str) -> str:
    """`slug` when it is a valid campaign slug; ValueError saying what a slug may be."""
    if not SLUG_RE.match(slug):
        raise ValueError("use 1-64 lower-case letters, digits and dashes (not at either end)")
    return slug


class Placement(BaseModel):
    """Where the photo sits in the frame: `zoom` over a cover fit, and the photo point (0-1 of
    its width and height, after EXIF orientation) that lands at the frame's centre."""

    model_config = ConfigDict(extra="forbid")

    zoom: float = Field(default=1.0, ge=1.0, le=MAX_ZOOM)
    cx: float = Field(default=0.5, ge=0.0, le=1.0)
    cy: float = Field(default=0.5, ge=0.0, le=1.0)


def fill_caption(template: str, hashtags: list[str], name: str = "", code: str | None = None) -> str:
    """The caption with `{name}` and `{code}` filled in and the hashtags on a line of their own."""
    text = template.format(name=name.strip(), code=code or "")
    tags = " ".join(f"#{t}" for t in hashtags)
    return f"{text.rstrip()}\n\n{tags}".strip() if tags else text.strip()


def effective_status(status: str, starts_at: datetime | None, ends_at: datetime | None, now: datetime) -> Status:
    """The status a visitor sees now: a live campaign past its end time has ended, even before the
    lifecycle flow records it; a draft opens only through the flow (which checks its overlays)."""
    if status == "live" and ends_at is not None and now >= ends_at:
        return "ended"
    if status == "live" and starts_at is not None and now < starts_at:
        return "draft"
    return status  # type: ignore[return-value]
