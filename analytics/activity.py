"""Unique users over a range, exactly, from one row per user with a bitmap of the days (or hours)
the user was active.

A snapshot covers the `SLOTS` days (hours) up to its newest one: bit `i` of the bitmap is set
when the user was active `i` days (hours) before the newest, the 189 bits split over `WORDS`
int64 columns `m0`, `m1`, `m2` of 63 bits each (the sign bit is never used, so every mask is a
plain positive BIGINT in DuckDB, Parquet and Python). The unique users of a range inside the
window are the rows whose bitmap meets the range's mask — `count(*)` over one row per user, no
DISTINCT over per-day sets, and memory that grows with the users, not with events or days.
189 days hold a 90-day range and the 90 days before it (the KPI cards' previous period), 189
hours a 48-hour range and the 48 hours before it; older ranges are answered from the per-day
user sets (`users_daily` / `users_hourly`), as exactly and more slowly.

Two snapshots per unit, rebuilt from the per-day user sets by each publish:
- `user_days` / `user_hours`: one row per user x channel x template x bot (the filters), sorted
  by template, channel, bot so a filtered read skips most of the file;
- `user_days_any` / `user_hours_any`: one row per user, bitmaps only (the unfiltered count).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import duckdb

WORDS = 3
BITS = 63
SLOTS = WORDS * BITS
MASKS = tuple(f"m{w}" for w in range(WORDS))
BUILD_MEMORY = "256MB"  # DuckDB's limit while building; it spills to disk beyond


@dataclass(frozen=True)
class Snapshot:
    """A bitmap snapshot: the per-day user sets it is built from, and its slot (day or hour)."""

    name: str
    source: str
    unit: str  # "day" | "hour"
    per_user: bool  # one row per user (bitmaps only) rather than per user x filters

    @property
    def step(self) -> timedelta:
        """The length of one slot."""
        return timedelta(days=1) if self.unit == "day" else timedelta(hours=1)


SNAPSHOTS: dict[str, Snapshot] = {
    s.name: s
    for s in (
        Snapshot("user_days", "users_daily", "day", per_user=False),
        Snapshot("user_days_any", "users_daily", "day", per_user=True),
        Snapshot("user_hours", "users_hourly", "hour", per_user=False),
        Snapshot("user_hours_any", "users_hourly", "hour", per_user=True),
    )
}


def newest_slot(snapshot: Snapshot, newest_day: date) -> datetime:
    """The start of the newest slot of a snapshot whose newest day is `newest_day` (UTC)."""
    midnight = datetime.combine(newest_day, time.min, tzinfo=timezone.utc)
    return midnight if snapshot.unit == "day" else midnight + timedelta(hours=23)


def source_days(snapshot: Snapshot, newest_day: date) -> tuple[date, date]:
    """The first and last day of per-day user sets a snapshot ending on `newest_day` reads."""
    span = SLOTS if snapshot.unit == "day" else SLOTS // 24 + 1
    return newest_day - timedelta(days=span - 1), newest_day


def _bits(slot: str) -> str:
    """`m0, m1, m2` as bit_or aggregates of the slot number expression `slot` (0 = newest)."""
    return ", ".join(
        f"bit_or(CASE WHEN {slot} >= {w * BITS} AND {slot} < {(w + 1) * BITS} "
        f"THEN 1::BIGINT << ({slot} - {w * BITS}) ELSE 0 END) AS m{w}"
        for w in range(WORDS)
    )


def build(files: list[str], newest_day: date, work_dir: Path, unit: str) -> dict[str, tuple[Path, int]]:
    """The two snapshot files of `unit` (day or hour) built from the per-day user set `files`.

    Returns, per snapshot name, the local Parquet file written and its row count.
    """
    tuples, anyone = (f"user_{unit}s", f"user_{unit}s_any")
    top = newest_slot(SNAPSHOTS[tuples], newest_day)
    column = "day" if unit == "day" else "hour"
    written: dict[str, tuple[Path, int]] = {}
    with duckdb.connect() as con:
        # Bounded memory: the aggregate spills to the work folder rather than grow (10 M events:
        # 4.6 M user-day rows into 2.2 M user x filter rows), and nothing is materialised between
        # the steps: the per-user file is aggregated from the per-filter file just written.
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET memory_limit = '{BUILD_MEMORY}'")
        con.execute("SET temp_directory = $dir", {"dir": str(work_dir / "duckdb-spill")})
        con.execute("SET preserve_insertion_order = false")
        slot = f"date_diff('{unit}', {column}, $top::{'DATE' if unit == 'day' else 'TIMESTAMPTZ'})"
        steps = {
            tuples: (
                f"SELECT user_ref, channel, template, bot, {_bits('slot')} FROM "
                f"(SELECT user_ref, channel, template, bot, {slot} AS slot FROM read_parquet($files)) "
                f"WHERE slot BETWEEN 0 AND {SLOTS - 1} GROUP BY ALL ORDER BY template, channel, bot, user_ref",
                {"files": files, "top": top.date() if unit == "day" else top},
            ),
            anyone: (f"SELECT {', '.join(f'bit_or({m}) AS {m}' for m in MASKS)} FROM read_parquet($tuples) GROUP BY user_ref", {}),
        }
        for name, (sql, params) in steps.items():
            out = work_dir / f"{name}-{newest_day.isoformat()}.parquet"
            if name == anyone:
                params = {"tuples": str(written[tuples][0])}
            con.sql(sql, params=params).write_parquet(str(out), compression="zstd")
            rows = con.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(out)}).fetchall()
            written[name] = (out, int(rows[0][0]))
    return written


def range_masks(snapshot: Snapshot, newest_day: date, start: datetime, end: datetime) -> tuple[int, ...] | None:
    """The masks (one per word) of the slots in [start, end), or None when the range starts
    before the snapshot's window (ask the per-day sets). Slots after the newest hold no data."""
    top = newest_slot(snapshot, newest_day)
    step = snapshot.step
    first = (top - start) // step  # the oldest slot of the range, counted back from the newest
    last = max(0, -((end - step - top) // step))  # the newest slot, 0 when the range runs past the data
    if first >= SLOTS:
        return None
    masks = [0] * WORDS
    for slot in range(last, first + 1):
        masks[slot // BITS] |= 1 << (slot % BITS)
    return tuple(masks)


def mask_condition(masks: tuple[int, ...]) -> tuple[str, dict[str, int]]:
    """A WHERE condition true for rows whose bitmap meets `masks`, and its bound values."""
    used = {f"m{w}": mask for w, mask in enumerate(masks) if mask}
    if not used:
        return "false", {}
    return "(" + " OR ".join(f"({m} & ${m}) <> 0" for m in used) + ")", used
