"""The frame: a visitor's photo cover-cropped at the chosen placement, under the campaign's overlay,
as a JPEG with no metadata.

Photos are untrusted bytes. They are identified by their magic bytes (JPEG, PNG, WebP, and HEIC
from iPhones through pillow-heif), their pixel count is checked from the header before anything
is decoded (decompression bombs), EXIF orientation is applied, and nothing of the file's metadata
(EXIF with GPS, XMP, comments) reaches the output: the output is encoded from pixels alone.
JPEGs are decoded at the smallest scale (1/2, 1/4, 1/8) that still covers the crop at full output
size, which is most of the speed on 12-megapixel phone photos.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageCms

from promostack.campaigns.schema import SHAPES, Placement, Shape
from promostack.errors import InvalidInput
from promostack.render.images import image_kind

DEFAULT_MAX_PHOTO_BYTES = 20_000_000
DEFAULT_MAX_PHOTO_PIXELS = 50_000_000
JPEG_QUALITY = 90
EXIF_ORIENTATION = 0x0112
# Orientations 5-8 turn the picture a quarter: its width and height swap.
_QUARTER_TURNS = {5, 6, 7, 8}
# What turns a picture stored with each EXIF orientation upright (as ImageOps.exif_transpose).
_TRANSPOSE: dict[int, Image.Transpose | None] = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# An overlay must leave at least this share of the frame see-through, or the photo is hidden.
MIN_OVERLAY_WINDOW = 0.05
_SRGB = ImageCms.createProfile("sRGB")


class BadPhoto(InvalidInput):
    """The upload cannot be used as a photo; the message says why and what would do."""

    field = "photo"


class BadOverlay(InvalidInput):
    """The upload cannot be used as an overlay; the message says why."""

    field = "overlay"


@dataclass(frozen=True)
class PhotoLimits:
    """How large an upload may be, in bytes and in pixels."""

    max_bytes: int = DEFAULT_MAX_PHOTO_BYTES
    max_pixels: int = DEFAULT_MAX_PHOTO_PIXELS


def make_frame(
    data: bytes, overlay: Image.Image, shape: Shape, placement: Placement, limits: PhotoLimits = PhotoLimits()
) -> bytes:
    """The finished JPEG: `data` cover-cropped at `placement`, composited under `overlay`."""
    size = SHAPES[shape]
    photo = _load_for(data, size, placement, limits)
    framed = _crop(photo, size, placement)
    framed = _to_srgb(framed, photo.icc_profile)
    if overlay.size != size:
        raise BadOverlay(f"the overlay is {overlay.width}x{overlay.height}; the {shape} shape needs {size[0]}x{size[1]}")
    framed.paste(overlay, (0, 0), overlay)
    # Pillow carries the source's info (a JPEG comment, XMP, EXIF) through resizing and saves
    # some of it again: the output is made from the pixels alone.
    framed.info = {}
    out = io.BytesIO()
    framed.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


@dataclass(frozen=True)
class _Loaded:
    image: Image.Image  # RGB as stored (not yet turned upright), possibly reduced by JPEG drafting
    stored_size: tuple[int, int]  # the file's size before any reduction
    orientation: int  # EXIF orientation, 1-8
    icc_profile: bytes | None

    @property
    def upright_size(self) -> tuple[int, int]:
        width, height = self.stored_size
        return (height, width) if self.orientation in _QUARTER_TURNS else (width, height)


def _load_for(data: bytes, size: tuple[int, int], placement: Placement, limits: PhotoLimits) -> _Loaded:
    if not data:
        raise BadPhoto("the file is empty: choose a photo")
    if len(data) > limits.max_bytes:
        raise BadPhoto(f"the photo is {len(data) / 1e6:.1f} MB; the limit is {limits.max_bytes / 1e6:.0f} MB")
    kind = image_kind(data)
    if kind is None:
        raise BadPhoto("the file is not a photo: use a JPEG, PNG, WebP or HEIC image")
    image = _open_heic(data, limits) if kind == "heic" else _open(data, kind, limits)
    icc = image.info.get("icc_profile")
    try:
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
        orientation = orientation if orientation in _TRANSPOSE else 1
        loaded = _Loaded(image, image.size, orientation, icc)
        if kind == "jpeg":
            # Decode at the smallest 1/2^n scale that still gives the crop its full output size.
            scale = _cover_scale(loaded.upright_size, size, placement.zoom)
            image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise BadPhoto(f"the photo is damaged or cut off ({exc})") from None
    return _Loaded(_flatten(image), loaded.stored_size, orientation, icc)


def _open(data: bytes, kind: str, limits: PhotoLimits) -> Image.Image:
    try:
        # Pillow warns, then refuses, past its own bomb limit; the check below is ours.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=(kind.upper(),))
    except Image.DecompressionBombError:
        raise BadPhoto(_too_many_pixels(None, limits)) from None
    except (Image.UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise BadPhoto(f"the file looks like a {kind.upper()} but cannot be read") from None
    if image.width * image.height > limits.max_pixels:
        raise BadPhoto(_too_many_pixels(image.size, limits))
    return image


def _open_heic(data: bytes, limits: PhotoLimits) -> Image.Image:
    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        if heif.size[0] * heif.size[1] > limits.max_pixels:
            raise BadPhoto(_too_many_pixels(heif.size, limits))
        # libheif applies the file's rotation and mirroring while decoding.
        return heif.to_pillow()
    except BadPhoto:
        raise
    except (ValueError, RuntimeError, OSError, SyntaxError) as exc:
        raise BadPhoto(f"the HEIC photo cannot be read ({exc}); try a JPEG instead") from None


def _too_many_pixels(size: tuple[int, int] | None, limits: PhotoLimits) -> str:
    what = f"{size[0]}x{size[1]} pixels" if size else "far too many pixels"
    return f"the photo is {what}; the limit is {limits.max_pixels / 1e6:.0f} megapixels"


def _cover_scale(photo: tuple[int, int], frame: tuple[int, int], zoom: float) -> float:
    """How much the photo is scaled so it covers the frame at `zoom`."""
    return max(frame[0] / photo[0], frame[1] / photo[1]) * zoom


def _flatten(image: Image.Image) -> Image.Image:
    """`image` as RGB; see-through parts of a PNG or WebP become white."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, (0, 0), rgba)
        return flat
    return image.convert("RGB")


def _crop(photo: _Loaded, frame: tuple[int, int], placement: Placement) -> Image.Image:
    """The frame-sized part of the photo that `placement` chooses, scaled to the frame, upright.

    The crop is cut from the photo as stored and only the small result is turned upright:
    turning a 12-megapixel photo first costs more than everything else together.
    """
    upright = photo.upright_size
    scale = _cover_scale(upright, frame, placement.zoom)
    # The crop in upright pixels, kept inside the photo however far it was dragged.
    crop_w, crop_h = frame[0] / scale, frame[1] / scale
    left = min(max(placement.cx * upright[0] - crop_w / 2, 0.0), upright[0] - crop_w)
    top = min(max(placement.cy * upright[1] - crop_h / 2, 0.0), upright[1] - crop_h)
    corners = [_stored_point(photo, x, y) for x, y in ((left, top), (left + crop_w, top + crop_h))]
    # The same box in the decoded image, which JPEG drafting may have made smaller.
    image = photo.image
    rx, ry = image.width / photo.stored_size[0], image.height / photo.stored_size[1]
    xs, ys = sorted(c[0] * rx for c in corners), sorted(c[1] * ry for c in corners)
    box = (max(0.0, xs[0]), max(0.0, ys[0]), min(float(image.width), xs[1]), min(float(image.height), ys[1]))
    turned = photo.orientation in _QUARTER_TURNS
    out = image.resize((frame[1], frame[0]) if turned else frame, Image.Resampling.BICUBIC, box=box, reducing_gap=2.0)
    method = _TRANSPOSE[photo.orientation]
    return out.transpose(method) if method is not None else out


def _stored_point(photo: _Loaded, u: float, v: float) -> tuple[float, float]:
    """The point of the stored image that EXIF orientation puts at upright (u, v)."""
    w, h = photo.stored_size
    return {
        1: (u, v), 2: (w - u, v), 3: (w - u, h - v), 4: (u, h - v),
        5: (v, u), 6: (v, h - u), 7: (w - v, h - u), 8: (w - v, u),
    }[photo.orientation]


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """`image` converted from its embedded colour profile (an iPhone's Display P3) to sRGB, which
    the output assumes once the profile is stripped with the rest of the metadata."""
    if not icc_profile:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        return ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB") or image
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: keep the pixels as they are


def check_overlay(data: bytes, shape: Shape, max_bytes: int = 10_000_000) -> Image.Image:
    """The overlay as RGBA when `data` is a PNG of the shape's size with a see-through window;
    BadOverlay saying what is wrong otherwise."""
    width, height = SHAPES[shape]
    if not data:
        raise BadOverlay("the file is empty: choose a PNG")
    if len(data) > max_bytes:
        raise BadOverlay(f"the overlay is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB")
    if image_kind(data) != "png":
        raise BadOverlay("the overlay must be a PNG with transparency (this file is not a PNG)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=("PNG",))
        if image.size != (width, height):
            raise BadOverlay(f"the overlay is {image.width}x{image.height}; the {shape} shape needs exactly {width}x{height}")
        image.load()
    except BadOverlay:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, OSError, ValueError, SyntaxError, EOFError):
        raise BadOverlay("the PNG is damaged or cannot be read") from None
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if not has_alpha:
        raise BadOverlay("the overlay has no transparency: the photo would be hidden. Export it as a PNG with a see-through window")
    rgba = image.convert("RGBA")
    alpha_counts = rgba.getchannel("A").histogram()
    window = sum(alpha_counts[:128]) / (width * height)
    if window < MIN_OVERLAY_WINDOW:
        raise BadOverlay(
            f"only {window:.1%} of the overlay is see-through; at least {MIN_OVERLAY_WINDOW:.0%} must be, "
            "or the photo would be hidden"
        )
    return rgba
