"""The frame the server makes: upright, cropped where the visitor placed the photo, under the
overlay, with no metadata; and every upload it cannot use refused with the reason."""

from __future__ import annotations

import io

import pillow_heif
import pytest
from PIL import Image, ImageCms, ImageDraw

from promostack.campaigns.photos import BadOverlay, BadPhoto, PhotoLimits, check_overlay, make_frame
from promostack.campaigns.schema import Placement

RED, BLUE, WHITE = (220, 20, 20), (20, 20, 220), (255, 255, 255)


def png(image: Image.Image, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **params)
    return out.getvalue()


def jpeg(image: Image.Image, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, **params)
    return out.getvalue()


def window_overlay(size: tuple[int, int] = (1080, 1080), border: int = 100) -> Image.Image:
    """A white frame `border` px wide around a see-through window."""
    overlay = Image.new("RGBA", size, (*WHITE, 255))
    ImageDraw.Draw(overlay).rectangle((border, border, size[0] - border - 1, size[1] - border - 1), fill=(0, 0, 0, 0))
    return check_overlay(png(overlay), "square" if size == (1080, 1080) else "portrait")


def halves(size: tuple[int, int], first: tuple[int, int, int], second: tuple[int, int, int], vertical: bool) -> Image.Image:
    """An image split in two colours: top/bottom when `vertical`, else left/right."""
    image = Image.new("RGB", size, first)
    w, h = size
    ImageDraw.Draw(image).rectangle((0, h // 2, w, h) if vertical else (w // 2, 0, w, h), fill=second)
    return image


def frame(data: bytes, placement: Placement = Placement(), overlay: Image.Image | None = None) -> Image.Image:
    result = make_frame(data, overlay or window_overlay(), "square", placement)
    return Image.open(io.BytesIO(result))


def near(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


def with_orientation(upright: Image.Image, orientation: int) -> bytes:
    """`upright` stored the way a camera stores it with EXIF `orientation` (as a JPEG)."""
    undo = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    return jpeg(upright.transpose(undo), exif=exif.tobytes())


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_phone_photo_comes_out_upright_whatever_its_exif_orientation(orientation: int) -> None:
    upright = halves((600, 800), RED, BLUE, vertical=True)  # red on top
    result = frame(with_orientation(upright, orientation))
    assert result.size == (1080, 1080)
    assert near(result.getpixel((540, 200)), RED) and near(result.getpixel((540, 880)), BLUE)


def test_the_photo_is_cover_cropped_where_the_visitor_dragged_it() -> None:
    wide = jpeg(halves((1600, 800), RED, BLUE, vertical=False))  # red left, blue right
    assert near(frame(wide, Placement(cx=0.0)).getpixel((540, 540)), RED)
    assert near(frame(wide, Placement(cx=1.0)).getpixel((540, 540)), BLUE)
    # Centred, the frame shows the middle: both halves.
    centred = frame(wide)
    assert near(centred.getpixel((300, 540)), RED) and near(centred.getpixel((780, 540)), BLUE)


def test_zooming_in_shows_a_smaller_part_of_the_photo() -> None:
    # A blue square in the middle third of a red photo fills the frame at zoom 3.
    photo = Image.new("RGB", (900, 900), RED)
    ImageDraw.Draw(photo).rectangle((300, 300, 599, 599), fill=BLUE)
    zoomed = frame(jpeg(photo), Placement(zoom=3.0))
    assert near(zoomed.getpixel((150, 150)), BLUE) and near(zoomed.getpixel((930, 930)), BLUE)
    assert near(frame(jpeg(photo)).getpixel((150, 150)), RED)


def test_the_overlay_covers_the_photo_and_its_window_shows_it() -> None:
    overlay = Image.new("RGBA", (1080, 1080), (*WHITE, 255))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle((100, 100, 979, 539), fill=(0, 0, 0, 0))  # see-through
    draw.rectangle((100, 540, 979, 979), fill=(255, 255, 255, 128))  # half see-through
    result = frame(jpeg(Image.new("RGB", (1200, 1200), BLUE)), overlay=check_overlay(png(overlay), "square"))
    assert near(result.getpixel((20, 20)), WHITE, 3)
    assert near(result.getpixel((540, 300)), BLUE, 10)
    assert near(result.getpixel((540, 800)), (137, 137, 237), 10)


def test_gps_and_all_other_metadata_are_stripped() -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    data = jpeg(Image.new("RGB", (1200, 1200), BLUE), exif=exif.tobytes(), comment=b"secret place")
    assert b"PhoneMaker" in data
    result = make_frame(data, window_overlay(), "square", Placement())
    image = Image.open(io.BytesIO(result))
    assert image.format == "JPEG"
    assert len(image.getexif()) == 0 and b"PhoneMaker" not in result and b"secret place" not in result
    assert not {"exif", "xmp", "comment", "icc_profile"} & set(image.info)


def swapped_primaries_profile() -> bytes:
    """An RGB ICC profile whose red and blue primaries are swapped (sRGB's, tags exchanged)."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = int.from_bytes(data[128:132], "big")
    tags = {bytes(data[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    red, blue = tags[b"rXYZ"], tags[b"bXYZ"]
    data[red + 4 : red + 8], data[blue + 4 : blue + 8] = data[blue + 4 : blue + 8], data[red + 4 : red + 8]
    return bytes(data)


def test_a_photo_with_a_colour_profile_is_converted_to_srgb_before_the_profile_is_dropped() -> None:
    photo = Image.new("RGB", (1200, 1200), RED)
    assert near(frame(jpeg(photo)).getpixel((540, 540)), RED)
    # The same pixels in a space whose "red" is sRGB's blue look blue once converted.
    result = frame(jpeg(photo, icc_profile=swapped_primaries_profile()))
    assert "icc_profile" not in result.info
    r, g, b = result.getpixel((540, 540))
    assert b > 150 and r < 100


def test_an_iphone_heic_photo_is_accepted_and_turned_upright() -> None:
    upright = halves((600, 800), RED, BLUE, vertical=True)
    heif = pillow_heif.from_pillow(upright.transpose(Image.Transpose.ROTATE_90))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    heif.save(out, quality=90, exif=exif.tobytes())
    result = frame(out.getvalue())
    assert near(result.getpixel((540, 200)), RED) and near(result.getpixel((540, 880)), BLUE)


def test_a_transparent_png_photo_is_put_on_white() -> None:
    result = frame(png(Image.new("RGBA", (1200, 1200), (0, 0, 0, 0))))
    assert near(result.getpixel((540, 540)), WHITE, 3)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"hello, this is text and not a photo at all", "not a photo"),
        (b"%PDF-1.7\n" + b"0" * 100, "not a photo"),
        (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64, "HEIC photo cannot be read"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "cannot be read|damaged"),
    ],
)
def test_a_file_that_is_not_a_usable_photo_is_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(BadPhoto, match=reason):
        make_frame(data, window_overlay(), "square", Placement())


def test_a_truncated_jpeg_is_refused() -> None:
    data = jpeg(halves((1600, 1200), RED, BLUE, vertical=True))
    with pytest.raises(BadPhoto, match="damaged or cut off"):
        make_frame(data[: len(data) // 2], window_overlay(), "square", Placement())


def test_a_photo_over_the_byte_limit_is_refused_saying_the_limit() -> None:
    data = jpeg(Image.new("RGB", (1200, 1200), BLUE))
    with pytest.raises(BadPhoto, match="the limit is 0 MB|the limit is"):
        make_frame(data, window_overlay(), "square", Placement(), PhotoLimits(max_bytes=len(data) - 1))


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    bomb = png(Image.new("1", (12_000, 12_000)))  # 144 megapixels in a few kilobytes
    assert len(bomb) < 100_000
    with pytest.raises(BadPhoto, match="megapixels"):
        make_frame(bomb, window_overlay(), "square", Placement())
    with pytest.raises(BadPhoto, match="2000x1000 pixels; the limit is 1 megapixels"):
        make_frame(png(Image.new("RGB", (2000, 1000))), window_overlay(), "square", Placement(), PhotoLimits(max_pixels=1_000_000))


@pytest.mark.parametrize(
    ("overlay", "shape", "reason"),
    [
        (jpeg(Image.new("RGB", (1080, 1080))), "square", "must be a PNG"),
        (png(Image.new("RGBA", (1000, 1000), (0, 0, 0, 0))), "square", "1000x1000; the square shape needs exactly 1080x1080"),
        (png(Image.new("RGBA", (1080, 1080), (0, 0, 0, 0))), "story", "the story shape needs exactly 1080x1920"),
        (png(Image.new("RGB", (1080, 1080), WHITE)), "square", "no transparency"),
        (png(Image.new("RGBA", (1080, 1080), (*WHITE, 255))), "square", "0.0% of the overlay is see-through"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "square", "damaged"),
        (b"", "square", "empty"),
    ],
)
def test_an_overlay_that_would_not_frame_a_photo_is_refused_with_the_reason(overlay: bytes, shape: str, reason: str) -> None:
    with pytest.raises(BadOverlay, match=reason):
        check_overlay(overlay, shape)  # type: ignore[arg-type]
