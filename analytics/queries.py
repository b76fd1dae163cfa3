"""The dashboard's questions, answered by DuckDB over the published Parquet files.

Only the files the manifest names for the days a question covers are read: the rollups for
every view (`gen_hourly` up to 48 hours, `gen_daily` above; `users_hourly` / `users_daily` for
unique users; `coupons_daily` for the coupon search), never the raw events. Files are read
through local paths: the embedded store's own, or a local copy of each S3 object (keys are
never reused, so a copy never goes stale). Each thread has its own DuckDB connection; every
value from a request is a bound parameter; answers are cached per manifest version.
"""

from __future__ import annotations

import os
import threading
import time as clock
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
from cachetools import LRUCache

from analytics.filters import Filters, buckets, filter_sql, utc
from analytics.manifest import Manifest, read_manifest
from promostack.errors import InvalidInput
from promostack.storage import LocalStore, ObjectStore

# Loaded into memory once per manifest version: small, and read by every range above 48 hours.
# Users become dense integers (counting distinct integers is several times faster than text),
# and `users_any` keeps each day's users once, for the unfiltered count.
DAILY_ROLLUPS = {
    "gen_daily": "SELECT * FROM read_parquet($files) ORDER BY day",
    "users_daily": (
        "SELECT day, channel, template, bot, dense_rank() OVER (ORDER BY user_ref)::INTEGER AS user_ref "
        "FROM read_parquet($files) ORDER BY day"
    ),
    "coupons_daily": "SELECT *, lower(code) AS code_lower FROM read_parquet($files) ORDER BY day",
}
DERIVED = {"users_any": ("users_daily", "SELECT DISTINCT day, user_ref FROM users_daily ORDER BY day")}
# The hourly rollups of the newest days (what 24 h and 48 h ask for) are held in memory too;
# older short ranges read their day files.
RECENT_HOURLY = ("gen_hourly", "users_hourly")
RECENT_HOURLY_DAYS = 3
PAGE_SIZE_MAX = 200


class AnalyticsQueries:
    """Answers over the files of `store`'s manifest; safe to share between threads.

    One in-memory DuckDB database per instance holds the daily rollups of the current manifest
    version (loaded once per export, a few hundred thousand rows at most); each thread queries
    it through its own connection (`cursor()`). Hourly rollups, only read for ranges of up to
    48 hours, are read straight from their two or three day files.
    """

    def __init__(self, store: ObjectStore, cache_dir: Path, manifest_ttl_s: float = 5.0) -> None:
        self.store = store
        self.cache_dir = Path(cache_dir)
        self.manifest_ttl_s = manifest_ttl_s
        self._db = duckdb.connect()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._manifest: tuple[float, Manifest] | None = None
        self._loaded: tuple[int, frozenset[str], date] | None = None
        self._answers: LRUCache[tuple[Any, ...], Any] = LRUCache(maxsize=512)

    # --- plumbing ---------------------------------------------------------------------------

    def manifest(self) -> Manifest:
        """The published manifest, read again at most every `manifest_ttl_s` seconds."""
        with self._lock:
            cached = self._manifest
        if cached and clock.monotonic() - cached[0] < self.manifest_ttl_s:
            return cached[1]
        manifest = read_manifest(self.store)
        with self._lock:
            self._manifest = (clock.monotonic(), manifest)
        return manifest

    def refresh(self) -> None:
        """Forget the cached manifest, so the next question reads the newest export."""
        with self._lock:
            self._manifest = None

    def clear_answers(self) -> None:
        """Forget cached answers (the benchmark measures uncached questions)."""
        with self._lock:
            self._answers.clear()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._db.cursor()
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_object_cache = true")
            self._local.con = con
        return con

    def _paths(self, manifest: Manifest, dataset: str, first: date, last: date) -> list[str]:
        keys = [f.key for day, f in manifest.days(dataset).items() if first <= day <= last]
        if isinstance(self.store, LocalStore):
            return [str(self.store.root / key) for key in keys]
        return [str(self._local_copy(key)) for key in keys]

    def _local_copy(self, key: str) -> Path:
        path = self.cache_dir / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".tmp-{os.getpid()}-{threading.get_ident()}-{path.name}")
            tmp.write_bytes(self.store.get(key))
            os.replace(tmp, path)
        return path

    def _in_memory(self, manifest: Manifest) -> tuple[int, frozenset[str], date]:
        """The tables of `manifest`'s version held in memory, and the first day of the hourly ones."""
        loaded = self._loaded
        if loaded and loaded[0] == manifest.version:
            return loaded
        with self._load_lock:
            if self._loaded and self._loaded[0] == manifest.version:
                return self._loaded
            con = self._db.cursor()
            present = set()
            newest = max(manifest.days("gen_hourly"), default=date.min)
            cutoff = newest - timedelta(days=RECENT_HOURLY_DAYS - 1) if newest > date.min else date.max
            for dataset in RECENT_HOURLY:
                files = self._paths(manifest, dataset, cutoff, date.max)
                if files:
                    con.execute(f"CREATE OR REPLACE TABLE {dataset} AS SELECT * FROM read_parquet($files) ORDER BY hour", {"files": files})
                    present.add(dataset)
            for dataset, sql in DAILY_ROLLUPS.items():
                files = self._paths(manifest, dataset, date.min, date.max)
                if files:
                    con.execute(f"CREATE OR REPLACE TABLE {dataset} AS {sql}", {"files": files})
                    present.add(dataset)
            for dataset, (source, sql) in DERIVED.items():
                if source in present:
                    con.execute(f"CREATE OR REPLACE TABLE {dataset} AS {sql}")
                    present.add(dataset)
            for dataset in {*DAILY_ROLLUPS, *DERIVED, *RECENT_HOURLY} - present:
                con.execute(f"DROP TABLE IF EXISTS {dataset}")
            con.close()
            self._loaded = (manifest.version, frozenset(present), cutoff)
            return self._loaded

    def _source(self, manifest: Manifest, dataset: str, first: date, last: date) -> tuple[str, dict[str, Any]] | None:
        """The FROM clause for `dataset` over days [first, last] and its parameters; None without data."""
        _, tables, cutoff = self._in_memory(manifest)
        if dataset in DAILY_ROLLUPS or dataset in DERIVED:
            return (dataset, {}) if dataset in tables else None
        if dataset in tables and first >= cutoff:
            return dataset, {}
        files = self._paths(manifest, dataset, first, last)
        return ("read_parquet($files)", {"files": files}) if files else None

    def _rows(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        cursor = self._connection().execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def _cached(self, name: str, key: tuple[Any, ...], compute: Callable[[Manifest], Any]) -> Any:
        manifest = self.manifest()
        cache_key = (manifest.version, name, *key)
        with self._lock:
            if cache_key in self._answers:
                return self._answers[cache_key]
        answer = compute(manifest)
        with self._lock:
            self._answers[cache_key] = answer
        return answer

    def _scoped(
        self, manifest: Manifest, f: Filters, hourly: str, daily: str, select: str, tail: str = "", **extra: Any
    ) -> list[dict[str, Any]]:
        """Rows of `SELECT {select} ... {tail}` over the hourly or daily rollup in scope `f`."""
        first, last = f.days
        filters, params = filter_sql(f)
        params = {**params, **extra}
        if f.hourly:
            source, where = self._source(manifest, hourly, first, last), "hour >= $start AND hour < $end"
            params |= {"start": f.start, "end": f.end}
        else:
            source, where = self._source(manifest, daily, first, last), "day BETWEEN $first AND $last"
            params |= {"first": first, "last": last}
        if source is None:
            return []
        table, source_params = source
        return self._rows(f"SELECT {select} FROM {table} WHERE {where}{filters} {tail}", {**params, **source_params})

    def _generations(self, manifest: Manifest, f: Filters, select: str, tail: str = "", **extra: Any) -> list[dict[str, Any]]:
        """Rows of `SELECT {select} ... {tail}` over the attempts rollup in scope `f`; none without data."""
        return self._scoped(manifest, f, "gen_hourly", "gen_daily", select, tail, **extra)

    # --- the views --------------------------------------------------------------------------

    def kpis(self, f: Filters) -> dict[str, Any]:
        """Generations, successes, success rate and unique users, now and in the previous period."""
        return self._cached("kpis", (f,), lambda m: {"current": self._kpis(m, f), "previous": self._kpis(m, f.previous())})

    def _kpis(self, manifest: Manifest, f: Filters) -> dict[str, Any]:
        totals = self._generations(manifest, f, "coalesce(sum(attempts), 0) AS a, coalesce(sum(successes), 0) AS s")
        attempts, successes = (int(totals[0]["a"]), int(totals[0]["s"])) if totals else (0, 0)
        unfiltered = f.bot is None and f.channel is None and f.template is None
        daily_users = "users_any" if unfiltered else "users_daily"
        distinct = self._scoped(manifest, f, "users_hourly", daily_users, "count(DISTINCT user_ref) AS n")
        users = int(distinct[0]["n"]) if distinct else 0
        return {
            "generations": attempts,
            "successes": successes,
            "success_rate": successes / attempts if attempts else None,
            "unique_users": users,
        }

    def series(self, f: Filters) -> dict[str, Any]:
        """Generations and successes per hour (≤ 48 h), day (≤ 180 days) or week, gaps as zeros."""
        return self._cached("series", (f,), lambda m: self._series(m, f))

    def _series(self, manifest: Manifest, f: Filters) -> dict[str, Any]:
        bucket = f.bucket
        column = "hour" if f.hourly else "day"
        rows = self._generations(
            manifest, f, f"date_trunc('{bucket}', {column}) AS t, sum(attempts) AS attempts, sum(successes) AS successes", "GROUP BY 1"
        )
        found = {utc(r["t"]): {"attempts": int(r["attempts"]), "successes": int(r["successes"])} for r in rows}
        points = []
        for t in buckets(f, bucket):
            values = found.get(t, {"attempts": 0, "successes": 0})
            points.append({"t": t.isoformat(), **values})
        return {"bucket": bucket, "points": points}

    def templates(self, f: Filters, limit: int = 50) -> list[dict[str, Any]]:
        """The most generated templates with their success rates, most generations first."""
        return self._cached("templates", (f, limit), lambda m: self._grouped(m, f, "template", limit))

    def failures(self, f: Filters) -> list[dict[str, Any]]:
        """Failed generations by reason (the error's kind), most frequent first."""
        return self._cached("failures", (f,), lambda m: self._failures(m, f))

    def _grouped(self, manifest: Manifest, f: Filters, column: str, limit: int) -> list[dict[str, Any]]:
        rows = self._generations(
            manifest,
            f,
            f"{column} AS name, sum(attempts) AS attempts, sum(successes) AS successes",
            "GROUP BY 1 ORDER BY attempts DESC, name LIMIT $limit",
            limit=limit,
        )
        return [
            {
                "name": r["name"],
                "attempts": int(r["attempts"]),
                "successes": int(r["successes"]),
                "success_rate": int(r["successes"]) / int(r["attempts"]) if r["attempts"] else None,
            }
            for r in rows
        ]

    def _failures(self, manifest: Manifest, f: Filters) -> list[dict[str, Any]]:
        rows = self._generations(
            manifest, f, "reason, sum(attempts) AS failures", "AND reason IS NOT NULL GROUP BY 1 ORDER BY failures DESC, reason"
        )
        return [{"reason": r["reason"], "failures": int(r["failures"])} for r in rows]

    def options(self, f: Filters) -> dict[str, list[str]]:
        """The bots, channels and templates seen in the range, for the filter menus."""
        return self._cached("options", (f.start, f.end), lambda m: self._options(m, f))

    def _options(self, manifest: Manifest, f: Filters) -> dict[str, list[str]]:
        first, last = f.days
        if self._source(manifest, "gen_daily", first, last) is None:
            return {"bots": [], "channels": [], "templates": []}
        rows = self._rows(
            "SELECT list(DISTINCT bot ORDER BY bot) AS bots, list(DISTINCT channel ORDER BY channel) AS channels, "
            "list(DISTINCT template ORDER BY template) AS templates FROM gen_daily WHERE day BETWEEN $first AND $last",
            {"first": first, "last": last},
        )[0]
        return {k: [v for v in (rows[k] or []) if v] for k in ("bots", "channels", "templates")}

    def coupons(self, f: Filters, search: str = "", page: int = 1, page_size: int = 25) -> dict[str, Any]:
        """Coupon codes containing `search` (any case, taken literally) used in the range's days.

        Each with its attempts, successes and last use, most used first, one page at a time.
        """
        if len(search) > 64:
            raise InvalidInput("search: at most 64 characters")
        if page < 1 or not 1 <= page_size <= PAGE_SIZE_MAX:
            raise InvalidInput(f"page must be 1 or more and page_size 1 to {PAGE_SIZE_MAX}")
        return self._cached("coupons", (f.days, search.lower(), page, page_size), lambda m: self._coupons(m, f, search, page, page_size))

    def _coupons(self, manifest: Manifest, f: Filters, search: str, page: int, page_size: int) -> dict[str, Any]:
        first, last = f.days
        answer: dict[str, Any] = {"page": page, "page_size": page_size, "total": 0, "coupons": []}
        if self._source(manifest, "coupons_daily", first, last) is None:
            return answer
        where = "WHERE day BETWEEN $first AND $last AND contains(code_lower, $search)"
        params: dict[str, Any] = {"first": first, "last": last, "search": search.lower()}
        rows = self._rows(
            "SELECT code, sum(attempts) AS attempts, sum(successes) AS successes, max(last_used) AS last_used, "
            f"count(*) OVER () AS total FROM coupons_daily {where} "
            "GROUP BY code ORDER BY attempts DESC, code LIMIT $limit OFFSET $offset",
            {**params, "limit": page_size, "offset": (page - 1) * page_size},
        )
        if rows:
            answer["total"] = int(rows[0]["total"])
        else:  # a page past the end has no row to carry the count
            answer["total"] = int(self._rows(f"SELECT count(DISTINCT code) AS n FROM coupons_daily {where}", params)[0]["n"])
        answer["coupons"] = [
            {
                "code": r["code"],
                "attempts": int(r["attempts"]),
                "successes": int(r["successes"]),
                "last_used": utc(r["last_used"]).isoformat() if r["last_used"] else None,
            }
            for r in rows
        ]
        return answer
