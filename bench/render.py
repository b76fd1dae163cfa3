"""Benchmark: one 1080x1080 coupon (two text areas with fitting, a logo) through the render
engine, against bare Pillow doing the same drawing at a fixed, known font size, measured in the
same run. Prints medians in ms and:

- `ratio_png`, `ratio_jpeg`: the engine over bare Pillow with the same encoder (what fitting,
  checks and the engine's structure cost);
- `ratio_png_vs_pillow`: the engine's PNG render over bare Pillow drawing + Pillow's default
  `save(PNG)` (target <= 0.5), and `png_size_ratio`: the engine's PNG bytes over Pillow's for the
  same picture (target <= 1.8).

Run: `.venv/bin/python bench/render.py` (or `make bench`).
"""

from __future__ import annotations

import io
import itertools
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

# `python bench/render.py` puts bench/ first on sys.path; the project root is what we import.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageDraw, ImageFont, features  # noqa: E402

from promostack.render import encode_png, fit_text, render_template  # noqa: E402
from promostack.render.typefaces import font_path, load_font  # noqa: E402
from promostack.templates.demo import DEMO_DIR  # noqa: E402
from promostack.templates.schema import TemplateMeta  # noqa: E402

ROUNDS = 60
HEADLINE = "Summer sale 30% off"
CODE = "SUMMER30"


def _setup() -> tuple[TemplateMeta, bytes, bytes]:
    demo = TemplateMeta.model_validate_json((DEMO_DIR / "summer-sale" / "meta.json").read_text())
    # Two text areas (a shadowed wrapping headline and the coupon code) and the logo.
    meta = demo.model_copy(update={"text_areas": [demo.area("headline"), demo.area("code")]})
    background = (DEMO_DIR / "summer-sale" / "background.png").read_bytes()
    logo = Image.new("RGBA", (360, 120), (0, 0, 0, 0))
    ImageDraw.Draw(logo).rounded_rectangle((0, 0, 359, 119), 30, fill=(255, 255, 255, 255))
    out = io.BytesIO()
    logo.save(out, "PNG")
    return meta, background, out.getvalue()


def _pillow_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _pillow_jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, optimize=False)
    return out.getvalue()


def _bare_pillow(
    meta: TemplateMeta,
    background: bytes,
    logo: bytes,
    encode: Callable[[Image.Image], bytes],
    codes: Iterator[str],
) -> Callable[[], bytes]:
    """The same picture drawn by hand: sizes and positions fixed in advance, fonts preloaded."""
    headline, code = meta.area("headline"), meta.area("code")
    h_fit, c_fit = fit_text(HEADLINE, headline), fit_text(CODE, code)
    h_font = ImageFont.truetype(str(font_path(headline.font)), h_fit.size)
    c_font = ImageFont.truetype(str(font_path(code.font)), c_fit.size)
    box = meta.logo_area.box
    shadow = headline.shadow
    # Decoded once, like the engine's remembered backgrounds: both sides draw on a fresh copy.
    decoded = Image.open(io.BytesIO(background)).convert("RGB")

    def draw() -> bytes:
        image = decoded.copy()
        mark = Image.open(io.BytesIO(logo)).convert("RGBA")
        mark.thumbnail((box.w, box.h), Image.Resampling.LANCZOS)
        image.paste(mark, (box.x + (box.w - mark.width) // 2, box.y + (box.h - mark.height) // 2), mark)
        pen = ImageDraw.Draw(image, "RGBA")
        for line, (x, y) in zip(h_fit.lines, h_fit.origins):
            pen.text((x + shadow.dx, y + shadow.dy), line, font=h_font, fill=shadow.color, anchor="ls")
            pen.text((x, y), line, font=h_font, fill=headline.color, anchor="ls")
        ((x, y),) = c_fit.origins
        pen.text((x, y), next(codes), font=c_font, fill=code.color, anchor="ls")
        return encode(image)

    return draw


def _interleaved(a: Callable[[], bytes], b: Callable[[], bytes]) -> tuple[list[float], list[float]]:
    """Median ms of `a` and of `b`, timed alternately so load on a shared machine hits both alike."""
    a_ms, b_ms = [], []
    for _ in range(ROUNDS):
        for fn, times in ((a, a_ms), (b, b_ms)):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
    return a_ms, b_ms


def main() -> None:
    meta, background, logo = _setup()
    print(
        f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"cpu_count={os.cpu_count()}, python {platform.python_version()}, "
        f"Pillow {Image.__version__}, raqm={features.check('raqm')}"
    )
    print(f"case: 1080x1080 '{meta.slug}' with 2 text areas + logo, median of {ROUNDS} runs")
    # A cold first render: fonts not yet loaded at any size, cmap not yet read.
    load_font.cache_clear()
    start = time.perf_counter()
    render_template(meta, background, {"headline": HEADLINE, "code": CODE}, logo=logo)
    print(f"cold_first_render_ms: {(time.perf_counter() - start) * 1000:.1f}")
    # (figure suffix, engine format, baseline encoder)
    cases = (
        ("png", "png", encode_png),
        ("png_vs_pillow", "png", _pillow_png),
        ("jpeg", "jpeg", _pillow_jpeg),
    )
    for name, fmt, encode in cases:
        # A new code every time, as in a bulk run: the code area is fitted afresh on every image
        # (the repeated headline's fit is remembered, as it would be in production).
        codes = (f"SUMR{i:04d}" for i in itertools.count())

        def engine(fmt: str = fmt, codes: Iterator[str] = codes) -> bytes:
            texts = {"headline": HEADLINE, "code": next(codes)}
            return render_template(meta, background, texts, logo=logo, fmt=fmt, quality=90)

        baseline = _bare_pillow(meta, background, logo, encode, (f"SUMR{i:04d}" for i in itertools.count()))
        ours, theirs = engine(), baseline()  # also warms caches for both
        e_ms, b_ms = _interleaved(engine, baseline)
        e, b = statistics.median(e_ms), statistics.median(b_ms)
        # Each engine run is paired with the baseline run right after it, so a burst of load from
        # other processes lands on both halves of a pair; the median pair ratio shrugs it off.
        paired = statistics.median(x / y for x, y in zip(e_ms, b_ms, strict=True))
        if name == "png_vs_pillow":
            print(f"pillow_png_baseline_ms: {b:.1f}")
            print(f"ratio_png_vs_pillow: {paired:.2f}")
            print(f"png_bytes: {len(ours)}  pillow_png_bytes: {len(theirs)}")
            print(f"png_size_ratio: {len(ours) / len(theirs):.2f}")
            continue
        print(f"{fmt}_engine_ms: {e:.1f}")
        print(f"{fmt}_baseline_ms: {b:.1f}")
        print(f"ratio_{fmt}: {paired:.2f}")
    fresh = (f"Summer sale {i}% off" for i in itertools.count())
    fit_times, _ = _interleaved(lambda: fit_text(next(fresh), meta.area("headline")) and b"", lambda: b"")
    fit_ms = statistics.median(fit_times)
    print(f"fit_text_new_headline_ms: {fit_ms:.2f}")


if __name__ == "__main__":
    main()
