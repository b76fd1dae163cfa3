"""Bulk render throughput: one worker against two threads and two processes, then the zip step.

All variants render the same codes CSV with the demo `black-friday` template (1080x1350 PNG)
into a fresh local store each, so none finds another's images; the coupon check is left out
(this measures rendering and storing, which is what the workers split). Rounds alternate the
variants so a change in the machine's load hits all alike; medians are reported.

- workers=1 and threads=2 are `run_bulk` as shipped (threads are what it uses for workers > 1);
- processes=2 is the alternative: a process pool (forkserver start, since libvips' threads do
  not survive a fork) with the rows split in two, each child rendering with the same
  `render_row` and storing into the same folder; the pool's start-up is inside the timing, as
  a job would pay it.
- the zip step is `write_zip` over the rendered images (stored, not deflated: PNG and JPEG do
  not deflate further).

Prints `bulk_speedup` (two threads over one worker), `bulk_speedup_processes`, `zip_ms`,
`zip_ms_per_image` and `zip_share` (the zip over the one-worker render time).

Run: `.venv/bin/python bench/render_bulk.py [--codes 200] [--template black-friday]`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from promostack.bulk import BulkJob, BulkRow, prepare_job, render_row, run_bulk, write_zip  # noqa: E402
from promostack.config import Settings  # noqa: E402
from promostack.promo import CONTENT_TYPES  # noqa: E402
from promostack.storage import ObjectStore, build_store  # noqa: E402
from promostack.templates.demo import DEMO_DIR  # noqa: E402
from promostack.templates.store import TemplateStore, load_template_dir  # noqa: E402


def _fresh_job(tmp: str, codes: int, template: str, fmt: str) -> tuple[BulkJob, ObjectStore]:
    settings = Settings(_env_file=None, data_dir=Path(tmp))  # type: ignore[call-arg]
    store = build_store(settings)
    templates = TemplateStore(store)
    templates.save(*load_template_dir(DEMO_DIR / template))
    csv_text = "code\n" + "\n".join(f"BENCH{i:04d}" for i in range(codes)) + "\n"
    return prepare_job(templates, template, csv_text=csv_text, fmt=fmt), store  # type: ignore[arg-type]


def _render_rows_in_child(data_dir: str, job: BulkJob, rows: list[BulkRow]) -> int:
    store = build_store(Settings(_env_file=None, data_dir=Path(data_dir)))  # type: ignore[call-arg]
    for row in rows:
        store.put(job.image_key(row.code), render_row(job, row), CONTENT_TYPES[job.fmt])
    return len(rows)


def measure(variant: str, codes: int, template: str, fmt: str) -> tuple[float, float, int]:
    """(images per second, zip ms, zip bytes) for `variant` on `codes` codes in a fresh store."""
    with tempfile.TemporaryDirectory() as tmp:
        job, store = _fresh_job(tmp, codes, template, fmt)
        started = time.perf_counter()
        if variant == "processes2":
            halves = [job.rows[0::2], job.rows[1::2]]
            context = multiprocessing.get_context("forkserver")
            with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
                done = sum(pool.map(_render_rows_in_child, [tmp, tmp], [job, job], halves))
            assert done == codes
        else:
            outcome = run_bulk(job, store, workers=2 if variant == "threads2" else 1)
            assert outcome.rendered == codes, outcome
        elapsed = time.perf_counter() - started
        outcome = run_bulk(job, store)  # renders nothing: lists what is stored, for the zip
        assert outcome.skipped == codes
        zip_started = time.perf_counter()
        key = write_zip(job, outcome, store)
        zip_ms = (time.perf_counter() - zip_started) * 1000
        return codes / elapsed, zip_ms, len(store.get(key))


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
    measure("one", 5, args.template, args.format)  # warm-up: imports, font loading
    variants = ("one", "threads2", "processes2")
    rates: dict[str, list[float]] = {v: [] for v in variants}
    zips: list[float] = []
    zip_bytes = 0
    for _ in range(args.rounds):
        for variant in variants:
            rate, zip_ms, zip_bytes = measure(variant, args.codes, args.template, args.format)
            rates[variant].append(rate)
            zips.append(zip_ms)
    print(f"load average before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f}")
    one, threads, processes = (statistics.median(rates[v]) for v in variants)
    for label, variant, value in (
        ("workers=1 (baseline)", "one", one),
        ("workers=2 (threads, as shipped)", "threads2", threads),
        ("workers=2 (processes)", "processes2", processes),
    ):
        print(f"{label}: {value:.1f} images/s  (rounds: {', '.join(f'{x:.1f}' for x in rates[variant])})")
    print(f"bulk_speedup: {threads / one:.2f}")
    print(f"bulk_speedup_processes: {processes / one:.2f}")
    zip_ms = statistics.median(zips)
    print(f"zip of {args.codes} images, {zip_bytes / 1e6:.1f} MB, median of {len(zips)}")
    print(f"zip_ms: {zip_ms:.0f}")
    print(f"zip_ms_per_image: {zip_ms / args.codes:.2f}")
    print(f"zip_share: {zip_ms / (args.codes / one * 1000):.2f}")


if __name__ == "__main__":
    main()
