"""Benchmark: a 12-megapixel phone JPEG (4000x3000, EXIF orientation 6, GPS) made into a finished
campaign frame (portrait 1080x1350 under an overlay, JPEG q90) by `make_frame`, against a
baseline measured in the same run: the straightforward Pillow path (decode at full size,
`exif_transpose`, `ImageOps.fit`, `alpha_composite`, JPEG q90).

Prints `composite_12mp_ms` (p50 over the placements zoom 1, 1.5 and 2.5; target <= 400 on 2 cores),
`baseline_12mp_ms`, `peak_rss_mb` (the process's peak resident memory after the runs, decoder
buffers included, which tracemalloc would miss), and `throughput_8_in_flight_per_s` with 8 uploads
in flight on a thread pool (Pillow releases the GIL while decoding and resizing).

Run: `.venv/bin/python bench/campaigns.py` (or `make bench`).
"""

from __future__ import annotations

import io
import os
import platform
import resource
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from promostack.campaigns.demo import demo_overlay  # noqa: E402
from promostack.campaigns.photos import check_overlay, make_frame  # noqa: E402
from promostack.campaigns.schema import Placement  # noqa: E402

ROUNDS = 5
PLACEMENTS = [Placement(zoom=1.0), Placement(zoom=1.5, cx=0.4, cy=0.55), Placement(zoom=2.5, cx=0.6, cy=0.4)]


def phone_jpeg() -> bytes:
    """A photo-like 12 MP JPEG: smooth shapes plus sensor-like noise, stored sideways (orientation 6)."""
    rng = np.random.default_rng(7)
    base = Image.fromarray((rng.random((48, 64, 3)) * 255).astype("uint8")).resize((4000, 3000), Image.Resampling.BICUBIC)
    noisy = np.asarray(base, dtype=np.int16) + rng.normal(0, 6, (3000, 4000, 3)).astype(np.int16)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}
    out = io.BytesIO()
    Image.fromarray(noisy.clip(0, 255).astype("uint8")).save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def baseline(data: bytes, overlay: Image.Image) -> bytes:
    """The straightforward path: full decode, turn upright, fit, composite, encode."""
    photo = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGBA")
    framed = ImageOps.fit(photo, overlay.size, Image.Resampling.BICUBIC)
    out = io.BytesIO()
    Image.alpha_composite(framed, overlay).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    data = phone_jpeg()
    overlay = check_overlay(demo_overlay("portrait"), "portrait")
    make_frame(data, overlay, "portrait", Placement())  # warm-up: codecs loaded
    ours = [timed(lambda p=p: make_frame(data, overlay, "portrait", p)) for _ in range(ROUNDS) for p in PLACEMENTS]
    base = [timed(lambda: baseline(data, overlay)) for _ in range(ROUNDS)]
    jobs = 32
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: make_frame(data, overlay, "portrait", PLACEMENTS[i % 3]), range(jobs)))
    throughput = jobs / (time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"composite_12mp_ms: {statistics.median(ours):.0f}")
    print(f"baseline_12mp_ms: {statistics.median(base):.0f}")
    print(f"speedup_vs_baseline: {statistics.median(base) / statistics.median(ours):.2f}")
    print(f"peak_rss_mb: {peak_mb:.0f}")
    print(f"throughput_8_in_flight_per_s: {throughput:.1f}")
    print(
        f"measured: {len(data) / 1e6:.1f} MB 4000x3000 JPEG (orientation 6) -> 1080x1350 JPEG q90; p50 of "
        f"{len(ours)} runs over zoom 1/1.5/2.5 vs {len(base)} baseline runs; throughput = {jobs} frames on 8 threads; "
        f"peak RSS of this process (ru_maxrss). Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, Pillow {Image.__version__}"
    )


if __name__ == "__main__":
    main()
