"""Unique users from the per-user bitmaps, through export and queries, against hand counts; the
web process holds a row per user, and a new export loads in the background."""

from __future__ import annotations

from datetime import timedelta

import pytest

from analytics.filters import parse_filters
from analytics.manifest import read_manifest
from analytics.queries import AnalyticsQueries
from tests.integration.analytics_world import NOW, TODAY, add_events, at, event, export_recent

DAY = timedelta(days=1)
EVENTS = [
    event(at(0, 1), user_ref="u1"),
    event(at(0, 2), user_ref="u1", channel="telegram", bot="promo", template_slug="silver"),
    event(at(100, 9), user_ref="u1"),
    event(at(100, 10), user_ref="u2", channel="telegram", bot="promo", template_slug="silver"),
    event(at(150, 11), user_ref="u3"),
    event(at(150, 12), user_ref="u3"),
    event(at(200, 13), user_ref="u4"),  # older than the bitmaps' 189 days
]


@pytest.fixture
def views(runtime) -> AnalyticsQueries:
    add_events(runtime.engine, EVENTS)
    export_recent(runtime.engine, runtime.store)
    return AnalyticsQueries(runtime.store, runtime.settings.data_dir / "cache")


def users(views: AnalyticsQueries, range_name: str = "90d", **filters: str) -> tuple[int, int]:
    kpis = views.kpis(parse_filters(range_name, NOW, **filters))
    return kpis["current"]["unique_users"], kpis["previous"]["unique_users"]


def days_ago(n: int) -> str:
    return (TODAY - n * DAY).isoformat()


def test_90_days_and_the_90_before_count_each_user_once(views) -> None:
    assert users(views) == (1, 3)  # u1 now; u1, u2, u3 100 and 150 days ago


@pytest.mark.parametrize(
    ("filters", "expected"),
    [({"template": "gold"}, (1, 2)), ({"channel": "telegram"}, (1, 1)), ({"bot": "promo", "template": "silver"}, (1, 1)),
     ({"channel": "api"}, (0, 0))],
)
def test_filtered_unique_users(views, filters, expected) -> None:
    assert users(views, **filters) == expected


def test_ranges_older_than_the_bitmaps_are_counted_from_the_daily_sets(views) -> None:
    kpis = views.kpis(parse_filters("custom", NOW, start=days_ago(210), end=days_ago(190)))["current"]
    assert (kpis["generations"], kpis["unique_users"]) == (1, 1)
    kpis = views.kpis(parse_filters("custom", NOW, start=days_ago(200), end=days_ago(0)))["current"]
    assert (kpis["generations"], kpis["unique_users"]) == (7, 4)


def test_the_web_process_holds_one_bitmap_row_per_user_not_per_event_or_day(views) -> None:
    loaded = views.wait_for_load()
    assert "users_daily" not in loaded.tables and "user_days" not in loaded.tables
    with loaded.cursor() as con:
        assert con.execute("SELECT count(*) FROM user_days_any").fetchall() == [(3,)]  # u1, u2, u3; u4 too old


def test_a_new_export_is_loaded_in_the_background_while_the_previous_one_answers(runtime) -> None:
    add_events(runtime.engine, [event(at(0, 1), user_ref="u1")])
    export_recent(runtime.engine, runtime.store)
    views = AnalyticsQueries(runtime.store, runtime.settings.data_dir / "cache", manifest_ttl_s=0)
    f = parse_filters("7d", NOW)
    assert views.kpis(f)["current"]["generations"] == 1
    add_events(runtime.engine, [event(at(0, 2), user_ref="u2"), event(at(0, 3), user_ref="u3")])
    export_recent(runtime.engine, runtime.store)
    with views._load_lock:  # the new version's load cannot complete: the previous one answers at once
        assert views.kpis(f)["current"]["generations"] == 1
    assert views.wait_for_load().version == read_manifest(runtime.store).version
    assert views.kpis(f)["current"] == {"generations": 3, "successes": 3, "success_rate": 1.0, "unique_users": 3}


def test_coupons_of_the_newest_days_and_of_older_ones(views) -> None:
    def uses(first: int, last: int) -> list[tuple[str, int]]:
        found = views.coupons(parse_filters("custom", NOW, start=days_ago(first), end=days_ago(last)), "welcome")
        return [(c["code"], c["attempts"]) for c in found["coupons"]]

    assert uses(0, 0) == [("WELCOME10", 2)]  # the newest days' table
    assert uses(100, 100) == [("WELCOME10", 2)]  # the table of every day
    assert uses(160, 0) == [("WELCOME10", 6)]
