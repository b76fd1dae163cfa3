"""Bulk renders: a CSV of coupon codes becomes one image per code, then one zip.

The CSV has a `code` column and, optionally, one column per text area of the template (named by
the area id) whose cells fill that area for the row. A job is resumable: each image is stored
under `bulk/<job id>/images/<CODE>.<ext>` the moment it is rendered, and a run skips every code
whose image is already there — so a crash, a retry or a re-run never renders a code twice.
The job id defaults to a digest of the inputs, so running the same CSV again resumes it.

Rendering is CPU-bound, but Pillow releases the GIL while it draws glyphs and libvips (through
cffi) while it encodes PNG, so with more than one worker rows render in threads of this process,
sharing its warm caches: measured (`bench/render_bulk.py`, 2 cores) two threads made 1.97x the
images per second of one (idle, Pillow's encoder), where two worker processes made 1.61x; with
libvips encoding, a third of the old render time, start-up weighs more and two processes made
0.64x against two threads' 1.17x (load 9-10). The zip step is ~0.7 ms an image, 2 % of a run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from promostack.coupons import CouponValidator, normalise_code
from promostack.coupons.check import malformed
from promostack.errors import InvalidInput
from promostack.db.generations import GenerationRecord, derived_event_id
from promostack.promo import CONTENT_TYPES, EXTENSIONS, compose_texts
from promostack.render.encode import ImageFormat
from promostack.render import RenderError, render_template
from promostack.storage import ObjectNotFound, ObjectStore, StorageError, check_key
from promostack.templates.schema import TemplateMeta
from promostack.templates.store import TemplateStore

MAX_ROWS = 10_000
MAX_WORKERS = 32
JOB_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_"

Progress = Callable[[int, int], None]  # (images finished, images to make in this run)
RowDone = Callable[[str, str | None, str | None], None]  # (code, image key, problem)


@dataclass(frozen=True)
class BulkRow:
    """One CSV row: its line number (header is line 1), the normalised code and its texts."""

    line: int
    code: str
    texts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RowProblem:
    """Why one row produced no image."""

    line: int
    code: str
    problem: str


@dataclass(frozen=True)
class BulkJob:
    """Everything a run needs, read and checked up front."""

    job_id: str
    meta: TemplateMeta
    background: bytes
    rows: list[BulkRow]
    problems: list[RowProblem]
    fmt: ImageFormat = "png"
    quality: int = 90

    def image_key(self, code: str) -> str:
        """Where the image of `code` is stored."""
        return f"{images_prefix(self.job_id)}{code}.{EXTENSIONS[self.fmt]}"


@dataclass(frozen=True)
class BulkOutcome:
    """What one run did: images made now, images found from earlier runs, rows refused."""

    job_id: str
    rendered: int
    skipped: int
    problems: list[RowProblem]
    keys: list[str]


def images_prefix(job_id: str) -> str:
    """The storage prefix of a job's images."""
    return f"bulk/{job_id}/images/"


def default_job_id(template_slug: str, csv_text: str, fmt: str, quality: int) -> str:
    """A job id derived from the inputs: the same CSV, template and format resume one job."""
    digest = hashlib.sha256(f"{template_slug}\n{fmt}\n{quality}\n{csv_text}".encode()).hexdigest()
    return f"{template_slug}-{digest[:12]}"


def check_job_id(job_id: str) -> str:
    """`job_id` when it can be a storage folder name, else `InvalidInput`."""
    if not job_id or len(job_id) > 80 or any(c not in JOB_ID_CHARS for c in job_id) or not job_id[0].isalnum():
        raise InvalidInput(f"job id {job_id!r}: use 1-80 lower-case letters, digits, '-' or '_'")
    check_key(f"bulk/{job_id}")
    return job_id


def parse_codes_csv(text: str, meta: TemplateMeta) -> tuple[list[BulkRow], list[RowProblem]]:
    """The usable rows of a codes CSV and the refused ones; `InvalidInput` for a bad header."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in next(reader, [])]
    if "code" not in header:
        raise InvalidInput(f"the CSV needs a 'code' column; its header is {','.join(header) or '(empty)'}")
    text_ids = {area.id for area in meta.text_areas if area.source == "text"}
    extra = [name for name in header if name != "code"]
    unknown = [name for name in extra if name not in text_ids]
    if unknown:
        raise InvalidInput(
            f"the CSV column(s) {', '.join(unknown)} are not text areas of '{meta.slug}' "
            f"(its text areas: {', '.join(sorted(text_ids)) or 'none'})"
        )
    code_at = header.index("code")
    rows: list[BulkRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num  # a quoted cell may span lines; report where the row ends
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problems.append(RowProblem(line, "", f"has {len(cells)} cells, the header has {len(header)}"))
            continue
        code = normalise_code(cells[code_at])
        refusal = malformed(code)
        if refusal:
            problems.append(RowProblem(line, code[:64], refusal.reason))
        elif code in seen:
            problems.append(RowProblem(line, code, f"duplicate of line {seen[code]}"))
        else:
            seen[code] = line
            texts = {name: cells[i].strip() for i, name in enumerate(header) if name in text_ids and cells[i].strip()}
            rows.append(BulkRow(line, code, texts))
        if len(rows) + len(problems) > MAX_ROWS:
            raise InvalidInput(f"the CSV has more than {MAX_ROWS} rows; split it")
    return rows, problems


def prepare_job(
    templates: TemplateStore,
    template_slug: str,
    *,
    csv_text: str | None = None,
    csv_key: str | None = None,
    job_id: str | None = None,
    fmt: ImageFormat = "png",
    quality: int = 90,
) -> BulkJob:
    """The job for a template and a codes CSV given as text or as a key in the template's store."""
    if (csv_text is None) == (csv_key is None):
        raise InvalidInput("give the codes CSV either as text or as a storage key, not both or neither")
    if fmt not in CONTENT_TYPES:
        raise InvalidInput(f"format {fmt!r}: use png, jpeg or webp")
    if not 1 <= quality <= 100:
        raise InvalidInput(f"quality {quality} is out of range 1-100")
    if csv_key is not None:
        csv_text = _read_csv(templates.store, csv_key)
    assert csv_text is not None
    meta = templates.get(template_slug)
    background = templates.image(template_slug, meta)
    rows, problems = parse_codes_csv(csv_text, meta)
    job_id = check_job_id(job_id) if job_id else default_job_id(meta.slug, csv_text, fmt, quality)
    return BulkJob(job_id, meta, background, rows, problems, fmt, quality)


def render_row(job: BulkJob, row: BulkRow) -> bytes:
    """The image of one row (`RenderError` when its texts cannot be drawn)."""
    texts = compose_texts(job.meta, row.code, row.texts)
    return render_template(job.meta, job.background, texts, fmt=job.fmt, quality=job.quality)


def run_bulk(
    job: BulkJob,
    store: ObjectStore,
    *,
    validator: CouponValidator | None = None,
    workers: int = 1,
    on_progress: Progress | None = None,
    on_row: RowDone | None = None,
) -> BulkOutcome:
    """The outcome of rendering every row of `job` whose image is not stored yet.

    Codes are checked with `validator` when given (invalid ones become problems). With
    `workers > 1` rows render in that many threads.
    `on_row` hears about each row as it is settled: rendered (with its key) or refused (with the
    problem). Rows whose image an earlier run stored are not rendered again, but `on_row` hears
    of them too, first: a run killed between storing an image and writing its event leaves the
    image as the only trace, and the resume writes the event (ids derived from the work keep it
    single, see `generation_record`).
    """
    if not 1 <= workers <= MAX_WORKERS:
        raise InvalidInput(f"workers must be 1 to {MAX_WORKERS}, got {workers}")
    done = {info.key for info in store.list(images_prefix(job.job_id))}
    todo = [row for row in job.rows if job.image_key(row.code) not in done]
    skipped = len(job.rows) - len(todo)
    tracker = _Tracker(job, on_progress, on_row)
    if on_row is not None:
        for row in job.rows:
            if job.image_key(row.code) in done:
                on_row(row.code, job.image_key(row.code), None)
    for problem in job.problems:
        tracker.refuse(problem)
    if validator is not None and todo:
        todo, refused = _check_codes(validator, todo)
        for problem in refused:
            tracker.refuse(problem)
    tracker.start(len(todo))
    workers = min(workers, len(todo))
    if workers > 1:
        _render_in_threads(job, todo, store, workers, tracker)
    else:
        _render_here(job, todo, store, tracker)
    keys = [job.image_key(r.code) for r in job.rows if job.image_key(r.code) in done or r.code in tracker.finished]
    problems = sorted(tracker.problems, key=lambda p: p.line)
    return BulkOutcome(job.job_id, len(tracker.finished), skipped, problems, keys)


def generation_record(job: BulkJob, code: str, key: str | None, problem: str | None, user_ref: str) -> GenerationRecord:
    """The generation event of one settled row (channel `bulk`), its id derived from the job, the
    code and the outcome: every run of the job writes the same ids, so each stays single."""
    return GenerationRecord(
        channel="bulk",
        user_ref=user_ref,
        template_slug=job.meta.slug,
        coupon_code=code,
        success=problem is None,
        error=problem,
        output_key=key,
        event_id=derived_event_id("bulk", job.job_id, code, "refused" if problem else "made"),
    )


def write_zip(job: BulkJob, outcome: BulkOutcome, store: ObjectStore, key: str | None = None) -> str:
    """The key of the zip holding every image of the job (plus `problems.csv` if any row failed)."""
    buffer = io.BytesIO()
    # Images are already compressed; storing them keeps the zip fast to build and to open.
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for image_key in outcome.keys:
            archive.writestr(image_key.rsplit("/", 1)[-1], store.get(image_key))
        if outcome.problems:
            table = io.StringIO()
            writer = csv.writer(table)
            writer.writerow(["line", "code", "problem"])
            writer.writerows([p.line, p.code, p.problem] for p in outcome.problems)
            archive.writestr("problems.csv", table.getvalue())
    key = key or f"bulk/{job.job_id}/{job.job_id}.zip"
    store.put(key, buffer.getvalue(), "application/zip")
    return key


# --- internals ---------------------------------------------------------------------------------


def _read_csv(store: ObjectStore, key: str) -> str:
    # A wrong key is the caller's mistake, not an outage: say so instead of retrying.
    try:
        check_key(key)
    except StorageError as exc:
        raise InvalidInput(f"csv_key: {exc}") from None
    try:
        return store.get(key).decode("utf-8")
    except ObjectNotFound:
        raise InvalidInput(f"csv_key: nothing is stored at {key!r}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"csv_key: {key!r} is not UTF-8 text") from None


def _check_codes(validator: CouponValidator, rows: list[BulkRow]) -> tuple[list[BulkRow], list[RowProblem]]:
    # Validation is I/O (database or HTTP): a few threads overlap the waits.
    with ThreadPoolExecutor(max_workers=8) as pool:
        checks = list(pool.map(lambda row: validator.validate(row.code), rows))
    good = [row for row, check in zip(rows, checks) if check.valid]
    refused = [RowProblem(row.line, row.code, check.reason) for row, check in zip(rows, checks) if not check.valid]
    return good, refused


class _Tracker:
    """Counts a run's rows as they settle and tells the caller's callbacks."""

    def __init__(self, job: BulkJob, on_progress: Progress | None, on_row: RowDone | None) -> None:
        self.job = job
        self.on_progress = on_progress
        self.on_row = on_row
        self.finished: set[str] = set()
        self.problems: list[RowProblem] = []
        self.total = 0
        self.settled = 0

    def start(self, total: int) -> None:
        self.total = total
        if self.on_progress:
            self.on_progress(0, total)

    def refuse(self, problem: RowProblem) -> None:
        self.problems.append(problem)
        if self.on_row:
            self.on_row(problem.code, None, problem.problem)

    def settle(self, row: BulkRow, problem: RowProblem | None) -> None:
        if problem:
            self.refuse(problem)
        else:
            self.finished.add(row.code)
            if self.on_row:
                self.on_row(row.code, self.job.image_key(row.code), None)
        self.settled += 1
        if self.on_progress:
            self.on_progress(self.settled, self.total)


def _render_here(job: BulkJob, rows: list[BulkRow], store: ObjectStore, tracker: _Tracker) -> None:
    for row in rows:
        tracker.settle(row, _render_and_store(job, row, store))


def _render_and_store(job: BulkJob, row: BulkRow, store: ObjectStore) -> RowProblem | None:
    try:
        image = render_row(job, row)
    except (RenderError, InvalidInput) as exc:
        return RowProblem(row.line, row.code, str(exc))
    store.put(job.image_key(row.code), image, CONTENT_TYPES[job.fmt])
    return None


def _render_in_threads(
    job: BulkJob, rows: list[BulkRow], store: ObjectStore, workers: int, tracker: _Tracker
) -> None:
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bulk-render")
    try:
        futures: dict[Future[RowProblem | None], BulkRow] = {
            pool.submit(_render_and_store, job, row, store): row for row in rows
        }
        # Settled here, in the calling thread, so progress and events need no locks.
        for future in as_completed(futures):
            tracker.settle(futures[future], future.result())
    except BaseException:
        # A failure or an interrupt: stop handing out rows; stored images stay for the resume.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def rows_of(outcome: BulkOutcome) -> Iterable[dict[str, object]]:
    """The problems of `outcome` as table rows (for a Prefect table artifact or a CLI table)."""
    return [{"line": p.line, "code": p.code, "problem": p.problem} for p in outcome.problems]
