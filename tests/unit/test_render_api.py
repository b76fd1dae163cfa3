"""The render engine's public API: a template, a background and texts make a finished image."""

from __future__ import annotations

import io

from PIL import Image

import promostack.render as render
from promostack.templates.schema import TemplateMeta


def _png(size: tuple[int, int], color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def test_render_template_draws_the_coupon_code_in_its_box() -> None:
    meta = TemplateMeta(
        slug="plain",
        name="Plain",
        image_key="templates/plain/bg.png",
        width=400,
        height=200,
        text_areas=[
            {
                "id": "code",
                "source": "coupon",
                "box": {"x": 20, "y": 50, "w": 360, "h": 100},
                "color": "#000000",
            }
        ],
    )
    out = Image.open(
        io.BytesIO(render.render_template(meta, _png((400, 200), (255, 255, 255)), {"code": "SAVE20"}))
    )
    dark = [(x, y) for x in range(400) for y in range(200) if out.getpixel((x, y))[0] < 100]
    assert out.size == (400, 200)
    assert dark, "the code was not drawn"
    xs, ys = [p[0] for p in dark], [p[1] for p in dark]
    assert 20 <= min(xs) and max(xs) < 380 and 50 <= min(ys) and max(ys) < 150
