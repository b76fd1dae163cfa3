"""PNG encoders compared on the demo templates: encode time, size, and pixels after decoding.

Each demo template is rendered once (default texts; the summer-sale one also as RGBA with
see-through pixels, to cover the alpha path), then every encoder available in this interpreter
encodes it ROUNDS times, interleaved so load from other processes hits all alike. Prints, per
template and encoder, the median ms, the bytes, the size over Pillow's default `save(PNG)`
(compress_level 6) and whether the file decodes (with Pillow) to exactly the rendered pixels;
then the median over templates of each encoder's speed-up and size ratio against Pillow's default.

Only Pillow and pyvips are project dependencies; the other candidates are measured when
installed (`pip install fpng imagecodecs pyspng-seunglab` in a scratch environment, then
`PYTHONPATH=<its site-packages> .venv/bin/python bench/png_encoders.py`).

Run: `.venv/bin/python bench/png_encoders.py [--rounds 15]`.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from promostack.render import encode_png, render_canvas  # noqa: E402
from promostack.templates.demo import DEMO_DIR  # noqa: E402
from promostack.templates.schema import TemplateMeta  # noqa: E402

Encoder = Callable[[Image.Image], bytes]


def _pillow(level: int) -> Encoder:
    def encode(image: Image.Image) -> bytes:
        out = io.BytesIO()
        image.save(out, "PNG", compress_level=level)
        return out.getvalue()

    return encode


def _vips(compression: int) -> Encoder | None:
    pyvips = _optional("pyvips")
    if pyvips is None:
        return None

    def encode(image: Image.Image) -> bytes:
        bands = len(image.getbands())
        pixels = pyvips.Image.new_from_memory(image.tobytes(), image.width, image.height, bands, "uchar")
        return pixels.pngsave_buffer(compression=compression)

    return encode


def _fpng() -> Encoder | None:
    fpng = _optional("fpng")
    if fpng is None:
        return None
    return lambda image: fpng.fpng_ext.encode_image_to_memory(
        image.tobytes(), image.width, image.height, len(image.getbands())
    )


def _imagecodecs_spng() -> Encoder | None:
    codecs = _optional("imagecodecs")
    return None if codecs is None else lambda image: codecs.spng_encode(np.asarray(image))


def _pyspng(level: int) -> Encoder | None:
    pyspng = _optional("pyspng")
    return None if pyspng is None else lambda image: pyspng.encode(np.asarray(image), compress_level=level)


def _optional(module: str):  # type: ignore[no-untyped-def]
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def encoders() -> dict[str, Encoder | None]:
    """Every candidate by name; None when its package is not installed here."""
    candidates: dict[str, Encoder | None] = {f"pillow compress_level={n}": _pillow(n) for n in range(1, 7)}
    candidates["promostack encode_png (libvips, compression 6)"] = encode_png
    candidates["pyvips compression=1"] = _vips(1)
    candidates["fpng"] = _fpng()
    candidates["imagecodecs spng_encode"] = _imagecodecs_spng()
    candidates["pyspng-seunglab level 1"] = _pyspng(1)
    candidates["pyspng-seunglab level 6"] = _pyspng(6)
    return candidates


def pictures() -> dict[str, Image.Image]:
    """The rendered demo templates, plus one RGBA picture with see-through pixels."""
    out: dict[str, Image.Image] = {}
    for folder in sorted(p.parent for p in DEMO_DIR.glob("*/meta.json")):
        meta = TemplateMeta.model_validate_json((folder / "meta.json").read_text(encoding="utf-8"))
        canvas = render_canvas(meta, (folder / "background.png").read_bytes(), {})
        out[f"{folder.name} {canvas.width}x{canvas.height}"] = canvas
        if folder.name == "summer-sale":
            rgba = canvas.convert("RGBA")
            rgba.putalpha(Image.linear_gradient("L").resize(canvas.size))
            out[f"{folder.name} RGBA {canvas.width}x{canvas.height}"] = rgba
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, cpu_count={os.cpu_count()}, load={os.getloadavg()[0]:.1f}, "
          f"python {platform.python_version()}, Pillow {Image.__version__}")
    available = {name: fn for name, fn in encoders().items() if fn is not None}
    for name, fn in encoders().items():
        if fn is None:
            print(f"not installed, skipped: {name}")
    speedups: dict[str, list[float]] = {name: [] for name in available}
    sizes: dict[str, list[float]] = {name: [] for name in available}
    for label, image in pictures().items():
        times: dict[str, list[float]] = {name: [] for name in available}
        outputs = {name: fn(image) for name, fn in available.items()}  # warm-up, and the files
        for _ in range(args.rounds):
            for name, fn in available.items():
                start = time.perf_counter()
                fn(image)
                times[name].append((time.perf_counter() - start) * 1000)
        base_ms = statistics.median(times["pillow compress_level=6"])
        base_bytes = len(outputs["pillow compress_level=6"])
        print(f"\n{label} (median of {args.rounds})")
        for name in available:
            ms, size = statistics.median(times[name]), len(outputs[name])
            back = Image.open(io.BytesIO(outputs[name]))
            identical = back.mode == image.mode and back.tobytes() == image.tobytes()
            speedups[name].append(base_ms / ms)
            sizes[name].append(size / base_bytes)
            ratio = size / base_bytes
            print(f"  {name:48} {ms:7.1f} ms {size:8d} B  size x{ratio:.2f}  identical={identical}")
    print("\nmedian over pictures: speed-up and size against Pillow's default (compress_level=6)")
    for name in available:
        speed, size = statistics.median(speedups[name]), statistics.median(sizes[name])
        print(f"  {name:48} speed x{speed:5.1f}  size x{size:.2f}")


if __name__ == "__main__":
    main()
