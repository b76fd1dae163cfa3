"""The Telegram photo: upload size, encode time and what the user receives, per demo template.

Telegram re-encodes every photo it is sent. Its quality is not documented; the commonly
observed figure is about 80 (and 87 in older reports), as a 4:2:0 JPEG capped at 1280 px for
the standard size users see first. The re-encode is simulated here with Pillow: decode the
upload, scale to 1280 px on the long side if larger (Lanczos), save as JPEG 4:2:0 at 80 and at 87.
"What the user receives" is that JPEG's PSNR against our render scaled the same way.

Compared in the same run, for each demo (default texts):
- `png`: uploading our lossless PNG (`encode_png`) — the best Telegram can be given;
- `photo`: `telegram_photo` as shipped (JPEG quality 95, 4:4:4);
- `jpeg q95 4:2:0`, `jpeg q90 4:4:4`, `jpeg q85 4:2:0`: the nearby choices, to show which knob matters.

Prints `telegram_photo_bytes:` and `telegram_photo_encode_ms:` (medians over the demos),
`telegram_png_bytes:` (the baseline), `telegram_received_loss_db:` (worst over demos and both
simulated qualities of the PSNR lost against the PNG upload; target: under 0.5 dB) and
`telegram_upload_ms_20mbit:` (the photo's median bytes at 20 Mbit/s, computed not measured).

Run: `.venv/bin/python bench/telegram_photo.py`.
"""

from __future__ import annotations

import io
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from promostack.render import encode_png, photo_jpeg, render_canvas  # noqa: E402
from promostack.templates.demo import DEMO_DIR  # noqa: E402
from promostack.templates.schema import TemplateMeta  # noqa: E402

TELEGRAM_QUALITIES = (80, 87)
TELEGRAM_SIDE = 1280
ROUNDS = 15


def jpeg(image: Image.Image, quality: int, subsampling: int) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality, subsampling=subsampling)
    return out.getvalue()


def telegram_side(image: Image.Image) -> Image.Image:
    image = image.convert("RGB")
    if max(image.size) > TELEGRAM_SIDE:
        image.thumbnail((TELEGRAM_SIDE, TELEGRAM_SIDE), Image.Resampling.LANCZOS)
    return image


def received(upload: bytes, quality: int) -> Image.Image:
    """What a user sees: Telegram's re-encode of `upload`, simulated with Pillow."""
    again = jpeg(telegram_side(Image.open(io.BytesIO(upload))), quality, 2)
    return Image.open(io.BytesIO(again)).convert("RGB")


def psnr(a: Image.Image, b: Image.Image) -> float:
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return float(10 * np.log10(255**2 / np.mean(diff * diff)))


def median_ms(fn, image: Image.Image) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn(image)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    print(f"machine: {platform.platform()}, cpu_count={os.cpu_count()}, load={os.getloadavg()[0]:.1f}, "
          f"python {platform.python_version()}, Pillow {Image.__version__}")
    print(f"Telegram simulated: <= {TELEGRAM_SIDE} px, JPEG 4:2:0 at {TELEGRAM_QUALITIES}; "
          f"median of {ROUNDS}")
    uploads = {
        "png": encode_png,
        "photo": photo_jpeg,
        "jpeg q95 4:2:0": lambda im: jpeg(im, 95, 2),
        "jpeg q90 4:4:4": lambda im: jpeg(im, 90, 0),
        "jpeg q85 4:2:0": lambda im: jpeg(im, 85, 2),
    }
    photo_bytes, photo_ms, png_bytes, losses = [], [], [], []
    for folder in sorted(p.parent for p in DEMO_DIR.glob("*/meta.json")):
        meta = TemplateMeta.model_validate_json((folder / "meta.json").read_text(encoding="utf-8"))
        canvas = render_canvas(meta, (folder / "background.png").read_bytes(), {})
        reference = telegram_side(canvas)
        print(f"\n{folder.name} {canvas.width}x{canvas.height}")
        best: dict[int, float] = {}
        for name, encode in uploads.items():
            data = encode(canvas)
            ms = median_ms(encode, canvas)
            seen = {q: psnr(received(data, q), reference) for q in TELEGRAM_QUALITIES}
            if name == "png":
                best = seen
                png_bytes.append(len(data))
            loss = {q: best[q] - seen[q] for q in TELEGRAM_QUALITIES}
            if name == "photo":
                photo_bytes.append(len(data))
                photo_ms.append(ms)
                losses.extend(loss.values())
            received_text = ", ".join(
                f"at {q}: {seen[q]:.2f} dB ({-loss[q]:+.2f})" for q in TELEGRAM_QUALITIES
            )
            print(f"  {name:16} {len(data):8d} B {ms:6.1f} ms  received {received_text}")
    photo = statistics.median(photo_bytes)
    print(f"\ntelegram_png_bytes: {statistics.median(png_bytes):.0f}")
    print(f"telegram_photo_bytes: {photo:.0f}")
    print(f"telegram_photo_encode_ms: {statistics.median(photo_ms):.1f}")
    print(f"telegram_received_loss_db: {max(losses):.2f}")
    print(f"telegram_upload_ms_20mbit: {photo * 8 / 20e6 * 1000:.0f}")


if __name__ == "__main__":
    main()
