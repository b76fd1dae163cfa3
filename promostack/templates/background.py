"""A template's background image: an upload checked, and the areas carried over to a new size.

`read_background` is the one check every upload of a background goes through (a new template
in the dashboard, a replaced image from the dashboard or the CLI): PNG, JPEG or WebP by its
magic bytes, at most `MAX_BACKGROUND_BYTES`, decodable without tripping the decompression-bomb
guard of `open_image`, at most `MAX_TEMPLATE_SIDE` pixels a side.

`refit_areas` moves a template's areas onto a background of another size:

- same size: nothing changes (`"unchanged"`);
- same aspect ratio (within `ASPECT_TOLERANCE`): boxes, font sizes, strokes and shadows are
  scaled by the change of size (`"scaled"`), so the template looks as it did;
- another aspect ratio: no scaling can be right, so each area keeps its place and size in
  pixels (`"kept"`); one that would reach outside the new image is moved inside it (and shrunk
  if it is larger than the image) and listed in `needs_review`, for the editor to point at.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps
from pydantic import BaseModel, computed_field

from promostack.render.errors import BadImage
from promostack.render.images import DEFAULT_MAX_BYTES, image_kind, open_image
from promostack.templates.schema import MAX_TEMPLATE_SIDE, Box, TemplateMeta, TextArea

MAX_BACKGROUND_BYTES = DEFAULT_MAX_BYTES
MAX_BACKGROUND_PIXELS = MAX_TEMPLATE_SIDE * MAX_TEMPLATE_SIDE
# Two sizes whose width/height ratios differ by at most this share have "the same" aspect ratio:
# 1080x1350 -> 1079x1350 scales rather than flagging every area for a one-pixel crop.
ASPECT_TOLERANCE = 0.01

AreaFit = Literal["unchanged", "scaled", "kept"]
LOGO_AREA = "logo_area"  # how the logo area is named in `needs_review`


class BadBackground(BadImage):
    """An upload that cannot be a background: corrupt, or too big to decode safely (422).

    Its field is the upload's (`image`), so the dashboard and the API point at the file."""

    field = "image"


class NotAnImage(BadBackground):
    """The upload is not a PNG, JPEG or WebP file (415)."""

    status = 415


class ImageTooLarge(BadBackground):
    """The upload has more bytes than a background may have (413)."""

    status = 413


class BackgroundTooBig(BadBackground):
    """The image is wider or taller than a template may be (422)."""


_SUFFIXES: dict[str, Literal[".png", ".jpg", ".webp"]] = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}


@dataclass(frozen=True)
class Background:
    """A checked background upload: its bytes, the file suffix its format takes, its size."""

    data: bytes
    suffix: Literal[".png", ".jpg", ".webp"]
    width: int
    height: int


# What a photo may carry that the public must never be served: EXIF (GPS, camera, owner), comments,
# XMP, Photoshop blocks. Colour profiles stay: they are how the picture is meant to look.
PRIVATE_INFO = ("exif", "comment", "xmp", "XML:com.adobe.xmp", "photoshop", "Description", "Comment")


def without_metadata(data: bytes, picture: Image.Image, suffix: str) -> tuple[bytes, Image.Image]:
    """The upload's bytes and picture with EXIF, comments and XMP removed (the EXIF orientation
    applied first, so the picture still stands as it was shot); `data` itself when it has none."""
    if not any(key in picture.info for key in PRIVATE_INFO) and not picture.getexif():
        return data, picture
    upright = ImageOps.exif_transpose(picture) or picture
    keep: dict[str, object] = {"exif": b""}  # given empty: Pillow would copy `info`'s otherwise
    if picture.info.get("icc_profile"):
        keep["icc_profile"] = picture.info["icc_profile"]
    out = io.BytesIO()
    if suffix == ".jpg":
        # Same quantisation tables when nothing moved, so the re-encode changes the pixels least.
        quality: object = "keep" if upright is picture else 95
        upright.save(out, "JPEG", quality=quality, comment=b"", **keep)
    elif suffix == ".webp":
        upright.save(out, "WEBP", lossless=True, xmp=b"", **keep)
    else:
        upright.save(out, "PNG", **keep)
    clean = Image.open(io.BytesIO(out.getvalue()))
    clean.load()
    return out.getvalue(), clean


def read_background(data: bytes) -> Background:
    """The checked upload, with its metadata removed (what is stored and served is `.data`); else
    `ImageTooLarge`, `NotAnImage`, `BackgroundTooBig` or (corrupt, a bomb) `BadBackground`."""
    if len(data) > MAX_BACKGROUND_BYTES:
        raise ImageTooLarge(f"the image is too large: the limit is {MAX_BACKGROUND_BYTES / 1e6:.0f} MB")
    suffix = _SUFFIXES.get(image_kind(data) or "")
    if suffix is None:
        raise NotAnImage("the file is not a PNG, JPEG or WebP image")
    try:
        picture = open_image(data, max_bytes=MAX_BACKGROUND_BYTES, max_pixels=MAX_BACKGROUND_PIXELS)
    except BadImage as exc:
        raise BadBackground(str(exc)) from None
    data, picture = without_metadata(data, picture, suffix)
    width, height = picture.size
    if width > MAX_TEMPLATE_SIDE or height > MAX_TEMPLATE_SIDE:
        raise BackgroundTooBig(
            f"the image is {width}x{height}; templates are at most {MAX_TEMPLATE_SIDE} px a side"
        )
    return Background(data=data, suffix=suffix, width=width, height=height)


class AreaReview(BaseModel):
    """An area the editor should point at after a new background, and why."""

    area: str  # a text area's id, or "logo_area"
    reason: str


class Refit(BaseModel):
    """How the areas were carried over to a new background size."""

    areas: AreaFit
    previous_width: int
    previous_height: int
    width: int
    height: int
    needs_review: list[AreaReview] = []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> str:
        """One sentence for the admin: what happened to the areas, and which to look at."""
        was, now = f"{self.previous_width}x{self.previous_height}", f"{self.width}x{self.height}"
        if self.areas == "unchanged":
            return f"Same size ({now}): the areas are unchanged."
        if self.areas == "scaled":
            return f"Same shape, new size ({was} -> {now}): the areas were scaled with it."
        check = "; ".join(f"{r.area} ({r.reason})" for r in self.needs_review)
        return (
            f"Another shape ({was} -> {now}): the areas kept their places in pixels"
            + (f"; check {check}." if check else "; check each one sits where you want it.")
        )


def refit_areas(meta: TemplateMeta, width: int, height: int) -> tuple[TemplateMeta, Refit]:
    """`meta` with its size set to `width`x`height` and its areas carried over, and how they were."""
    old_w, old_h = meta.width, meta.height
    if (width, height) == (old_w, old_h):
        mode: AreaFit = "unchanged"
    elif abs((width / height) / (old_w / old_h) - 1) <= ASPECT_TOLERANCE:
        mode = "scaled"
    else:
        mode = "kept"
    sx, sy = width / old_w, height / old_h
    reviews: list[AreaReview] = []

    def place(name: str, box: Box) -> Box:
        if mode == "scaled":
            box = Box(
                x=round(box.x * sx), y=round(box.y * sy), w=round(box.w * sx) or 1, h=round(box.h * sy) or 1
            )
        inside = _inside(box, width, height)
        # Scaling can overshoot an edge by a rounding pixel; that is no reason to flag the area.
        if mode == "kept" and inside != box:
            change = "moved and shrunk" if (inside.w, inside.h) != (box.w, box.h) else "moved"
            reviews.append(
                AreaReview(area=name, reason=f"{change} to fit inside the new {width}x{height} image")
            )
        return inside

    scale = min(sx, sy) if mode == "scaled" else 1.0
    areas = [
        _scaled_area(area, scale).model_copy(update={"box": place(area.id, area.box)})
        for area in meta.text_areas
    ]
    logo = meta.logo_area
    if logo is not None:
        logo = logo.model_copy(update={"box": place(LOGO_AREA, logo.box)})
    refitted = TemplateMeta.model_validate(
        {
            **meta.model_dump(),
            "width": width,
            "height": height,
            "text_areas": [a.model_dump() for a in areas],
            "logo_area": logo.model_dump() if logo else None,
        }
    )
    report = Refit(
        areas=mode,
        previous_width=old_w,
        previous_height=old_h,
        width=width,
        height=height,
        needs_review=reviews,
    )
    return refitted, report


def _inside(box: Box, width: int, height: int) -> Box:
    """`box` moved inside a `width`x`height` image, and shrunk to it when it is larger."""
    w, h = min(box.w, width), min(box.h, height)
    return Box(x=min(box.x, width - w), y=min(box.y, height - h), w=w, h=h)


def _scaled_area(area: TextArea, scale: float) -> TextArea:
    """`area` with its type sizes, stroke and shadow scaled (kept within the schema's limits)."""
    if scale == 1.0:
        return area
    min_size = _clamp(round(area.min_size * scale), 4, 1000)
    max_size = _clamp(round(area.max_size * scale), min_size, 1000)
    shadow = area.shadow
    if shadow is not None:
        shadow = shadow.model_copy(
            update={
                "dx": _clamp(round(shadow.dx * scale), -50, 50),
                "dy": _clamp(round(shadow.dy * scale), -50, 50),
            }
        )
    return area.model_copy(
        update={
            "min_size": min_size,
            "max_size": max_size,
            "stroke_width": _clamp(round(area.stroke_width * scale), 0, 40),
            "shadow": shadow,
        }
    )


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))
