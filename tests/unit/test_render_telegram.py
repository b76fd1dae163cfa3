"""The Telegram photo: a JPEG within sendPhoto's limits that keeps colour at full resolution."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from promostack.render import RenderError, photo_jpeg, render_canvas, telegram_photo
from promostack.render.telegram import PHOTO_KEPT_SIDE, PHOTO_MAX_BYTES
from promostack.templates.demo import DEMO_DIR
from promostack.templates.schema import TemplateMeta

DEMOS = sorted(p.parent for p in DEMO_DIR.glob("*/meta.json"))


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def psnr(a: Image.Image, b: Image.Image) -> float:
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return float(10 * np.log10(255**2 / np.mean(diff * diff)))


@pytest.mark.parametrize("folder", DEMOS, ids=lambda p: p.name)
def test_demo_photo_is_a_full_size_full_colour_jpeg_close_to_the_render(folder: Path) -> None:
    meta = TemplateMeta.model_validate_json((folder / "meta.json").read_text(encoding="utf-8"))
    background = (folder / "background.png").read_bytes()
    texts = {meta.coupon_area.id: "TG-PHOTO-1"}
    photo = opened(telegram_photo(meta, background, texts))
    assert photo.format == "JPEG" and photo.size == (meta.width, meta.height)
    assert JpegImagePlugin.get_sampling(photo) == 0  # 4:4:4: coloured text edges stay sharp
    assert psnr(photo, render_canvas(meta, background, texts)) > 40


def test_photo_larger_than_telegram_keeps_is_scaled_to_2560_on_its_long_side() -> None:
    photo = opened(photo_jpeg(Image.new("RGB", (5000, 1000), "navy")))
    assert photo.size == (PHOTO_KEPT_SIDE, 512)


def test_transparent_parts_arrive_white_not_black() -> None:
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    assert min(opened(photo_jpeg(image)).convert("RGB").getpixel((32, 32))) >= 250


def test_strip_narrower_than_one_to_twenty_is_refused_with_the_file_advice() -> None:
    with pytest.raises(RenderError, match="send it as a file"):
        photo_jpeg(Image.new("RGB", (2100, 100), "white"))


def test_noise_that_is_over_10_mb_at_full_quality_still_becomes_a_photo_under_the_limit() -> None:
    pixels = np.random.default_rng(3).integers(0, 256, (PHOTO_KEPT_SIDE, PHOTO_KEPT_SIDE, 3), dtype=np.uint8)
    image = Image.fromarray(pixels, "RGB")
    first_try = io.BytesIO()
    image.save(first_try, "JPEG", quality=95, subsampling=0)
    assert first_try.tell() > PHOTO_MAX_BYTES  # the case the fallback exists for
    photo = photo_jpeg(image)
    assert len(photo) <= PHOTO_MAX_BYTES and opened(photo).size == image.size
