"""The template schema: `meta.json` (one template) and `index.json` (the gallery).

A template is an image plus text areas drawn on it in template pixels. Validation errors name
the field (pydantic's `loc`), so an admin or an import can be told exactly what to fix.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

# Anchored with \Z, not $: `$` also matches before a trailing newline ("#ffffff\n" would pass).
SLUG_RE = re.compile(r"\A[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\Z")
AREA_ID_RE = re.compile(r"\A[a-z][a-z0-9_]{0,31}\Z")
COLOR_RE = re.compile(r"\A#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{8})\Z")
FONT_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")

MAX_TEMPLATE_SIDE = 4096
# The most characters any text area takes (its `max_chars` is at most this).
MAX_TEXT_CHARS = 500


def check_slug(value: str) -> str:
    """`value` when it is a safe slug (lower-case letters, digits, inner hyphens, ≤ 64 chars)."""
    if not SLUG_RE.fullmatch(value):
        raise ValueError("a slug is 1-64 lower-case letters, digits and inner hyphens, like 'black-friday'")
    return value


def _check_color(value: str) -> str:
    if not COLOR_RE.fullmatch(value):
        raise ValueError("a colour is #RRGGBB or #RRGGBBAA")
    return value.lower()


def _check_area_id(value: str) -> str:
    if not AREA_ID_RE.fullmatch(value):
        raise ValueError("an area id is a lower-case letter then letters, digits or '_', like 'code'")
    return value


def _check_font(value: str) -> str:
    if not FONT_RE.fullmatch(value):
        raise ValueError("a font is named by its file stem, like 'Anton-Regular'")
    return value


Slug = Annotated[str, AfterValidator(check_slug)]
Color = Annotated[str, AfterValidator(_check_color)]
AreaId = Annotated[str, AfterValidator(_check_area_id)]
FontName = Annotated[str, AfterValidator(_check_font)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Box(_Model):
    """A rectangle in template pixels: top-left corner and size."""

    x: int = Field(ge=0)
    y: int = Field(ge=0)
    w: int = Field(gt=0)
    h: int = Field(gt=0)


class Shadow(_Model):
    """A drop shadow drawn under the text."""

    dx: int = Field(default=2, ge=-50, le=50)
    dy: int = Field(default=2, ge=-50, le=50)
    color: Color = "#00000080"


class TextArea(_Model):
    """One box of text: where it goes, how it looks, how it is fitted."""

    id: AreaId
    label: str = Field(default="", max_length=64)
    source: Literal["coupon", "text"] = "text"  # "coupon": filled with the coupon code
    default_text: str = Field(default="", max_length=500)
    box: Box
    font: FontName = "Inter-Bold"
    color: Color = "#ffffff"
    align: Literal["left", "center", "right"] = "center"
    valign: Literal["top", "middle", "bottom"] = "middle"
    min_size: int = Field(default=12, ge=4, le=1000)
    max_size: int = Field(default=120, ge=4, le=1000)
    wrap: bool = False
    max_lines: int = Field(default=3, ge=1, le=20)
    line_spacing: float = Field(default=1.15, ge=0.8, le=3.0)
    uppercase: bool = False
    max_chars: int = Field(default=120, ge=1, le=MAX_TEXT_CHARS)
    stroke_width: int = Field(default=0, ge=0, le=40)
    stroke_color: Color = "#000000"
    shadow: Shadow | None = None

    @model_validator(mode="after")
    def _sizes_in_order(self) -> TextArea:
        if self.min_size > self.max_size:
            raise ValueError(f"min_size ({self.min_size}) is larger than max_size ({self.max_size})")
        return self


class LogoArea(_Model):
    """Where an uploaded logo goes, fitted keeping its aspect ratio."""

    box: Box
    fit: Literal["contain", "cover"] = "contain"


class Visibility(_Model):
    """Which channels show the template."""

    web: bool = True
    telegram: bool = True


def _now() -> datetime:
    return datetime.now(timezone.utc)


class TemplateMeta(_Model):
    """`templates/<slug>/meta.json`."""

    slug: Slug
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=500)
    image_key: str = Field(min_length=1, max_length=255)
    width: int = Field(gt=0, le=MAX_TEMPLATE_SIDE)
    height: int = Field(gt=0, le=MAX_TEMPLATE_SIDE)
    text_areas: list[TextArea] = Field(min_length=1, max_length=12)
    logo_area: LogoArea | None = None
    visibility: Visibility = Field(default_factory=Visibility)
    tags: list[str] = Field(default_factory=list, max_length=10)
    version: int = Field(default=1, ge=1)
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)

    @model_validator(mode="after")
    def _areas_fit_the_image(self) -> TemplateMeta:
        ids = [area.id for area in self.text_areas]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"text_areas: duplicate id(s) {', '.join(duplicates)}")
        boxes = [(f"text_areas[{i}].box", area.box) for i, area in enumerate(self.text_areas)]
        if self.logo_area:
            boxes.append(("logo_area.box", self.logo_area.box))
        for where, box in boxes:
            if box.x + box.w > self.width or box.y + box.h > self.height:
                raise ValueError(
                    f"{where} ({box.x},{box.y} {box.w}x{box.h}) reaches outside the "
                    f"{self.width}x{self.height} image"
                )
        return self

    def area(self, area_id: str) -> TextArea:
        """The text area named `area_id`; KeyError when there is none."""
        for area in self.text_areas:
            if area.id == area_id:
                return area
        raise KeyError(area_id)

    @property
    def coupon_area(self) -> TextArea | None:
        """The area the coupon code goes into, if the template has one."""
        return next((a for a in self.text_areas if a.source == "coupon"), None)


class TemplateSummary(_Model):
    """One gallery entry of `index.json`, derived from a `TemplateMeta`."""

    slug: Slug
    name: str
    description: str = ""
    image_key: str
    width: int
    height: int
    visibility: Visibility
    tags: list[str] = Field(default_factory=list)
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, meta: TemplateMeta) -> TemplateSummary:
        """The summary of `meta`."""
        return cls(
            slug=meta.slug,
            name=meta.name,
            description=meta.description,
            image_key=meta.image_key,
            width=meta.width,
            height=meta.height,
            visibility=meta.visibility,
            tags=meta.tags,
            version=meta.version,
            updated_at=meta.updated_at,
        )


class TemplateIndex(_Model):
    """`templates/index.json`: rebuilt from the metas, never edited by hand."""

    generated_at: datetime = Field(default_factory=_now)
    templates: list[TemplateSummary] = Field(default_factory=list)
