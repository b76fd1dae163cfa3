"""The analytics export: Parquet equal to the source, late rows caught, crashes harmless, S3 too."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from analytics.export import ROLLUPS, export_day, new_run_id, plan_recent
from analytics.manifest import MANIFEST_KEY, read_manifest, read_progress
from analytics.filters import parse_filters
from analytics.queries import AnalyticsQueries
from analytics.readers import RowReader
from analytics.tables import ExportTable, existing_tables
from promostack.db.models import GenerationEvent
from promostack.runtime import Runtime, build_runtime, install_runtime
from tests.conftest import make_settings
from tests.integration.analytics_world import NOW, TODAY, add_events, add_users, at, event, export_recent

pytestmark = pytest.mark.prefect


def source_per_day(runtime: Runtime) -> dict[str, tuple[int, int, float, int]]:
    """Per UTC day in the database: rows, sum of ids, sum of render_ms, successes."""
    with runtime.engine.connect() as conn:
        rows = conn.execute(
            select(GenerationEvent.created_at, GenerationEvent.id, GenerationEvent.render_ms, GenerationEvent.success)
        ).all()
    days: dict[str, list[float]] = {}
    for created_at, id_, render_ms, success in rows:
        acc = days.setdefault(created_at.date().isoformat(), [0, 0, 0.0, 0])
        acc[0] += 1
        acc[1] += id_
        acc[2] += render_ms or 0.0
        acc[3] += int(success)
    return {day: (int(a[0]), int(a[1]), round(a[2], 6), int(a[3])) for day, a in days.items()}


def exported_per_day(runtime: Runtime) -> dict[str, tuple[int, int, float, int]]:
    """The same figures read back from the published Parquet files."""
    manifest = read_manifest(runtime.store)
    queries = AnalyticsQueries(runtime.store, runtime.settings.data_dir / "cache")
    found = {}
    for day, file in manifest.days("generation_events").items():
        path = queries._paths(manifest, "generation_events", day, day)[0]
        rows, ids, ms, ok = duckdb.execute(
            "SELECT count(*), sum(id), sum(coalesce(render_ms, 0)), count(*) FILTER (WHERE success) FROM read_parquet($p)",
            {"p": path},
        ).fetchone()
        assert file.rows == rows
        found[day.isoformat()] = (int(rows), int(ids), round(float(ms), 6), int(ok))
    return found


def spread_events(count: int) -> list[dict]:
    return [
        event(at(i % 5, (i * 7) % 24, i % 60), user_ref=f"u{i % 13}", render_ms=float(i % 17) + 0.25, success=i % 9 != 0)
        for i in range(count)
    ]


def test_export_flow_writes_parquet_equal_to_the_source_per_day(prefect_harness, runtime) -> None:
    from flows.export_analytics import export_analytics

    add_events(runtime.engine, spread_events(400))
    add_users(runtime.engine, 3, at(1, 8))
    report = export_analytics()
    assert exported_per_day(runtime) == source_per_day(runtime)
    assert (report.rows_exported["generation_events"], report.rows_exported["bot_users"]) == (400, 3)
    assert read_progress(runtime.store).state == "done"


def test_a_row_committed_late_into_yesterday_is_exported_by_the_next_run(prefect_harness, runtime) -> None:
    from flows.export_analytics import export_analytics

    add_events(runtime.engine, [event(at(1, 10)), event(at(0, 0, 5))])
    export_analytics()
    # An event created yesterday whose transaction commits only now: an id watermark or a
    # created_at watermark would both skip it.
    add_events(runtime.engine, [event(at(1, 9), coupon_code="LATE")])
    export_analytics()
    assert exported_per_day(runtime) == source_per_day(runtime)


def test_nightly_check_rebuilds_an_old_day_that_differs_from_the_source(prefect_harness, runtime) -> None:
    from flows.export_analytics import export_analytics

    add_events(runtime.engine, [event(at(4, 10)), event(at(0, 10))])
    export_analytics()
    add_events(runtime.engine, [event(at(4, 11))])  # too old for the regular run
    export_analytics()
    assert exported_per_day(runtime) != source_per_day(runtime)
    report = export_analytics(verify=True)
    assert exported_per_day(runtime) == source_per_day(runtime)
    assert any(line.startswith(f"generation_events {(TODAY - timedelta(days=4)).isoformat()}") for line in report.rebuilt_by_check)


def test_a_crash_mid_export_leaves_the_previous_data_readable(runtime) -> None:
    add_events(runtime.engine, [event(at(0, 1)) for _ in range(3)])
    export_recent(runtime.engine, runtime.store)
    before = runtime.store.get(MANIFEST_KEY)
    queries = AnalyticsQueries(runtime.store, runtime.settings.data_dir / "cache", manifest_ttl_s=0)
    f = parse_filters("7d", NOW)

    add_events(runtime.engine, [event(at(0, 2)) for _ in range(5)])
    sources = existing_tables(runtime.engine)
    with tempfile.TemporaryDirectory() as work, RowReader(runtime.engine) as reader:
        # The run writes its days aside, then dies before publishing.
        for job in plan_recent(runtime.engine, sources, read_manifest(runtime.store), TODAY):
            source = next(s for s in sources if s.spec.name == job.table)
            export_day(reader, runtime.store, source, job.day, new_run_id(), Path(work))

    assert runtime.store.get(MANIFEST_KEY) == before
    assert queries.kpis(f)["current"]["generations"] == 3
    export_recent(runtime.engine, runtime.store)
    queries.wait_for_load()  # a new export is loaded in the background; the previous one answers meanwhile
    assert queries.kpis(f)["current"]["generations"] == 8


def test_a_table_that_does_not_exist_yet_is_skipped(runtime) -> None:
    tables = (ExportTable("generation_events", "created_at"), ExportTable("broadcast_deliveries_not_yet", "created_at"))
    assert [s.spec.name for s in existing_tables(runtime.engine, tables)] == ["generation_events"]


def test_rollups_are_published_beside_the_raw_events(runtime) -> None:
    add_events(runtime.engine, [event(at(0, 3))])
    manifest = export_recent(runtime.engine, runtime.store)
    for dataset in ("generation_events", "bot_users", *ROLLUPS):
        assert dataset in manifest.datasets
    assert set(manifest.days("gen_hourly")) == {TODAY}


@pytest.mark.postgres
def test_export_to_s3_is_read_back_by_the_queries(prefect_harness, pg_url, s3_settings, tmp_path) -> None:
    from flows.export_analytics import export_analytics

    settings = s3_settings.model_copy(update={"database_url": pg_url})
    rt = build_runtime(settings)
    try:
        with rt.engine.begin() as conn:
            conn.execute(GenerationEvent.__table__.delete())
        # An hour ago: inside the last 24 hours whatever the time of day the test runs at.
        add_events(rt.engine, [event(NOW - timedelta(hours=1), user_ref=f"s3-{i}") for i in range(7)])
        with install_runtime(rt):
            export_analytics()
        assert any(info.key.endswith(".parquet") for info in rt.store.list("analytics/"))
        queries = AnalyticsQueries(rt.store, tmp_path / "cache")
        kpis = queries.kpis(parse_filters("24h", NOW))["current"]
        assert (kpis["generations"], kpis["unique_users"]) == (7, 7)
        assert any((tmp_path / "cache").rglob("*.parquet"))  # DuckDB read local copies
    finally:
        rt.close()


def test_sqlite_and_postgres_exports_are_the_same_files(pg_url, sqlite_url, tmp_path) -> None:
    from promostack.storage import LocalStore

    rows = spread_events(50)
    tables = {}
    for name, url in (("sqlite", sqlite_url), ("postgres", pg_url)):
        rt = build_runtime(make_settings(tmp_path / name, database_url=url))
        try:
            with rt.engine.begin() as conn:
                conn.execute(GenerationEvent.__table__.delete())
            add_events(rt.engine, rows)
            store = LocalStore(tmp_path / name / "store")
            manifest = export_recent(rt.engine, store)
            tables[name] = [
                duckdb.execute(
                    "SELECT * EXCLUDE (id) FROM read_parquet($p) ORDER BY created_at, user_ref, render_ms",
                    {"p": [str(store.root / f.key) for f in manifest.days("generation_events").values()]},
                ).fetchall()
            ]
            schema = duckdb.execute(
                "DESCRIBE SELECT * FROM read_parquet($p)",
                {"p": str(store.root / next(iter(manifest.days("generation_events").values())).key)},
            ).fetchall()
            tables[name + "-schema"] = schema
        finally:
            rt.close()
    assert tables["sqlite"] == tables["postgres"]
    assert tables["sqlite-schema"] == tables["postgres-schema"]


def test_broadcast_deliveries_and_channel_posts_are_exported_by_their_day(runtime) -> None:
    from sqlalchemy import insert

    from promostack.db.broadcasts import Broadcast, BroadcastRecipient

    with runtime.engine.begin() as conn:
        broadcast_id = conn.execute(insert(Broadcast).values(bot="promo", text="Hello")).inserted_primary_key[0]
        conn.execute(
            insert(BroadcastRecipient),
            [
                {"broadcast_id": broadcast_id, "chat_id": 1, "state": "sent", "sent_at": at(0, 1)},
                {"broadcast_id": broadcast_id, "chat_id": 2, "state": "pending", "sent_at": None},
            ],
        )
    manifest = export_recent(runtime.engine, runtime.store)
    assert {day: f.rows for day, f in manifest.days("broadcast_recipients").items()} == {TODAY: 1}
    assert "channel_posts" in manifest.datasets
