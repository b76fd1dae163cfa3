"""The encode step: every PNG it writes decodes to exactly the pixels Pillow would have written,
whichever encoder took the image; JPEG and WebP still come out right."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from promostack.render import encode_image, encode_png, render_canvas, render_template
from promostack.render.encode import VIPS_BANDS
from promostack.templates.demo import DEMO_DIR
from promostack.templates.schema import TemplateMeta

DEMOS = sorted(p.parent for p in DEMO_DIR.glob("*/meta.json"))


def demo(folder: Path) -> tuple[TemplateMeta, bytes]:
    meta = TemplateMeta.model_validate_json((folder / "meta.json").read_text(encoding="utf-8"))
    return meta, (folder / "background.png").read_bytes()


def pillow_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_same_pixels(ours: bytes, reference: bytes) -> None:
    mine, theirs = decoded(ours), decoded(reference)
    assert (mine.mode, mine.size) == (theirs.mode, theirs.size)
    assert mine.tobytes() == theirs.tobytes()


def noise(mode: str, size: tuple[int, int], seed: int = 7) -> Image.Image:
    """An image of `mode` whose every byte is random: no encoder shortcut hides a wrong pixel."""
    bands = len(Image.new(mode, (1, 1)).getbands())
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], bands), dtype=np.uint8)
    return Image.fromarray(pixels.squeeze(axis=2) if bands == 1 else pixels, mode)


@pytest.mark.parametrize("folder", DEMOS, ids=lambda p: p.name)
def test_demo_render_png_decodes_to_the_pixels_pillow_would_have_written(folder: Path) -> None:
    meta, background = demo(folder)
    texts = {meta.coupon_area.id: "PIXEL-PERFECT"}
    png = render_template(meta, background, texts)
    assert_same_pixels(png, pillow_png(render_canvas(meta, background, texts)))


@pytest.mark.parametrize("folder", DEMOS, ids=lambda p: p.name)
def test_demo_render_png_stays_near_pillows_size(folder: Path) -> None:
    meta, background = demo(folder)
    canvas = render_canvas(meta, background, {})
    # Measured 0.81-1.19x; the ceiling is 1.8x.
    assert len(encode_png(canvas)) <= 1.3 * len(pillow_png(canvas))


@pytest.mark.parametrize("mode", sorted(VIPS_BANDS))
@pytest.mark.parametrize("size", [(1, 1), (3, 1), (1, 5), (257, 129)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_libvips_modes_decode_to_pillows_pixels_at_any_size(mode: str, size: tuple[int, int]) -> None:
    image = noise(mode, size)
    assert_same_pixels(encode_png(image), pillow_png(image))


def test_fully_transparent_pixels_keep_their_colour() -> None:
    image = noise("RGBA", (64, 64))
    image.putalpha(0)
    assert_same_pixels(encode_png(image), pillow_png(image))


@pytest.mark.parametrize("mode", ["P", "1", "I;16"])
def test_modes_libvips_is_not_given_fall_back_to_pillow_with_the_same_pixels(mode: str) -> None:
    image = noise("L", (40, 30)).convert(mode) if mode != "P" else noise("RGB", (40, 30)).quantize(64)
    assert mode not in VIPS_BANDS
    png = encode_png(image)
    assert png == pillow_png(image)
    assert_same_pixels(png, pillow_png(image))


def test_png_says_72_dpi_so_it_prints_at_screen_size() -> None:
    dpi = decoded(encode_png(noise("RGB", (10, 10)))).info["dpi"]
    assert dpi == pytest.approx((72, 72), abs=0.01)


def test_png_carries_no_metadata_chunks() -> None:
    info = decoded(encode_png(noise("RGB", (10, 10)))).info
    assert set(info) <= {"dpi"}


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_lossy_formats_keep_size_and_stay_close_to_the_pixels(fmt: str) -> None:
    meta, background = demo(DEMOS[0])
    canvas = render_canvas(meta, background, {})
    out = decoded(encode_image(canvas, fmt, 95)).convert("RGB")
    assert out.size == canvas.size
    error = np.abs(np.asarray(out, dtype=np.int16) - np.asarray(canvas, dtype=np.int16)).mean()
    assert error < 3


def test_jpeg_puts_transparency_on_white() -> None:
    image = Image.new("RGBA", (32, 32), (255, 0, 0, 0))
    out = decoded(encode_image(image, "jpeg", 95)).convert("RGB")
    assert min(out.getpixel((16, 16))) >= 250


def test_the_engine_png_is_the_encode_step_output() -> None:
    meta, background = demo(DEMOS[0])
    texts = {meta.coupon_area.id: "ONE-PATH"}
    assert render_template(meta, background, texts) == encode_png(render_canvas(meta, background, texts))


def test_threads_encoding_at_once_each_get_their_own_pixels() -> None:
    images = [noise("RGBA", (300, 200), seed) for seed in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        files = list(pool.map(encode_png, images * 3))
    for image, png in zip(images * 3, files, strict=True):
        assert decoded(png).tobytes() == image.tobytes()
