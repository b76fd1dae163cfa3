"""The in-memory tables of one manifest version, and the cursors that query them.

Each version gets its own in-memory DuckDB database, built aside (in the background once a
first one is serving) and swapped in whole, so questions keep being answered from the previous
version while the next one loads. What is held is bounded by what the dashboard asks, not by the
events: the daily attempts rollup, the newest days of the hourly one, the coupons (codes once,
per-day figures by code number), the unfiltered totals per day and hour, and one row of bitmaps per user active in the last 189 days and
in the last 189 hours (`analytics.activity`); the per-filter bitmaps stay in their Parquet file.
A version is freed when the last question using it returns its cursor.
"""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from analytics.manifest import Manifest, local_paths
from promostack.storage import ObjectStore

# The hourly attempts of the newest days (what 24 h and 48 h ask for); older short ranges read
# their day files.
RECENT_HOURLY_DAYS = 3

_COUPONS = (
    "SELECT day, code_id, attempts::INTEGER AS attempts, successes::INTEGER AS successes, last_used "
    "FROM read_parquet($files) JOIN coupon_codes USING (code) ORDER BY day, code_id"
)
# The tables holding only the newest RECENT_HOURLY_DAYS days.
RECENT = frozenset({"gen_hourly", "gen_hourly_totals", "coupons_recent"})
# Table -> (the dataset it is made from, SQL over its `$files` or a table made before). Codes become dense integers: the
# per-day coupon rows then hold numbers only, and the search scans 20 000 codes, not every row.
TABLES: dict[str, tuple[str, str]] = {
    "gen_daily": ("gen_daily", "SELECT * FROM read_parquet($files) ORDER BY day"),
    "gen_hourly": ("gen_hourly", "SELECT * FROM read_parquet($files) ORDER BY hour"),
    # the unfiltered totals (KPI cards and the chart without filters): one row per day or hour
    "gen_daily_totals": ("gen_daily", "SELECT day, sum(attempts) AS attempts, sum(successes) AS successes FROM gen_daily GROUP BY day ORDER BY day"),
    "gen_hourly_totals": (
        "gen_hourly",
        "SELECT hour, sum(attempts) AS attempts, sum(successes) AS successes FROM gen_hourly GROUP BY hour ORDER BY hour",
    ),
    "coupon_codes": (
        "coupons_daily",
        "SELECT (row_number() OVER (ORDER BY code))::INTEGER AS code_id, code, lower(code) AS code_lower "
        "FROM (SELECT DISTINCT code FROM read_parquet($files))",
    ),
    "coupons_daily": ("coupons_daily", _COUPONS),
    # the same for the newest days only: a short range scans a few days' rows, not a row group
    "coupons_recent": ("coupons_daily", _COUPONS),
    "user_days_any": ("user_days_any", "SELECT * FROM read_parquet($files)"),
    "user_hours_any": ("user_hours_any", "SELECT * FROM read_parquet($files)"),
}


@dataclass
class Loaded:
    """One manifest version's tables: which exist, the first day of the recent ones, the cursors."""

    manifest: Manifest
    db: duckdb.DuckDBPyConnection
    tables: frozenset[str]
    hourly_from: date
    _idle: queue.SimpleQueue[duckdb.DuckDBPyConnection] = field(default_factory=queue.SimpleQueue)

    @property
    def version(self) -> int:
        """The manifest version these tables were loaded from."""
        return self.manifest.version

    @contextlib.contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of this version's database for one question (reused; dropped if it failed)."""
        try:
            con = self._idle.get_nowait()
        except queue.Empty:
            con = self.db.cursor()
        yield con  # on an exception the cursor is not put back: its state is unknown
        self._idle.put(con)


def load(manifest: Manifest, store: ObjectStore, cache_dir: Path) -> Loaded:
    """The in-memory tables of `manifest`, in a new database."""
    db = duckdb.connect()
    db.execute("SET GLOBAL TimeZone = 'UTC'")
    db.execute("SET GLOBAL enable_object_cache = true")
    newest = max(manifest.days("gen_hourly"), default=None)
    hourly_from = newest - timedelta(days=RECENT_HOURLY_DAYS - 1) if newest else date.max
    present = set()
    for table, (dataset, sql) in TABLES.items():
        first = hourly_from if table in RECENT else date.min
        keys = [f.key for day, f in manifest.days(dataset).items() if day >= first]
        if keys:
            params = {"files": local_paths(store, keys, cache_dir)} if "$files" in sql else {}
            db.execute(f"CREATE TABLE {table} AS {sql}", params)
            present.add(table)
    return Loaded(manifest, db, frozenset(present), hourly_from)


def memory_mib(loaded: Loaded) -> float:
    """The memory DuckDB holds for `loaded`'s tables, in MiB."""
    with loaded.cursor() as con:
        rows: list[Any] = con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchall()
    return float(rows[0][0] or 0) / 2**20
