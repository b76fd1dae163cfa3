"""`promostack render` and `promostack bulk-render`: promo images from the command line.

Both call the same `promostack` functions the flows call (`make_promo`, `run_bulk`), directly
rather than through Prefect, so they work without a Prefect server and show a rich progress
bar; generation events are recorded with channel `cli` just the same. A bulk run stores its
images under the job's prefix as it goes, so it resumes exactly like the `bulk-render` flow
(and shares its job ids).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cli.templates import cli_errors
from promostack.config import get_settings
from promostack.errors import InvalidInput
from promostack.runtime import build_runtime

console = Console()

FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}


def parse_texts(pairs: list[str]) -> dict[str, str]:
    """`area=value` pairs as a dict; `InvalidInput` naming a pair without '='."""
    texts: dict[str, str] = {}
    for pair in pairs:
        area, sep, value = pair.partition("=")
        if not sep or not area.strip():
            raise InvalidInput(f"--text {pair!r}: write it as area=value, like headline='50% off'")
        texts[area.strip()] = value
    return texts


def render(
    template: str = typer.Argument(..., help="Template slug, like black-friday."),
    code: str = typer.Argument(..., help="The coupon code to put on it."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the image."),
    text: list[str] = typer.Option([], "--text", help="area=value for a text area (repeatable)."),
    fmt: str | None = typer.Option(None, "--format", help="png, jpeg or webp (default: from -o's suffix)."),
    quality: int = typer.Option(90, min=1, max=100, help="JPEG/WebP quality."),
    logo: Path | None = typer.Option(None, "--logo", exists=True, dir_okay=False, help="A logo image."),
    store: bool = typer.Option(False, "--store", help="Also keep the image in object storage."),
) -> None:
    """Render one promo image for a valid coupon code."""
    from flows.render_promo import make_promo
    from promostack.promo import PromoRequest

    with cli_errors():
        request = PromoRequest(
            template_slug=template,
            coupon_code=code,
            texts=parse_texts(text),
            channel="cli",
            fmt=_format(fmt, output),
            quality=quality,
            store_output=store,
            logo=logo.read_bytes() if logo else None,
        )
        runtime = build_runtime(get_settings())
        try:
            result = asyncio.run(make_promo(runtime, request))
        finally:
            runtime.close()
    output.write_bytes(result.image)
    stored = f", stored as {result.output_key}" if result.output_key else ""
    console.print(f"{output}: {result.width}x{result.height} {result.content_type} in {result.render_ms:.0f} ms{stored}")


def bulk_render(
    template: str = typer.Argument(..., help="Template slug."),
    csv_file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV with a 'code' column."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the zip."),
    workers: int = typer.Option(2, min=1, max=32, help="Threads rendering in parallel (Pillow releases the GIL while drawing and encoding)."),
    fmt: str = typer.Option("png", "--format", help="png, jpeg or webp."),
    quality: int = typer.Option(90, min=1, max=100),
    job_id: str | None = typer.Option(None, help="Resume or name a job (default: derived from the inputs)."),
) -> None:
    """Render every code of a CSV and write the images as one zip (resumable)."""
    from promostack.bulk import generation_record, prepare_job, run_bulk, write_zip
    from promostack.db.generations import GenerationLog

    settings = get_settings()
    runtime = build_runtime(settings)
    try:
        with cli_errors():
            csv_text = csv_file.read_text(encoding="utf-8-sig")
            job = prepare_job(
                runtime.templates, template, csv_text=csv_text, job_id=job_id, fmt=_format(fmt, None), quality=quality
            )
            with Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                console=console,
            ) as bar:
                task_id = bar.add_task(f"rendering {job.job_id}", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task_id, completed=done, total=total)

                with GenerationLog(runtime.sessions) as events:
                    outcome = run_bulk(
                        job,
                        runtime.store,
                        validator=runtime.validator,
                        workers=workers,
                        on_progress=progress,
                        on_row=lambda code, key, problem: events.add(
                            generation_record(job, code, key, problem, user_ref="cli")
                        ),
                    )
            key = write_zip(job, outcome, runtime.store)
            output.write_bytes(runtime.store.get(key))
    finally:
        runtime.close()
    console.print(
        f"{output}: {outcome.rendered} rendered, {outcome.skipped} already done, "
        f"{len(outcome.problems)} refused (job {job.job_id})"
    )
    for problem in outcome.problems:
        console.print(f"  line {problem.line} {problem.code}: {problem.problem}")


def _format(fmt: str | None, output: Path | None) -> str:
    if fmt is None and output is not None:
        fmt = FORMATS.get(output.suffix.lower(), "png")
    if fmt not in ("png", "jpeg", "webp"):
        raise InvalidInput(f"--format {fmt!r}: use png, jpeg or webp")
    return fmt
