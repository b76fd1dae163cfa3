"""The preview equals the server: every demo template drawn by render.js in Chromium's canvas at
1× is compared, pixel by pixel, with `render_template`'s PNG for the same texts.

Tolerance, and why: both sides place every line identically (same size, same lines, same
baselines and x to a fraction of a pixel; asserted exactly below), but Skia and FreeType
anti-alias glyph edges differently and Pillow positions a glyph's fractional x differently from
Skia. That leaves a one-pixel fringe along glyph outlines and nothing else. Measured here
(Chromium 156, Pillow 13 with raqm), over 3 templates × 2 text sets: mean absolute difference
0.30-0.44 levels per channel, 98.8-99.4% of pixels within 16 levels, 99.5-99.7% within 48. A wrong size, wrap or placement
moves whole glyphs and fails these bounds by a wide margin.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from promostack.render import fit_text, render_template
from promostack.templates.schema import TemplateMeta
from tests.browser.public_support import PublicSite, demo_slugs, public_site  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

MAX_MEAN_DIFF = 1.0  # levels (0-255) per channel, over the whole image
MIN_WITHIN_16 = 0.98  # share of pixels whose largest channel difference is at most 16 levels
MIN_WITHIN_48 = 0.99  # ... at most 48 levels
MAX_X_DRIFT = 0.25  # px between the canvas's and Pillow's measured line widths

# Fixed texts per run: the template's own samples, and longer ones that wrap and shrink.
CUSTOM = {"headline": "Everything must go this weekend only", "subline": "Bring a friend", "code": "Save-2026"}

DRAW_AT_1X = """async (texts) => {
  const engine = await import('/static/js/render.js');
  const page = JSON.parse(document.getElementById('template-meta').textContent);
  await engine.loadFonts(page.fonts);
  const meta = page.meta;
  const background = await engine.loadImage(`/api/templates/${meta.slug}/image?v=${meta.version}`);
  const canvas = document.createElement('canvas');
  canvas.width = meta.width;
  canvas.height = meta.height;
  const result = engine.drawPromo(canvas.getContext('2d'), meta, page.fonts, {background, texts, scale: 1});
  const fits = {};
  for (const [id, fit] of Object.entries(result.fits)) fits[id] = {size: fit.size, lines: fit.lines, widths: fit.widths, origins: fit.origins};
  return {errors: result.errors, fits, png: canvas.toDataURL('image/png')};
}"""


def texts_for(meta: TemplateMeta, which: str) -> dict[str, str]:
    """The texts of a run: every area's default, or the custom ones where the area exists."""
    texts = {area.id: area.default_text for area in meta.text_areas}
    if which == "custom":
        texts.update({k: v for k, v in CUSTOM.items() if k in texts})
    return texts


def decode(png: bytes) -> np.ndarray:
    """The RGB pixels of a PNG as integers."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


@pytest.mark.parametrize("which", ["defaults", "custom"])
@pytest.mark.parametrize("slug", demo_slugs())
def test_canvas_preview_matches_the_server_render(
    page, public_site: PublicSite, slug: str, which: str  # type: ignore[no-untyped-def]
) -> None:
    meta, background = public_site.templates[slug]
    texts = texts_for(meta, which)
    page.goto(f"{public_site.url}/t/{slug}")
    page.wait_for_selector("body[data-ready=true]")
    drawn = page.evaluate(DRAW_AT_1X, texts)
    assert drawn["errors"] == {}

    # The same rule: identical sizes, lines and baselines; widths and x within a fraction of a px.
    for area in meta.text_areas:
        server_fit, canvas_fit = fit_text(texts[area.id], area), drawn["fits"][area.id]
        assert (canvas_fit["size"], tuple(canvas_fit["lines"])) == (server_fit.size, server_fit.lines), area.id
        for (cx, cy), (sx, sy) in zip(canvas_fit["origins"], server_fit.origins):
            assert cy == sy and abs(cx - sx) <= MAX_X_DRIFT, area.id

    canvas = decode(base64.b64decode(drawn["png"].split(",", 1)[1]))
    server = decode(render_template(meta, background, texts))
    assert canvas.shape == server.shape
    diff = np.abs(canvas - server)
    worst = diff.max(axis=2)
    mean, within_16, within_48 = float(diff.mean()), float((worst <= 16).mean()), float((worst <= 48).mean())
    print(f"{slug}/{which}: mean {mean:.3f}, within 16: {within_16:.4%}, within 48: {within_48:.4%}")
    assert mean < MAX_MEAN_DIFF
    assert within_16 >= MIN_WITHIN_16
    assert within_48 >= MIN_WITHIN_48
