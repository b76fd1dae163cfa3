"""Photo metadata: what a phone's JPEG carries (GPS, camera, comments) never reaches the public."""

from __future__ import annotations

import io

from PIL import Image
from starlette.testclient import TestClient

from promostack.render import render_template
from promostack.templates.store import TemplateStore
from tests.security.conftest import Instance

GPS_IFD = 0x8825


def _phone_photo(width: int = 400, height: int = 300, orientation: int = 1) -> bytes:
    """A JPEG as a phone makes it: EXIF with a GPS position and an orientation, and a comment."""
    picture = Image.new("RGB", (width, height), (200, 40, 40))
    picture.paste((20, 20, 220), (0, 0, width // 4, height))  # a blue band on the left edge
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=92, exif=exif, comment=b"home address: 1 Secret Lane")
    return out.getvalue()


def _served_background(instance: Instance, client: TestClient, photo: bytes) -> bytes:
    token = instance.admin(client)
    made = client.post(
        "/admin/api/templates",
        data={"name": "Phone photo", "slug": "phone-photo"},
        files={"image": ("photo.jpg", photo, "image/jpeg")},
        headers={"X-CSRF-Token": token},
    )
    assert made.status_code == 201, made.text
    meta = instance.runtime.templates.get("phone-photo")
    return instance.runtime.store.get(meta.image_key)


def test_an_uploaded_background_is_stored_and_served_without_exif_gps_or_comment(
    instance: Instance, site: TestClient
) -> None:
    stored = _served_background(instance, site, _phone_photo())
    picture = Image.open(io.BytesIO(stored))
    assert b"Secret Lane" not in stored and b"PhoneMaker" not in stored
    assert "comment" not in picture.info and not picture.getexif()
    assert picture.size == (400, 300)


def test_a_sideways_phone_photo_is_stored_upright_once_its_orientation_tag_is_gone(
    instance: Instance, site: TestClient
) -> None:
    # Orientation 6: the viewer must turn it 90° clockwise; the blue band then runs along the top.
    stored = _served_background(instance, site, _phone_photo(orientation=6))
    picture = Image.open(io.BytesIO(stored)).convert("RGB")
    assert picture.size == (300, 400) and not picture.getexif()
    red, green, blue = picture.getpixel((150, 10))
    assert blue > 150 and red < 100


def test_a_rendered_jpeg_carries_no_comment_or_exif_from_its_background(instance: Instance) -> None:
    store = TemplateStore(instance.runtime.store)
    meta = store.get(store.visible("web")[0].slug)
    background = Image.open(io.BytesIO(store.image(meta.slug, meta))).convert("RGB").resize((meta.width, meta.height))
    out = io.BytesIO()
    background.save(out, "JPEG", comment=b"leaked comment", exif=Image.Exif())
    rendered = render_template(meta, out.getvalue(), {}, fmt="jpeg", quality=85)
    assert b"leaked comment" not in rendered
    assert "comment" not in Image.open(io.BytesIO(rendered)).info
