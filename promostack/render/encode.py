"""Finished images to bytes: the one encode step every PNG, JPEG and WebP leaves the engine by.

PNG goes through libvips (`pyvips`, with the libvips of the `pyvips-binary` wheel: libpng on
zlib-ng, rows unfiltered): on the demo templates it encodes 4-8x faster than Pillow's default
`save(PNG)`, the files between 19 % smaller and 19 % larger, decoding to the very same pixels. The
comparison with fpng, Pillow's compress levels and the others is in the README ("Rendering") and
re-measured by `bench/png_encoders.py`. Pillow stays the encoder for the image modes libvips is not
handed here (palette, 1-bit, 16-bit, CMYK...): the engine itself only makes RGB and RGBA, so the
fallback is for callers encoding other images through this same function.

JPEG and WebP are Pillow's (libjpeg-turbo, libwebp).
"""

from __future__ import annotations

import io
from typing import Literal

import pyvips
from PIL import Image

from promostack.render.errors import RenderError

ImageFormat = Literal["png", "jpeg", "webp"]
FORMATS: tuple[ImageFormat, ...] = ("png", "jpeg", "webp")

# 8-bit modes whose bytes libvips reads as they are: bands per pixel.
VIPS_BANDS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
# zlib level 6 (libvips' default, as Pillow's): with libvips' unfiltered rows it is already
# faster than any Pillow level at about the size of Pillow's level 6 (0.81-1.19x on the demos);
# level 1 buys a few ms for files 1.6-2.4x larger (README table).
PNG_COMPRESSION = 6
# libvips always writes a pHYs chunk (default 1 px/mm, i.e. 25.4 dpi, which print dialogs take
# at its word: a coupon would print a metre wide); say 72 dpi, the screen convention.
PNG_PIXELS_PER_MM = 72 / 25.4


def encode_png(image: Image.Image) -> bytes:
    """`image` as PNG bytes: libvips for 8-bit L/LA/RGB/RGBA, Pillow's encoder for other modes."""
    bands = VIPS_BANDS.get(image.mode)
    if bands is None:
        out = io.BytesIO()
        image.save(out, "PNG")
        return out.getvalue()
    pixels = pyvips.Image.new_from_memory(image.tobytes(), image.width, image.height, bands, "uchar")
    pixels = pixels.copy(xres=PNG_PIXELS_PER_MM, yres=PNG_PIXELS_PER_MM)
    # keep=NONE: no eXIf/XMP chunks from libvips' defaults; the file is pixels only, as Pillow's.
    return pixels.pngsave_buffer(compression=PNG_COMPRESSION, keep=pyvips.enums.ForeignKeep.NONE)


def flatten_on_white(image: Image.Image) -> Image.Image:
    """`image` in RGB, any transparency composited onto white (what JPEG cannot carry)."""
    if image.mode == "RGB":
        return image
    if "A" not in image.getbands() and "transparency" not in image.info:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    flat = Image.new("RGB", image.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


def check_output(fmt: str, quality: int) -> None:
    """Nothing when `fmt` and `quality` can be encoded, else RenderError saying what to change."""
    if fmt not in FORMATS:
        raise RenderError(f"unsupported output format '{fmt}'; use png, jpeg or webp")
    if not 1 <= quality <= 100:
        raise RenderError(f"quality {quality} is out of range 1-100")


NO_METADATA: dict[str, bytes] = {"comment": b"", "exif": b""}


def encode_image(image: Image.Image, fmt: ImageFormat, quality: int) -> bytes:
    """`image` encoded as `fmt`; JPEG gets RGB (transparency flattened onto white)."""
    check_output(fmt, quality)
    if fmt == "png":
        return encode_png(image)
    out = io.BytesIO()
    # Empty metadata given explicitly: Pillow otherwise copies a background's comment (or EXIF)
    # that came along in `image.info` into the output.
    if fmt == "jpeg":
        flatten_on_white(image).save(out, "JPEG", quality=quality, optimize=False, **NO_METADATA)
    else:
        image.save(out, "WEBP", quality=quality, exif=b"", xmp=b"")
    return out.getvalue()
