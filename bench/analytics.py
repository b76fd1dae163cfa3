"""Benchmark: the Analytics page's questions, DuckDB over the export against SQL on Postgres.

In one run, on a fresh database on the local Postgres:
1. loads N synthetic generation events (default 1 000 000; the issue's full size is 10 000 000:
   `--events 10000000`) spread over 90 days with a daily rhythm, 300 templates with a long tail,
   N/20 users, 4 channels, 5 % failures of 3 kinds, 20 000 coupon codes, plus the bot users;
2. runs the `export-analytics` flow in a child process twice (full, then the regular run of the
   last 2 days), timing each by the flow's own report and reading the child's peak RSS;
3. loads the export's in-memory tables as a web process would (timed, with DuckDB's memory),
   then answers every dashboard view both ways, `--repeats` times each, uncached (the query
   layer's per-version cache is cleared before each DuckDB run; Postgres runs warm, after one
   untimed run, and a question slower than `--pg-budget-s` / repeats is timed 3+ times), and
   prints the medians and their ratio.
Figures: `views_p50_max_ms` (slowest view's DuckDB median), `speedup_min` (smallest Postgres /
DuckDB ratio), `export_full_s`, `export_incremental_s`, `export_peak_mib`.
Run: `.venv/bin/python bench/analytics.py [--events 1000000] [--repeats 9]`; `--keep-db NAME`
loads into (or reuses the events already in) a database that is kept, `--load-only` stops there.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Only what the export child needs is imported here, so its peak memory is the export's: the
# data generator (numpy, pandas) and Prefect's test server are imported by the parent alone.
import pyarrow as pa  # noqa: E402
from sqlalchemy import text  # noqa: E402

from analytics.filters import Filters, parse_filters  # noqa: E402
from analytics.loaded import memory_mib  # noqa: E402
from analytics.queries import AnalyticsQueries  # noqa: E402
from promostack.db import make_engine  # noqa: E402
from promostack.storage import LocalStore  # noqa: E402


PG_ADMIN = os.environ.get("PROMOSTACK_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
CHANNELS = ["telegram", "web", "api", "bulk"]
REASONS = ["InvalidCoupon: the code is not valid", "TemplateNotFound: no such template", "StorageError: timed out"]


# --- data ------------------------------------------------------------------------------------------


def synthetic_events(n: int, now: datetime, days: int, templates: int, users: int, codes: int, seed: int = 7) -> pa.Table:
    """`n` events over the last `days` days, busier in the afternoon (UTC), long-tailed everywhere.

    Built column by column in numpy and Arrow (text columns are `take`s from a small vocabulary),
    so 10 M events take seconds and about 1 GiB, not a pandas frame of Python strings.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    day = rng.integers(0, days, n)
    hour_weights = 1.0 + np.sin((np.arange(24) - 9) / 24 * 2 * np.pi)
    hour = rng.choice(24, n, p=hour_weights / hour_weights.sum())
    seconds = rng.integers(0, 3600, n)
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    micros = (int(start.timestamp()) + day * 86400 + hour * 3600 + seconds) * 1_000_000
    micros = np.sort(micros[micros <= int(now.timestamp() * 1_000_000)])
    n = len(micros)
    template = (rng.zipf(1.3, n) - 1) % templates
    user = (rng.zipf(1.2, n) - 1) % users
    code = (rng.zipf(1.1, n) - 1) % codes
    failed = rng.random(n) < 0.05
    reason = rng.integers(0, len(REASONS), n)

    def vocabulary(fmt: str, size: int, picks: np.ndarray) -> pa.Array:
        return pa.array([fmt.format(i) for i in range(size)]).take(pa.array(picks))

    return pa.table(
        {
            "created_at": pa.array(micros, pa.timestamp("us", tz="UTC")),
            "channel": pa.array(CHANNELS).take(pa.array(rng.choice(4, n, p=[0.55, 0.3, 0.1, 0.05]))),
            "user_ref": vocabulary("{:d}", users, user),
            "template_slug": vocabulary("tpl-{:03d}", templates, template),
            "coupon_code": vocabulary("CODE{:05d}", codes, code),
            "success": pa.array(~failed),
            "error": pa.array(REASONS).take(pa.array(np.where(failed, reason, -1), mask=~failed)),
            "render_ms": pa.array(np.round(rng.gamma(2.0, 15.0, n), 2)),
        }
    )


def copy_into(raw_conn: Any, table: str, rows: pa.Table, chunk: int = 1_000_000) -> None:
    """Load `rows` with COPY ... FORMAT csv, the CSV written by Arrow's C++ writer a chunk at a time."""
    import pyarrow.csv as pacsv

    columns = ", ".join(rows.column_names)
    options = pacsv.WriteOptions(include_header=False)
    with raw_conn.cursor() as cursor:
        for start in range(0, rows.num_rows, chunk):
            buffer = io.BytesIO()
            pacsv.write_csv(rows.slice(start, chunk), buffer, options)
            buffer.seek(0)
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)
    raw_conn.commit()


# Secondary indexes of generation_events: built once after the load (much faster than maintained
# row by row during COPY), as a restore would.
INDEXES = {
    "ix_generation_events_created_at": "CREATE INDEX ix_generation_events_created_at ON generation_events (created_at)",
    "ix_generation_events_coupon_code": "CREATE INDEX ix_generation_events_coupon_code ON generation_events (coupon_code)",
    "ix_generation_events_status": "CREATE INDEX ix_generation_events_status ON generation_events (status)",
}


def load(engine: Any, events: pa.Table, users: int, now: datetime) -> None:
    """The events and their bot users into the (empty, migrated) database, indexed and analysed."""
    import numpy as np

    created = events.column("created_at")
    first_seen = created.take(pa.array(np.linspace(0, events.num_rows - 1, users).astype(np.int64)))
    bot_users = pa.table({"bot": pa.array(["promo"] * users), "telegram_id": pa.array(np.arange(users)),
                          "status": pa.array(["active"] * users), "first_seen": first_seen,
                          "last_seen": pa.array([now] * users, pa.timestamp("us", tz="UTC"))})
    with engine.connect() as conn:
        for index in INDEXES:
            conn.execute(text(f"DROP INDEX IF EXISTS {index}"))
        conn.commit()
    raw = engine.raw_connection()
    try:
        copy_into(raw, "generation_events", events)
        copy_into(raw, "bot_users", bot_users)
    finally:
        raw.close()
    with engine.connect() as conn:
        for sql in INDEXES.values():
            conn.execute(text(sql))
        conn.commit()
        conn.execute(text("ANALYZE generation_events"))
        conn.execute(text("ANALYZE bot_users"))
        conn.commit()


# --- export, in a child process so its peak memory is its own ----------------------------------------


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited across fork + exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_export(db_url: str, data_dir: str, verify: bool) -> None:
    """Run the export flow once and print its seconds and this process's peak RSS as JSON."""
    from flows.export_analytics import export_analytics
    from promostack.config import Settings
    from promostack.runtime import build_runtime, install_runtime

    before = peak_rss_mib()
    runtime = build_runtime(Settings(_env_file=None, data_dir=Path(data_dir), database_url=db_url))  # type: ignore[call-arg]
    with install_runtime(runtime):
        report = export_analytics(verify=verify)
    print(json.dumps({"seconds": report.seconds, "peak_mib": peak_rss_mib(), "before_mib": before,
                      "days": report.days_exported, "rows": report.rows_exported}))


def run_export(db_url: str, data_dir: Path, api_url: str) -> dict[str, Any]:
    """The child's report of one export run, reporting to the Prefect API at `api_url`."""
    env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_LOGGING_LEVEL": "WARNING"}
    done = subprocess.run(
        [sys.executable, __file__, "--child-export", db_url, str(data_dir)], capture_output=True, text=True, env=env, cwd=ROOT
    )
    if done.returncode:
        sys.exit(f"the export child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the views, both ways ---------------------------------------------------------------------------


def postgres_views(conn: Any, f: Filters) -> dict[str, Callable[[], object]]:
    """The same questions answered by SQL on the live table (what the dashboard would do without the export)."""
    span = f.end - f.start
    bucket = "hour" if f.hourly else "day"

    def run(sql: str, **params: Any) -> object:
        return conn.execute(text(sql), params).all()

    window = "created_at >= :start AND created_at < :end"
    totals = f"SELECT count(*), count(*) FILTER (WHERE success), count(DISTINCT user_ref) FROM generation_events WHERE {window}"
    return {
        "kpis": lambda: (run(totals, start=f.start, end=f.end), run(totals, start=f.start - span, end=f.start)),
        "series": lambda: run(
            f"SELECT date_trunc('{bucket}', created_at AT TIME ZONE 'UTC') AS t, count(*), count(*) FILTER (WHERE success) "
            f"FROM generation_events WHERE {window} GROUP BY 1 ORDER BY 1", start=f.start, end=f.end),
        "templates": lambda: run(
            f"SELECT template_slug, count(*) AS n, count(*) FILTER (WHERE success) FROM generation_events "
            f"WHERE {window} GROUP BY 1 ORDER BY n DESC, 1 LIMIT 20", start=f.start, end=f.end),
        "failures": lambda: run(
            f"SELECT split_part(error, ':', 1) AS reason, count(*) AS n FROM generation_events "
            f"WHERE NOT success AND {window} GROUP BY 1 ORDER BY n DESC", start=f.start, end=f.end),
        "coupons": lambda: run(
            "SELECT coupon_code, count(*) AS n, count(*) FILTER (WHERE success), max(created_at), count(*) OVER () "
            f"FROM generation_events WHERE {window} AND coupon_code ILIKE '%%' || :q || '%%' "
            "GROUP BY 1 ORDER BY n DESC, 1 LIMIT 25", start=f.start, end=f.end, q="123"),
    }


def duckdb_views(qs: AnalyticsQueries, f: Filters) -> dict[str, Callable[[], object]]:
    return {
        "kpis": lambda: qs.kpis(f),
        "series": lambda: qs.series(f),
        "templates": lambda: qs.templates(f, limit=20),
        "failures": lambda: qs.failures(f),
        "coupons": lambda: qs.coupons(f, "123"),
    }


def p50_ms(
    call: Callable[[], object], repeats: int, before: Callable[[], None] = lambda: None, budget_s: float | None = None
) -> tuple[float, int]:
    """The median ms of `repeats` timed calls after one untimed warm call, and how many were timed.

    With `budget_s`, a call whose warm run is slow is timed fewer times (at least 3), so the
    Postgres side of 10 M events (tens of seconds per 90-day question) ends in minutes.
    """
    started = time.perf_counter()
    call()  # warm: file metadata, Postgres buffers
    warm = time.perf_counter() - started
    if budget_s is not None and warm * repeats > budget_s:
        repeats = max(3, int(budget_s / max(warm, 1e-9)))
    times = []
    for _ in range(repeats):
        before()
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), repeats


# --- main ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--templates", type=int, default=300)
    parser.add_argument("--codes", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--pg-budget-s", type=float, default=30.0, help="time a slow Postgres question fewer times (>= 3)")
    parser.add_argument("--child-export", nargs=2, metavar=("DB_URL", "DATA_DIR"))
    parser.add_argument("--verify", action="store_true")
    parser.add_argument("--keep-db", metavar="NAME", help="load into (or reuse the events already in) this database, keep it")
    parser.add_argument("--load-only", action="store_true", help="stop after loading (with --keep-db)")
    args = parser.parse_args()
    if args.child_export:
        child_export(*args.child_export, verify=args.verify)
        return

    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    from promostack.db.migrate import upgrade

    users = max(1, args.events // 20)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"  # the temporary server's telemetry only adds noise
    print(f"machine: {platform.platform()}, cpus={os.cpu_count()}, load={os.getloadavg()[0]:.1f}, python {platform.python_version()}")
    admin = make_engine(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    name = args.keep_db or f"promostack_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(db_url)
    try:
        upgrade(db_url)
        with engine.connect() as conn:
            loaded = conn.execute(text("SELECT count(*), max(created_at) FROM generation_events")).one()
        if loaded[0]:
            # --keep-db: the events of an earlier load, questions asked at the time of its last event
            now = loaded[1].astimezone(timezone.utc)
            event_count = int(loaded[0])
            print(f"reusing {event_count:,} events loaded earlier into {name} (last at {now:%Y-%m-%d %H:%M} UTC)")
        else:
            now = datetime.now(timezone.utc)
            started = time.perf_counter()
            events = synthetic_events(args.events, now, args.days, args.templates, users, args.codes)
            made = time.perf_counter() - started
            load(engine, events, users, now)
            event_count = events.num_rows
            del events
            print(f"loaded {event_count:,} events over {args.days} days, {users:,} users, {args.templates} templates, "
                  f"{args.codes:,} codes in {time.perf_counter() - started:.1f} s ({made:.1f} s generating, the rest "
                  f"COPY, indexes and ANALYZE)", flush=True)
        if args.load_only:
            return

        with tempfile.TemporaryDirectory(prefix="bench-analytics-") as data_dir, prefect_test_harness(server_startup_timeout=180):
            # One temporary Prefect server for both runs; its start is not part of any figure.
            api_url = str(PREFECT_API_URL.value())
            full = run_export(db_url, Path(data_dir), api_url)
            incremental = run_export(db_url, Path(data_dir), api_url)
            store = LocalStore(Path(data_dir) / "store")
            size = sum(info.size for info in store.list("analytics/"))
            print(f"export: {full['days']} table-days, {size / 2**20:.1f} MiB of Parquet in the store")
            qs = AnalyticsQueries(store, Path(data_dir) / "cache")
            started = time.perf_counter()
            loaded = qs.wait_for_load()
            web_load_s, web_mib = time.perf_counter() - started, memory_mib(loaded)
            rows = []
            with engine.connect() as conn:
                for range_name in ("24h", "7d", "30d", "90d"):
                    f = parse_filters(range_name, now)
                    ours, theirs = duckdb_views(qs, f), postgres_views(conn, f)
                    for view in ours:
                        duck, _ = p50_ms(ours[view], args.repeats, before=qs.clear_answers)
                        pg, pg_runs = p50_ms(theirs[view], args.repeats, budget_s=args.pg_budget_s)
                        rows.append((f"{view}_{range_name}", duck, pg, pg_runs))
                cached, _ = p50_ms(lambda: qs.kpis(parse_filters("90d", now)), args.repeats)
        print(f"{'view':<16}{'duckdb p50 ms':>15}{'postgres p50 ms':>17}{'pg runs':>9}{'speedup':>9}")
        for view, duck, pg, pg_runs in rows:
            print(f"{view:<16}{duck:>15.2f}{pg:>17.1f}{pg_runs:>9}{pg / duck:>9.1f}")
        slowest = max(rows, key=lambda r: r[1])
        weakest = min(rows, key=lambda r: r[2] / r[1])
        how_views = (f"over {event_count:,} events; median of {args.repeats} runs per view, each after clearing the "
                     "answer cache (DuckDB over the in-memory rollups and per-user bitmaps of the export version, "
                     "loaded before timing; older hourly days and filtered unique users read from Parquet)")
        print(f"views_p50_max_ms: {slowest[1]:.1f}")
        print(f"  how: slowest of the {len(rows)} views above ({slowest[0]}) {how_views}; target <= 150")
        print(f"speedup_min: {weakest[2] / weakest[1]:.1f}")
        print(f"  how: smallest Postgres p50 / DuckDB p50 ({weakest[0]}: {weakest[2]:.1f} / {weakest[1]:.2f} ms); Postgres "
              f"answers the same question by SQL on generation_events (indexed on created_at), warm, median of up to "
              f"{args.repeats} runs (at least 3; fewer when one run is slow, see 'pg runs'); target >= 10")
        print(f"export_full_s: {full['seconds']:.1f}")
        print(f"  how: first run of the export-analytics flow (every day of both tables, with rollups and bitmaps), "
              f"time from the flow's own report (a temporary Prefect server, started before); {full['days']} table-days")
        print(f"export_incremental_s: {incremental['seconds']:.1f}")
        print("  how: the next regular run of the same flow (last 2 UTC days of each table, bitmaps rebuilt), flow's own report")
        print(f"export_peak_mib: {max(full['peak_mib'], incremental['peak_mib']):.0f}")
        print(f"  how: peak RSS (VmHWM) of the child process running the flow, Python + Prefect + DuckDB included "
              f"({full['before_mib']:.0f} MiB before the export began); target <= 1024")
        print(f"web_tables_mib: {web_mib:.1f}  (DuckDB's memory for one export version's in-memory tables; "
              f"{web_load_s:.2f} s to load them, in the background after the first)")
        print(f"(cached answer, kpis_90d: {cached:.3f} ms p50 - what a repeat view of the same export costs)")
        print(f"load at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        engine.dispose()
        if not args.keep_db:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
