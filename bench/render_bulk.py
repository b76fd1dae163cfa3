"""Bulk render throughput: one worker against two (threads) on the same 200-code CSV.

Prints images per second for each and `bulk_speedup` (two workers / one; the target is 1.7 or
more on a machine with two free cores). Both runs render the demo `black-friday` template
(1080x1350 PNG) into a fresh local store, so neither finds the other's images. The coupon
check is left out: this measures rendering and storing, which is what the workers split.

Run: `.venv/bin/python bench/render_bulk.py [--codes 200] [--template black-friday]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from promostack.bulk import prepare_job, run_bulk  # noqa: E402
from promostack.config import Settings  # noqa: E402
from promostack.storage import build_store  # noqa: E402
from promostack.templates.demo import DEMO_DIR  # noqa: E402
from promostack.templates.store import TemplateStore, load_template_dir  # noqa: E402


def measure(workers: int, codes: int, template: str, fmt: str) -> float:
    """Images per second rendering `codes` codes with `workers` workers in a fresh store."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp))  # type: ignore[call-arg]
        store = build_store(settings)
        templates = TemplateStore(store)
        templates.save(*load_template_dir(DEMO_DIR / template))
        csv_text = "code\n" + "\n".join(f"BENCH{i:04d}" for i in range(codes)) + "\n"
        job = prepare_job(templates, template, csv_text=csv_text, fmt=fmt)  # type: ignore[arg-type]
        started = time.perf_counter()
        outcome = run_bulk(job, store, workers=workers)
        elapsed = time.perf_counter() - started
        assert outcome.rendered == codes, outcome
        return codes / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--codes", type=int, default=200)
    parser.add_argument("--template", default="black-friday")
    parser.add_argument("--format", default="png", choices=["png", "jpeg", "webp"])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
          f"python={platform.python_version()}")
    print(f"bulk render of {args.codes} codes, template {args.template}, {args.format}, {args.rounds} rounds")
    load_before = os.getloadavg()[0]
    measure(1, 5, args.template, args.format)  # warm-up: imports, font loading
    ones: list[float] = []
    twos: list[float] = []
    # Alternating rounds, so a change in the machine's load hits both variants alike.
    for _ in range(args.rounds):
        ones.append(measure(1, args.codes, args.template, args.format))
        twos.append(measure(2, args.codes, args.template, args.format))
    one, two = statistics.median(ones), statistics.median(twos)
    print(f"load average before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f}")
    print(f"workers=1 (baseline): {one:.1f} images/s  (rounds: {', '.join(f'{x:.1f}' for x in ones)})")
    print(f"workers=2 (threads): {two:.1f} images/s  (rounds: {', '.join(f'{x:.1f}' for x in twos)})")
    print(f"bulk_speedup: {two / one:.2f}")


if __name__ == "__main__":
    main()
