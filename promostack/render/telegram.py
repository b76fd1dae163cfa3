"""The Telegram photo: the JPEG that `sendPhoto` uploads, made so that Telegram's own re-encode
leaves the user with (nearly) what a lossless upload would have given.

Telegram re-encodes every photo as a 4:2:0 JPEG (its quality is not documented; about 80 is the
usual observation) and keeps sides up to 2560 px. Measured on the demo templates
(`bench/telegram_photo.py`, Telegram simulated with Pillow at quality 80 and 87): what the user
receives from our JPEG at quality 95 with full-resolution colour (4:4:4) is within 0.3 dB PSNR
of what a PNG upload gives; the default 4:2:0 loses 1-3 dB at any quality (red and yellow text
edges bleed), so the colour resolution matters more than the quality number.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from PIL import Image

from promostack.render.encode import NO_METADATA, flatten_on_white
from promostack.render.engine import render_canvas
from promostack.render.errors import RenderError
from promostack.templates.schema import TemplateMeta

PHOTO_QUALITY = 95
PHOTO_SUBSAMPLING = 0  # Pillow's code for 4:4:4: chroma at full resolution
PHOTO_FALLBACK_QUALITIES = (85, 70)
# Telegram's sendPhoto limits (Bot API): 10 MB, width + height <= 10000, ratio <= 20.
PHOTO_MAX_BYTES = 10_000_000
PHOTO_MAX_SIDES = 10_000
PHOTO_MAX_RATIO = 20
# Telegram keeps no photo size above 2560 px a side: more is upload the user never sees.
PHOTO_KEPT_SIDE = 2560


def telegram_photo(
    meta: TemplateMeta, background: bytes, texts: Mapping[str, str], *, logo: bytes | None = None
) -> bytes:
    """The JPEG bytes to upload with `sendPhoto` for this render (same inputs and errors as
    `render_template`); the lossless file is `render_template(..., fmt="png")`."""
    return photo_jpeg(render_canvas(meta, background, texts, logo=logo))


def photo_jpeg(image: Image.Image) -> bytes:
    """`image` as a JPEG within Telegram's photo limits (scaled down to 2560 px a side if larger,
    transparency on white); RenderError for a strip too narrow to be a Telegram photo."""
    width, height = image.size
    if max(width, height) > PHOTO_MAX_RATIO * min(width, height):
        raise RenderError(
            f"a {width}x{height} image is too narrow for a Telegram photo (sides at most "
            f"{PHOTO_MAX_RATIO}:1); send it as a file"
        )
    scale = PHOTO_KEPT_SIDE / max(width, height)
    if scale < 1:  # which also keeps width + height far under PHOTO_MAX_SIDES
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    flat = flatten_on_white(image)
    # Only noise-like pictures near 2560 px exceed 10 MB at 95; they get a lower quality rather
    # than no photo.
    for quality in (PHOTO_QUALITY, *PHOTO_FALLBACK_QUALITIES):
        out = io.BytesIO()
        flat.save(out, "JPEG", quality=quality, subsampling=PHOTO_SUBSAMPLING, **NO_METADATA)
        if out.tell() <= PHOTO_MAX_BYTES:
            return out.getvalue()
    raise RenderError(f"the photo stays over Telegram's {PHOTO_MAX_BYTES:,} bytes; send it as a file")
