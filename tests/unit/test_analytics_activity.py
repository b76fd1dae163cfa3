"""The unique-users bitmaps count, for any range in their window, the users a hand count finds."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics import activity

NEWEST = date(2026, 11, 30)
TOP_HOUR = datetime(2026, 11, 30, 23, tzinfo=timezone.utc)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)

# (days before NEWEST, user, channel, template, bot): the per-day user sets an export writes.
DAILY = [
    (0, "u1", "web", "gold", ""),
    (3, "u1", "telegram", "silver", "promo"),
    (62, "u2", "web", "gold", ""),  # the last bit of the first word...
    (63, "u2", "web", "gold", ""),  # ...and the first of the second
    (126, "u3", "api", "gold", ""),  # the third word
    (188, "u4", "web", "gold", ""),  # the oldest day of the window
    (189, "u5", "web", "gold", ""),  # one day too old: not in the bitmaps
]


def write_sets(path: Path, column: str, rows: list[tuple[object, ...]]) -> str:
    names = [column, "user_ref", "channel", "template", "bot"]
    pq.write_table(pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)}), path)
    return str(path)


@pytest.fixture
def days(tmp_path: Path) -> dict[str, Path]:
    rows = [(NEWEST - n * DAY, *rest) for n, *rest in DAILY]
    built = activity.build([write_sets(tmp_path / "sets.parquet", "day", rows)], NEWEST, tmp_path, "day")
    return {name: path for name, (path, _) in built.items()}


def users(path: Path, first: date, last: date, filters: str = "") -> int:
    start = datetime.combine(first, datetime.min.time(), tzinfo=timezone.utc)
    end = datetime.combine(last + DAY, datetime.min.time(), tzinfo=timezone.utc)
    snapshot = activity.SNAPSHOTS[path.name.split("-")[0]]
    masks = activity.range_masks(snapshot, NEWEST, start, end)
    assert masks is not None
    condition, params = activity.mask_condition(masks)
    count = "count(*)" if snapshot.per_user else "count(DISTINCT user_ref)"
    sql = f"SELECT {count} FROM read_parquet($p) WHERE {condition}{filters}"
    return duckdb.execute(sql, {"p": str(path), **params}).fetchall()[0][0]


def test_one_row_per_user_active_in_the_window_and_one_per_user_and_filters(days) -> None:
    count = lambda name: duckdb.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(days[name])}).fetchall()[0][0]  # noqa: E731
    assert (count("user_days_any"), count("user_days")) == (4, 5)  # u1 twice (two channels), u5 too old


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (0, 0, 1),  # u1
        (6, 0, 1),  # u1 on two days counts once
        (62, 62, 1),  # u2, bit 62
        (63, 63, 1),  # u2, bit 63 (second word)
        (70, 4, 1),  # u2
        (126, 62, 2),  # u2, u3
        (188, 0, 4),  # the whole window
        (188, 188, 1),  # u4
        (150, 127, 0),  # nobody
    ],
)
def test_unique_users_of_a_range_of_days(days, first, last, expected) -> None:
    assert users(days["user_days_any"], NEWEST - first * DAY, NEWEST - last * DAY) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (" AND template = 'gold'", 1),  # u1 on the newest day (web, gold)
        (" AND channel = 'telegram'", 1),  # u1 three days ago
        (" AND channel = 'web' AND template = 'silver'", 0),
        (" AND bot = 'promo'", 1),
    ],
)
def test_filtered_unique_users_use_the_bitmaps_per_user_and_filters(days, filters, expected) -> None:
    assert users(days["user_days"], NEWEST - 6 * DAY, NEWEST, filters) == expected


def test_a_range_older_than_the_window_is_left_to_the_per_day_sets() -> None:
    snapshot = activity.SNAPSHOTS["user_days_any"]
    start = datetime.combine(NEWEST - 189 * DAY, datetime.min.time(), tzinfo=timezone.utc)
    assert activity.range_masks(snapshot, NEWEST, start, start + 10 * DAY) is None


def test_a_range_after_the_newest_day_has_nobody() -> None:
    snapshot = activity.SNAPSHOTS["user_days_any"]
    start = datetime.combine(NEWEST + DAY, datetime.min.time(), tzinfo=timezone.utc)
    assert activity.mask_condition(activity.range_masks(snapshot, NEWEST, start, start + 7 * DAY)) == ("false", {})


def test_hourly_bitmaps_count_the_users_of_each_hour(tmp_path: Path) -> None:
    rows = [
        (TOP_HOUR, "u1", "web", "gold", ""),
        (TOP_HOUR - 23 * HOUR, "u2", "web", "gold", ""),  # midnight of the newest day
        (TOP_HOUR - 24 * HOUR, "u2", "web", "gold", ""),  # 23:00 the day before
        (TOP_HOUR - 188 * HOUR, "u3", "web", "gold", ""),
        (TOP_HOUR - 189 * HOUR, "u4", "web", "gold", ""),  # too old
    ]
    built = activity.build([write_sets(tmp_path / "hours.parquet", "hour", rows)], NEWEST, tmp_path, "hour")
    path, count = built["user_hours_any"]
    assert count == 3
    snapshot = activity.SNAPSHOTS["user_hours_any"]

    def between(start: datetime, end: datetime) -> int:
        condition, params = activity.mask_condition(activity.range_masks(snapshot, NEWEST, start, end))
        return duckdb.execute(f"SELECT count(*) FROM read_parquet($p) WHERE {condition}", {"p": str(path), **params}).fetchall()[0][0]

    midnight = TOP_HOUR - 23 * HOUR
    assert between(midnight, midnight + 24 * HOUR) == 2  # u1, u2
    assert between(midnight + 12 * HOUR, midnight + 36 * HOUR) == 1  # u1; the hours past the newest hold nobody
    assert between(midnight - HOUR, midnight) == 1  # u2 at 23:00
    assert between(TOP_HOUR - 188 * HOUR, TOP_HOUR - 187 * HOUR) == 1  # u3
