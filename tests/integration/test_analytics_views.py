"""Every Analytics view answers the numbers of a small, hand-counted set of events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from analytics.filters import parse_filters
from analytics.queries import AnalyticsQueries
from promostack.errors import InvalidInput
from promostack.storage import LocalStore
from tests.integration.analytics_world import NOW, add_events, event, export_recent

HOUR = timedelta(hours=1)
EVENTS = [
    event(NOW - 1 * HOUR, channel="web", user_ref="u1", template_slug="gold", coupon_code="CODE-A"),
    event(NOW - 1 * HOUR, channel="telegram", bot="promo", user_ref="u2", template_slug="gold", coupon_code="CODE-A", success=False),
    event(NOW - 2 * HOUR, channel="telegram", bot="promo", user_ref="u2", template_slug="silver", coupon_code="CODE-B"),
    event(NOW - 3 * HOUR, channel="api", user_ref=None, template_slug="silver", coupon_code="SUMMER25", success=False,
          error="TemplateNotFound: no template 'silver'"),
    event(NOW - 30 * HOUR, channel="web", user_ref="u3", template_slug="gold", coupon_code="CODE-A"),
    event(NOW - 10 * 24 * HOUR, channel="web", user_ref="u4", template_slug="gold", coupon_code="CODE-A"),
]


@pytest.fixture
def views(runtime) -> AnalyticsQueries:
    add_events(runtime.engine, EVENTS)
    assert isinstance(runtime.store, LocalStore)
    export_recent(runtime.engine, runtime.store, NOW.date())
    return AnalyticsQueries(runtime.store, runtime.settings.data_dir / "cache")


def scope(range_name: str = "24h", **filters: str):
    return parse_filters(range_name, NOW, **filters)


def test_kpis_of_the_last_24_hours_and_the_24_hours_before(views) -> None:
    kpis = views.kpis(scope())
    assert kpis["current"] == {"generations": 4, "successes": 2, "success_rate": 0.5, "unique_users": 2}
    assert kpis["previous"] == {"generations": 1, "successes": 1, "success_rate": 1.0, "unique_users": 1}


def test_longer_ranges_count_whole_days_and_users_once(views) -> None:
    assert views.kpis(scope("7d"))["current"] == {"generations": 5, "successes": 3, "success_rate": 0.6, "unique_users": 3}
    assert views.kpis(scope("30d"))["current"]["unique_users"] == 4


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"channel": "telegram"}, (2, 1, 1)),
        ({"bot": "promo"}, (2, 1, 1)),
        ({"template": "silver"}, (2, 1, 1)),
        ({"channel": "web", "template": "gold"}, (1, 1, 1)),
    ],
)
def test_filters_narrow_every_kpi(views, filters, expected) -> None:
    now = views.kpis(scope(**filters))["current"]
    assert (now["generations"], now["successes"], now["unique_users"]) == expected


def test_generations_chart_is_hourly_up_to_48_hours_then_daily_then_weekly(views) -> None:
    hourly = views.series(scope())
    assert (hourly["bucket"], len(hourly["points"]), sum(p["attempts"] for p in hourly["points"])) == ("hour", 24, 4)
    daily = views.series(scope("7d"))
    assert (daily["bucket"], len(daily["points"]), sum(p["successes"] for p in daily["points"])) == ("day", 7, 3)
    first = (NOW - timedelta(days=200)).date().isoformat()
    weekly = views.series(scope("custom", start=first, end=NOW.date().isoformat()))
    assert weekly["bucket"] == "week" and sum(p["attempts"] for p in weekly["points"]) == 6


def test_top_templates_with_success_rates(views) -> None:
    assert views.templates(scope()) == [
        {"name": "gold", "attempts": 2, "successes": 1, "success_rate": 0.5},
        {"name": "silver", "attempts": 2, "successes": 1, "success_rate": 0.5},
    ]


def test_failures_by_reason(views) -> None:
    assert views.failures(scope()) == [
        {"reason": "InvalidCoupon", "failures": 1},
        {"reason": "TemplateNotFound", "failures": 1},
    ]


def test_coupon_search_is_a_case_insensitive_substring_with_counts_and_last_use(views) -> None:
    found = views.coupons(scope("7d"), "code")
    assert found["total"] == 2
    assert [(c["code"], c["attempts"], c["successes"]) for c in found["coupons"]] == [("CODE-A", 3, 2), ("CODE-B", 1, 1)]
    assert found["coupons"][0]["last_used"] == (NOW - HOUR).isoformat()
    assert [c["code"] for c in views.coupons(scope("7d"), "-b")["coupons"]] == ["CODE-B"]


def test_coupon_search_pages(views) -> None:
    second = views.coupons(scope("7d"), "", page=2, page_size=2)
    assert (second["total"], [c["code"] for c in second["coupons"]]) == (3, ["SUMMER25"])
    assert views.coupons(scope("7d"), "", page=5, page_size=2) == {"page": 5, "page_size": 2, "total": 3, "coupons": []}


@pytest.mark.parametrize("attack", ["'; DROP TABLE coupons; --", "' OR '1'='1", "%", "_", "\\", "$files"])
def test_sql_injection_in_the_coupon_search_finds_nothing_and_breaks_nothing(views, attack) -> None:
    assert views.coupons(scope("7d"), attack)["total"] == 0
    assert views.kpis(scope("7d", template=attack))["current"]["generations"] == 0
    assert views.coupons(scope("7d"), "")["total"] == 3


def test_filter_menus_list_what_the_range_holds(views) -> None:
    assert views.options(scope("7d")) == {"bots": ["promo"], "channels": ["api", "telegram", "web"], "templates": ["gold", "silver"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"range_name": "1y"}, "range: use one of"),
        ({"range_name": "custom", "start": "2026-13-01", "end": "2026-12-01"}, "dates like"),
        ({"range_name": "custom", "start": "2026-12-02", "end": "2026-12-01"}, "before the start"),
        ({"range_name": "custom", "start": "2020-01-01", "end": "2026-12-01"}, "at most 400 days"),
    ],
)
def test_a_bad_range_is_refused_with_the_reason(args, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_filters(now=NOW, **args)


def test_a_short_range_in_the_past_is_answered_hourly_from_its_day_files(views) -> None:
    day = (NOW - 10 * 24 * HOUR).date().isoformat()
    f = scope("custom", start=day, end=day)
    assert views.series(f)["bucket"] == "hour"
    assert views.kpis(f)["current"] == {"generations": 1, "successes": 1, "success_rate": 1.0, "unique_users": 1}
