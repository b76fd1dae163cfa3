"""open_image: untrusted upload bytes become a loaded image or a BadImage that says why."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from promostack.render import BadImage, open_image


def encoded(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_common_formats_open_fully_loaded(fmt: str) -> None:
    image = open_image(encoded(Image.new("RGB", (64, 32), (10, 200, 30)), fmt))
    assert image.size == (64, 32)
    assert image.convert("RGB").getpixel((5, 5))[1] > 150


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    image = open_image(encoded(Image.new("RGB", (80, 20)), "JPEG", exif=exif))
    assert image.size == (20, 80)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"this is a text file, not a picture", "not a PNG, JPEG, WebP or GIF"),
        (b"%PDF-1.7\n" + b"0" * 100, "not a PNG, JPEG, WebP or GIF"),
    ],
)
def test_non_images_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(BadImage, match=reason):
        open_image(data)


def test_truncated_image_is_refused() -> None:
    noisy = Image.effect_noise((300, 300), 80).convert("RGB")
    data = encoded(noisy)
    with pytest.raises(BadImage, match="damaged or truncated"):
        open_image(data[: len(data) // 2])


def test_oversized_bytes_are_refused_before_decoding() -> None:
    with pytest.raises(BadImage, match="15,000,001 bytes; the limit is 15,000,000"):
        open_image(b"\x89PNG" + b"\0" * (15_000_001 - 4))


def test_decompression_bomb_is_refused_from_its_header() -> None:
    # 10000 x 5000 one-bit pixels compress to a few kilobytes but are 50 megapixels: over
    # Pillow's limit (where it would only warn) and ours.
    bomb = encoded(Image.new("1", (10_000, 5_000)))
    assert len(bomb) < 100_000
    with pytest.raises(BadImage, match=r"too large to decode safely .*50000000 pixels"):
        open_image(bomb)


def test_far_over_the_limit_pillows_bomb_error_becomes_bad_image() -> None:
    bomb = encoded(Image.new("1", (10_000, 9_000)))
    with pytest.raises(BadImage, match="too large to decode safely"):
        open_image(bomb)


def test_pixel_limit_can_be_lowered_per_call_and_names_the_size() -> None:
    with pytest.raises(BadImage, match=r"50x50 \(2,500 pixels\); the limit is 1,000 pixels"):
        open_image(encoded(Image.new("RGB", (50, 50))), max_pixels=1_000)
