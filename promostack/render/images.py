"""Images in: untrusted bytes to a loaded Pillow image (the way out is `promostack.render.encode`)."""

from __future__ import annotations

import io
import warnings
from typing import Literal

from PIL import Image, ImageOps

from promostack.render.errors import BadImage

DEFAULT_MAX_BYTES = 15_000_000
DEFAULT_MAX_PIXELS = 40_000_000
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
EXIF_ORIENTATION = 0x0112

# Pillow's own bomb guard, set on purpose to our default limit: Pillow warns above it and raises
# DecompressionBombError above twice it; open_image turns both into BadImage, so a `max_pixels`
# above this limit has no effect.
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS

_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")


def image_kind(data: bytes) -> Literal["jpeg", "png", "webp", "heic"] | None:
    """"jpeg", "png", "webp" or "heic" by the file's magic bytes (never its name); None otherwise."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "heic"
    return None


def open_image(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Image.Image:
    """A fully loaded image from untrusted bytes (EXIF orientation applied), or BadImage.

    Refused: empty or oversized byte strings, anything but PNG/JPEG/WebP/GIF, truncated or
    corrupt files, and images over `max_pixels` (checked from the header, before decoding).
    """
    if not data:
        raise BadImage("the image is empty (0 bytes)")
    if len(data) > max_bytes:
        raise BadImage(f"the image is {len(data):,} bytes; the limit is {max_bytes:,}")
    try:
        # Pillow only warns between its limit and twice it; make that a refusal too. (The
        # filter change is process-wide for a moment; at worst another thread's open raises
        # for an image it would have refused anyway.)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage(f"the image is too large to decode safely ({exc})") from None
    except (Image.UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise BadImage("the file is not a PNG, JPEG, WebP or GIF image") from None
    width, height = image.size
    if width * height > max_pixels:
        raise BadImage(
            f"the image is {width}x{height} ({width * height:,} pixels); the limit is {max_pixels:,} pixels"
        )
    try:
        image.load()
        # exif_transpose copies even an upright image; only photos that need turning pay for it.
        if image.getexif().get(EXIF_ORIENTATION, 1) != 1:
            image = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise BadImage(f"the image is damaged or truncated ({exc})") from None
    return image

