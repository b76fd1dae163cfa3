"""The export writer: one UTC day of one table to zstd Parquet, its rollups, and publishing.

The steps, which `flows/export_analytics.py` runs in order:
1. `plan_recent` / `plan_check` choose the (table, day) pairs to rebuild: everything on a table's
   first export, then the last two UTC days every run (rows commit late, so neither ids nor
   times are safe watermarks), and at night every day whose count or max id differs from the
   source.
2. `export_day` streams the day's rows into a local Parquet file, uploads it aside under the
   run's name, and for generation events derives the dashboard's rollups from that file.
3. `publish` rebuilds the unique-users bitmaps (`analytics.activity`) from the per-day user sets
   the new manifest will name, swaps the manifest (last), then deletes the objects it superseded.
Nothing a reader can see changes before step 3, so a crash leaves the previous data readable.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Date, Engine, cast, func, select
from sqlalchemy.exc import SQLAlchemyError

from analytics import activity
from analytics.manifest import PREFIX, DayFile, Manifest, day_key, local_paths, read_manifest, write_manifest
from analytics.readers import RowReader, SourceUnavailable
from analytics.tables import SourceTable
from promostack.storage import ObjectStore

COMPRESSION = "zstd"
RECENT_DAYS = 2
# An object no manifest names is an orphan of a crashed run once it is this old (younger ones
# may belong to a run still writing).
ORPHAN_AGE = timedelta(hours=1)

# The dashboard's questions, answered from one day of generation events (`{events}`, loaded
# once). `{bot}` is a fixed expression chosen from the table's columns (`_bot_expression`);
# every value comes from the file, none from a request.
_DIMENSIONS = "channel, coalesce(template_slug, '') AS template, {bot} AS bot"
_REASON = "CASE WHEN success THEN NULL ELSE coalesce(nullif(trim(split_part(error, ':', 1)), ''), 'unknown') END"
ROLLUPS: dict[str, str] = {
    # attempts and successes per hour x channel x template x bot, failures split by reason
    "gen_hourly": (
        f"SELECT date_trunc('hour', created_at) AS hour, {_DIMENSIONS}, {_REASON} AS reason, "
        "count(*) AS attempts, count(*) FILTER (WHERE success) AS successes FROM {events} GROUP BY ALL"
    ),
    "gen_daily": (
        f"SELECT $day::DATE AS day, {_DIMENSIONS}, {_REASON} AS reason, "
        "count(*) AS attempts, count(*) FILTER (WHERE success) AS successes FROM {events} GROUP BY ALL"
    ),
    # the sets of users per hour (for ranges up to 48 h) and per day, per channel x template x bot:
    # unique users over a range are the distinct users of the union of its sets, exact, no sketch
    "users_hourly": (
        f"SELECT DISTINCT date_trunc('hour', created_at) AS hour, user_ref, {_DIMENSIONS} "
        "FROM {events} WHERE user_ref IS NOT NULL"
    ),
    "users_daily": (
        f"SELECT DISTINCT $day::DATE AS day, user_ref, {_DIMENSIONS} FROM {{events}} WHERE user_ref IS NOT NULL"
    ),
    "coupons_daily": (
        "SELECT $day::DATE AS day, coupon_code AS code, count(*) AS attempts, "
        "count(*) FILTER (WHERE success) AS successes, max(created_at) AS last_used "
        "FROM {events} WHERE coupon_code IS NOT NULL GROUP BY ALL"
    ),
}
ROLLUP_SOURCE = "generation_events"


@dataclass(frozen=True)
class DayJob:
    """One day of one table to rebuild, and why."""

    table: str
    day: date
    reason: str


@dataclass
class DayExport:
    """What `export_day` wrote aside: per dataset the new object, or None when the day is empty."""

    table: str
    day: date
    files: dict[str, DayFile | None] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """The number of source rows exported for this day."""
        found = self.files.get(self.table)
        return found.rows if found else 0


@dataclass(frozen=True)
class DayStats:
    """A day of a table as counted in the source or in the export."""

    rows: int
    max_id: int | None


def new_run_id(now: datetime | None = None) -> str:
    """A name for one export run's objects: sortable by time, unique across runs."""
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of `day`."""
    start = datetime.combine(day, time.min, tzinfo=timezone.utc)
    return start, start + timedelta(days=1)


def source_day_stats(engine: Engine, source: SourceTable) -> dict[date, DayStats]:
    """Per UTC day of the source table: its row count and largest id."""
    table = source.table
    column = table.c[source.spec.day_column]
    if engine.dialect.name == "postgresql":
        day = cast(func.timezone("UTC", column), Date)
    else:
        day = func.date(column)  # SQLite keeps UTC text: its date part is the UTC day
    query = select(day, func.count(), func.max(table.c[source.spec.id_column])).where(column.is_not(None)).group_by(day)
    try:
        with engine.connect() as conn:
            rows = conn.execute(query).all()
    except SQLAlchemyError as exc:
        raise SourceUnavailable(f"cannot count {source.spec.name}: {exc.__class__.__name__}: {exc}") from exc
    stats = {}
    for value, count, max_id in rows:
        stats[value if isinstance(value, date) else date.fromisoformat(value)] = DayStats(count, max_id)
    return stats


def exported_day_stats(manifest: Manifest, table: str) -> dict[date, DayStats]:
    """Per published day of `table`: the row count and largest id the manifest recorded."""
    return {day: DayStats(f.rows, f.max_id) for day, f in manifest.days(table).items()}


def plan_recent(
    engine: Engine, sources: Iterable[SourceTable], manifest: Manifest, today: date, recent_days: int = RECENT_DAYS
) -> list[DayJob]:
    """The days a regular run rebuilds: all of a table never exported, else the last `recent_days`."""
    recent = [today - timedelta(days=n) for n in range(recent_days - 1, -1, -1)]
    jobs = []
    for source in sources:
        name = source.spec.name
        if name not in manifest.datasets:
            days = sorted(set(source_day_stats(engine, source)) | set(recent))
            jobs += [DayJob(name, d, "first export") for d in days]
        else:
            jobs += [DayJob(name, d, "recent") for d in recent]
    return jobs


def plan_check(engine: Engine, sources: Iterable[SourceTable], manifest: Manifest) -> list[DayJob]:
    """The days whose export differs from the source (count or max id), and every day of mutable tables."""
    jobs = []
    for source in sources:
        name = source.spec.name
        wanted = source_day_stats(engine, source)
        have = exported_day_stats(manifest, name)
        for day in sorted(set(wanted) | set(have)):
            if source.spec.mutable:
                jobs.append(DayJob(name, day, "mutable table"))
            elif wanted.get(day) != have.get(day):
                jobs.append(DayJob(name, day, f"source {wanted.get(day)} != export {have.get(day)}"))
    return jobs


def export_day(
    reader: RowReader, store: ObjectStore, source: SourceTable, day: date, run: str, work_dir: Path
) -> DayExport:
    """The objects written aside for one day of `source` (raw rows, and rollups when it has them)."""
    start, end = day_bounds(day)
    name = source.spec.name
    path = work_dir / f"{name}-{day.isoformat()}.parquet"
    result = DayExport(name, day)
    try:
        rows, max_id = _write_parquet(reader.read(source, start, end), source.schema, path, source.spec.id_column)
        if rows == 0:
            result.files[name] = None
            if name == ROLLUP_SOURCE:
                result.files.update({rollup: None for rollup in ROLLUPS})
            return result
        result.files[name] = _upload(store, path, name, day, run, rows, max_id)
        if name == ROLLUP_SOURCE:
            result.files.update(_rollups(store, source, path, day, run, work_dir))
        return result
    finally:
        path.unlink(missing_ok=True)


def _write_parquet(batches: Iterable[pa.RecordBatch], schema: pa.Schema, path: Path, id_column: str) -> tuple[int, int | None]:
    rows, max_id = 0, None
    with pq.ParquetWriter(path, schema, compression=COMPRESSION) as writer:
        for batch in batches:
            if not batch.num_rows:
                continue
            writer.write_batch(batch)
            rows += batch.num_rows
            top = pc.max(batch.column(id_column)).as_py()
            max_id = top if max_id is None or (top is not None and top > max_id) else max_id
    return rows, max_id


def _upload(store: ObjectStore, path: Path, dataset: str, day: date, run: str, rows: int, max_id: int | None) -> DayFile:
    key = day_key(dataset, day, run)
    store.put(key, path.read_bytes(), "application/vnd.apache.parquet")
    return DayFile(key=key, rows=rows, max_id=max_id)


def _bot_expression(source: SourceTable) -> str:
    # Databases migrated before 0013 have no `bot` column; there the promo bot was the only bot
    # that rendered, so a Telegram event is the promo bot's.
    if any(c.name == "bot" for c in source.columns):
        return "coalesce(bot, '')"
    return "CASE WHEN channel = 'telegram' THEN 'promo' ELSE '' END"


def _settled_filter(source: SourceTable) -> str:
    # A pending event has no outcome yet; the run after it settles counts it.
    return " WHERE status IS DISTINCT FROM 'pending'" if any(c.name == "status" for c in source.columns) else ""


def _rollups(store: ObjectStore, source: SourceTable, path: Path, day: date, run: str, work_dir: Path) -> dict[str, DayFile | None]:
    files: dict[str, DayFile | None] = {}
    bot = _bot_expression(source)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        # The day's rows are decoded once; every rollup reads them from memory.
        con.execute(f"CREATE TEMP TABLE events AS SELECT * FROM read_parquet($path){_settled_filter(source)}", {"path": str(path)})
        for name, sql in ROLLUPS.items():
            params: dict[str, object] = {"day": day} if "$day" in sql else {}
            table = con.sql(sql.format(bot=bot, events="events"), params=params).to_arrow_table()
            if table.num_rows == 0:
                files[name] = None
                continue
            out = work_dir / f"{name}-{day.isoformat()}.parquet"
            pq.write_table(table, out, compression=COMPRESSION)
            try:
                files[name] = _upload(store, out, name, day, run, table.num_rows, None)
            finally:
                out.unlink(missing_ok=True)
    return files


def publish(
    store: ObjectStore,
    exports: Iterable[DayExport],
    tables: Iterable[str],
    now: datetime | None = None,
    cache_dir: Path | None = None,
) -> Manifest:
    """The new manifest, after swapping it in and deleting the objects it superseded.

    The manifest is read again right before the swap, so days another run published meanwhile
    are kept. `tables` are marked exported even when they had no rows at all. When the per-day
    user sets changed, the bitmap snapshots are rebuilt from the sets the new manifest names
    (S3 objects are read through local copies under `cache_dir`).
    """
    exports = list(exports)
    manifest = read_manifest(store)
    superseded: list[str] = []
    for name in tables:
        manifest.datasets.setdefault(name, {})
    for export in exports:
        for dataset, new in export.files.items():
            days = manifest.datasets.setdefault(dataset, {})
            old = days.pop(export.day, None)
            if old is not None and (new is None or old.key != new.key):
                superseded.append(old.key)
            if new is not None:
                days[export.day] = new
    changed = {dataset for export in exports for dataset in export.files}
    superseded += _rebuild_snapshots(store, manifest, changed, cache_dir)
    manifest.datasets = {name: dict(sorted(days.items())) for name, days in sorted(manifest.datasets.items())}
    manifest.version += 1
    manifest.exported_at = now or datetime.now(timezone.utc)
    write_manifest(store, manifest)
    for key in superseded:
        store.delete(key)
    return manifest


def _rebuild_snapshots(store: ObjectStore, manifest: Manifest, changed: set[str], cache_dir: Path | None) -> list[str]:
    """Write the bitmap snapshots of the user sets in `manifest` aside and name them in it (in
    place); the keys they replace. Only the units whose sets changed, or whose snapshots are missing."""
    superseded: list[str] = []
    run = new_run_id()
    with tempfile.TemporaryDirectory(prefix="analytics-snapshots-") as work:
        for unit, source in (("day", "users_daily"), ("hour", "users_hourly")):
            names = [name for name, s in activity.SNAPSHOTS.items() if s.unit == unit]
            sets = manifest.days(source)
            if source not in changed and all(name in manifest.datasets for name in names):
                continue
            for name in names:
                superseded += [f.key for f in manifest.datasets.pop(name, {}).values()]
                manifest.datasets[name] = {}
            if not sets:
                continue
            newest = max(sets)
            first, last = activity.source_days(activity.SNAPSHOTS[names[0]], newest)
            keys = [f.key for day, f in sets.items() if first <= day <= last]
            paths = local_paths(store, keys, cache_dir or Path(work) / "copies")
            for name, (path, rows) in activity.build(paths, newest, Path(work), unit).items():
                manifest.datasets[name] = {newest: _upload(store, path, name, newest, run, rows, None)}
    return superseded


def remove_orphans(store: ObjectStore, manifest: Manifest, now: datetime | None = None) -> list[str]:
    """The keys of Parquet objects no manifest names (left by crashed runs), after deleting them."""
    now = now or datetime.now(timezone.utc)
    live = manifest.object_keys()
    removed = []
    for info in store.list(f"{PREFIX}/"):
        if info.key.endswith(".parquet") and info.key not in live and now - info.modified > ORPHAN_AGE:
            store.delete(info.key)
            removed.append(info.key)
    return removed
