"""The dashboard's questions, answered by DuckDB over the published Parquet files.

Only rollups are read, never the raw events: the in-memory tables of the current manifest
version (`analytics.loaded`: daily attempts, the newest hourly ones, coupons, per-user bitmaps),
and for what they do not hold (hourly ranges of older days, filtered unique users, ranges older
than the bitmaps) the files the manifest names for the days asked. Unique users come from the
bitmaps (`analytics.activity`): a count of the rows whose active days meet the range. A new
manifest version is loaded in the background while the previous one keeps answering; each
question borrows a cursor of the version it is answered from; every value from a request is a
bound parameter; answers are cached per version.
"""

from __future__ import annotations

import logging
import threading
import time as clock
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from cachetools import LRUCache

from analytics import activity
from analytics.filters import Filters, buckets, filter_sql, utc
from analytics.loaded import Loaded, load
from analytics.manifest import Manifest, local_paths, read_manifest
from promostack.errors import InvalidInput
from promostack.storage import ObjectStore

PAGE_SIZE_MAX = 200
log = logging.getLogger(__name__)


class AnalyticsQueries:
    """Answers over the files of `store`'s manifest; safe to share between threads.

    The first question waits for the first load; after that a new export is loaded by a
    background thread and swapped in when complete (`wait_for_load` waits for it).
    """

    def __init__(self, store: ObjectStore, cache_dir: Path, manifest_ttl_s: float = 5.0) -> None:
        self.store = store
        self.cache_dir = Path(cache_dir)
        self.manifest_ttl_s = manifest_ttl_s
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._manifest: tuple[float, Manifest] | None = None
        self._current: Loaded | None = None
        self._loader: threading.Thread | None = None
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

    def loaded(self) -> Loaded:
        """The tables answering now: the newest manifest's once loaded, until then the previous.

        The first call (nothing loaded yet) loads and waits; a newer manifest starts a background
        load and is answered from the previous version meanwhile.
        """
        manifest = self.manifest()
        current = self._current
        if current is not None and current.version >= manifest.version:
            return current
        if current is None:
            return self._load_now(manifest)
        with self._lock:
            if self._loader is None or not self._loader.is_alive():
                self._loader = threading.Thread(target=self._load_quietly, args=(manifest,), name="analytics-load", daemon=True)
                self._loader.start()
        return current

    def wait_for_load(self) -> Loaded:
        """The tables of the newest manifest, waiting for (or doing) their load."""
        self.refresh()
        with self._lock:
            loader = self._loader
        if loader is not None:
            loader.join()
        return self._load_now(self.manifest())

    def _load_now(self, manifest: Manifest) -> Loaded:
        with self._load_lock:
            current = self._current
            if current is None or current.version < manifest.version:
                started = clock.perf_counter()
                current = load(manifest, self.store, self.cache_dir)
                self._current = current
                log.info("analytics: version %s loaded in %.1f s", manifest.version, clock.perf_counter() - started)
            return current

    def _load_quietly(self, manifest: Manifest) -> None:
        try:
            self._load_now(manifest)
        except Exception:  # the previous version keeps answering; the next question tries again
            log.exception("analytics: loading manifest version %s failed", manifest.version)

    def _paths(self, manifest: Manifest, dataset: str, first: date, last: date) -> list[str]:
        keys = [f.key for day, f in manifest.days(dataset).items() if first <= day <= last]
        return local_paths(self.store, keys, self.cache_dir)

    def _rows(self, loaded: Loaded, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with loaded.cursor() as con:
            return con.execute(sql, params).fetchall()

    def _cached(self, name: str, key: tuple[Any, ...], compute: Callable[[Loaded], Any]) -> Any:
        loaded = self.loaded()
        cache_key = (loaded.version, name, *key)
        with self._lock:
            if cache_key in self._answers:
                return self._answers[cache_key]
        try:
            answer = compute(loaded)
        except duckdb.IOException:
            # A file of the version answering was replaced by a newer export meanwhile: answer
            # from the newest version instead.
            loaded = self.wait_for_load()
            cache_key = (loaded.version, name, *key)
            answer = compute(loaded)
        with self._lock:
            self._answers[cache_key] = answer
        return answer

    def _source(self, loaded: Loaded, dataset: str, first: date, last: date) -> tuple[str, dict[str, Any]] | None:
        """The FROM clause for `dataset` over days [first, last] and its parameters; None without data."""
        hourly = dataset.startswith("gen_hourly")
        if dataset in loaded.tables and (not hourly or first >= loaded.hourly_from):
            return dataset, {}
        if not hourly:
            return None
        # hourly attempts of older days: their files (totals are summed from them by the query)
        files = self._paths(loaded.manifest, "gen_hourly", first, last)
        return ("read_parquet($files)", {"files": files}) if files else None

    def _generations(
        self, loaded: Loaded, f: Filters, select: str, tail: str = "", totals: bool = False, **extra: Any
    ) -> list[tuple[Any, ...]]:
        """Rows of `SELECT {select} ... {tail}` over the attempts rollup in scope `f`; none without data.

        `totals`: the question needs only attempts and successes over time, so without filters it
        reads the per-hour (per-day) totals, a row per hour (day) instead of one per dimension.
        """
        first, last = f.days
        filters, params = filter_sql(f)
        params = {**params, **extra}
        suffix = "_totals" if totals and not filters else ""
        if f.hourly:
            source, where = self._source(loaded, "gen_hourly" + suffix, first, last), "hour >= $start AND hour < $end"
            params |= {"start": f.start, "end": f.end}
        else:
            source, where = self._source(loaded, "gen_daily" + suffix, first, last), "day BETWEEN $first AND $last"
            params |= {"first": first, "last": last}
        if source is None:
            return []
        table, source_params = source
        return self._rows(loaded, f"SELECT {select} FROM {table} WHERE {where}{filters} {tail}", {**params, **source_params})

    def _unique_users(self, loaded: Loaded, f: Filters) -> int:
        """The distinct users with a generation in `f`'s range and filters (exact, any range)."""
        unit = "hour" if f.hourly else "day"
        filters, params = filter_sql(f)
        name = f"user_{unit}s" if filters else f"user_{unit}s_any"
        snapshot = loaded.manifest.days(name)
        masks = activity.range_masks(activity.SNAPSHOTS[name], max(snapshot), f.start, f.end) if snapshot else None
        if masks is not None:
            condition, mask_params = activity.mask_condition(masks)
            if not filters:
                sql = f"SELECT count(*) FROM {name} WHERE {condition}"
            else:  # the per-filter bitmaps, read from their file (sorted by template, channel, bot)
                sql = f"SELECT count(DISTINCT user_ref) FROM read_parquet($files) WHERE {condition}{filters}"
                params["files"] = self._paths(loaded.manifest, name, date.min, date.max)
            return int(self._rows(loaded, sql, {**params, **mask_params})[0][0])
        # Older than the bitmaps (or published before them): the per-day user sets of the range.
        first, last = f.days
        source = "users_hourly" if f.hourly else "users_daily"
        files = self._paths(loaded.manifest, source, first, last)
        if not files:
            return 0
        where = "hour >= $start AND hour < $end" if f.hourly else "day BETWEEN $first AND $last"
        params |= {"start": f.start, "end": f.end} if f.hourly else {"first": first, "last": last}
        sql = f"SELECT count(DISTINCT user_ref) FROM read_parquet($files) WHERE {where}{filters}"
        return int(self._rows(loaded, sql, {**params, "files": files})[0][0])

    # --- the views --------------------------------------------------------------------------

    def kpis(self, f: Filters) -> dict[str, Any]:
        """Generations, successes, success rate and unique users, now and in the previous period."""
        return self._cached("kpis", (f,), lambda m: {"current": self._kpis(m, f), "previous": self._kpis(m, f.previous())})

    def _kpis(self, loaded: Loaded, f: Filters) -> dict[str, Any]:
        totals = self._generations(loaded, f, "coalesce(sum(attempts), 0), coalesce(sum(successes), 0)", totals=True)
        attempts, successes = (int(totals[0][0]), int(totals[0][1])) if totals else (0, 0)
        return {
            "generations": attempts,
            "successes": successes,
            "success_rate": successes / attempts if attempts else None,
            "unique_users": self._unique_users(loaded, f) if attempts else 0,
        }

    def series(self, f: Filters) -> dict[str, Any]:
        """Generations and successes per hour (≤ 48 h), day (≤ 180 days) or week, gaps as zeros."""
        return self._cached("series", (f,), lambda m: self._series(m, f))

    def _series(self, loaded: Loaded, f: Filters) -> dict[str, Any]:
        bucket = f.bucket
        # hours and days are stored truncated already; only weeks are computed (on dates, no time zone)
        column = "hour" if f.hourly else "day" if bucket == "day" else "date_trunc('week', day)"
        rows = self._generations(loaded, f, f"{column}, sum(attempts), sum(successes)", "GROUP BY 1", totals=True)
        found = {utc(t): {"attempts": int(a), "successes": int(s)} for t, a, s in rows}
        zero = {"attempts": 0, "successes": 0}
        return {"bucket": bucket, "points": [{"t": t.isoformat(), **found.get(t, zero)} for t in buckets(f, bucket)]}

    def templates(self, f: Filters, limit: int = 50) -> list[dict[str, Any]]:
        """The most generated templates with their success rates, most generations first."""
        return self._cached("templates", (f, limit), lambda m: self._templates(m, f, limit))

    def _templates(self, loaded: Loaded, f: Filters, limit: int) -> list[dict[str, Any]]:
        rows = self._generations(
            loaded, f, "template, sum(attempts) AS attempts, sum(successes)", "GROUP BY 1 ORDER BY attempts DESC, template LIMIT $limit",
            limit=limit,
        )
        return [
            {"name": name, "attempts": int(a), "successes": int(s), "success_rate": int(s) / int(a) if a else None}
            for name, a, s in rows
        ]

    def failures(self, f: Filters) -> list[dict[str, Any]]:
        """Failed generations by reason (the error's kind), most frequent first."""
        return self._cached("failures", (f,), lambda m: self._failures(m, f))

    def _failures(self, loaded: Loaded, f: Filters) -> list[dict[str, Any]]:
        rows = self._generations(
            loaded, f, "reason, sum(attempts) AS failures", "AND reason IS NOT NULL GROUP BY 1 ORDER BY failures DESC, reason"
        )
        return [{"reason": reason, "failures": int(n)} for reason, n in rows]

    def options(self, f: Filters) -> dict[str, list[str]]:
        """The bots, channels and templates seen in the range, for the filter menus."""
        return self._cached("options", (f.start, f.end), lambda m: self._options(m, f))

    def _options(self, loaded: Loaded, f: Filters) -> dict[str, list[str]]:
        first, last = f.days
        if "gen_daily" not in loaded.tables:
            return {"bots": [], "channels": [], "templates": []}
        bots, channels, templates = self._rows(
            loaded,
            "SELECT list(DISTINCT bot ORDER BY bot), list(DISTINCT channel ORDER BY channel), "
            "list(DISTINCT template ORDER BY template) FROM gen_daily WHERE day BETWEEN $first AND $last",
            {"first": first, "last": last},
        )[0]
        return {k: [v for v in (values or []) if v] for k, values in (("bots", bots), ("channels", channels), ("templates", templates))}

    def coupons(self, f: Filters, search: str = "", page: int = 1, page_size: int = 25) -> dict[str, Any]:
        """Coupon codes containing `search` (any case, taken literally) used in the range's days.

        Each with its attempts, successes and last use, most used first, one page at a time.
        """
        if len(search) > 64:
            raise InvalidInput("search: at most 64 characters")
        if page < 1 or not 1 <= page_size <= PAGE_SIZE_MAX:
            raise InvalidInput(f"page must be 1 or more and page_size 1 to {PAGE_SIZE_MAX}")
        return self._cached("coupons", (f.days, search.lower(), page, page_size), lambda m: self._coupons(m, f, search, page, page_size))

    def _coupons(self, loaded: Loaded, f: Filters, search: str, page: int, page_size: int) -> dict[str, Any]:
        first, last = f.days
        answer: dict[str, Any] = {"page": page, "page_size": page_size, "total": 0, "coupons": []}
        if "coupons_daily" not in loaded.tables:
            return answer
        # The 20 000-odd codes are searched first; the per-day rows are then matched by number.
        table = "coupons_recent" if "coupons_recent" in loaded.tables and first >= loaded.hourly_from else "coupons_daily"
        used = (
            "SELECT c.code, sum(d.attempts) AS attempts, sum(d.successes) AS successes, max(d.last_used) AS last_used "
            f"FROM {table} d JOIN (SELECT code_id, code FROM coupon_codes WHERE contains(code_lower, $search)) c "
            "USING (code_id) WHERE d.day BETWEEN $first AND $last GROUP BY c.code"
        )
        params: dict[str, Any] = {"first": first, "last": last, "search": search.lower()}
        rows = self._rows(
            loaded,
            f"SELECT *, count(*) OVER () FROM ({used}) ORDER BY attempts DESC, code LIMIT $limit OFFSET $offset",
            {**params, "limit": page_size, "offset": (page - 1) * page_size},
        )
        if rows:
            answer["total"] = int(rows[0][4])
        else:  # a page past the end has no row to carry the count
            answer["total"] = int(self._rows(loaded, f"SELECT count(*) FROM ({used})", params)[0][0])
        answer["coupons"] = [
            {"code": code, "attempts": int(a), "successes": int(s), "last_used": utc(last_used).isoformat() if last_used else None}
            for code, a, s, last_used, _ in rows
        ]
        return answer
