"""Campaign figures: photos made and submissions by status and platform, over time, and the CSV
export of submissions (cells a spreadsheet would run as formulas are escaped)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from pydantic import BaseModel

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection); a leading
# apostrophe makes it text. Tab and carriage return are on OWASP's list too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class DayCount(BaseModel):
    """One UTC day of a series."""

    day: date
    photos: int
    submissions: int


class CampaignStats(BaseModel):
    """What the dashboard shows of one campaign."""

    photos: int
    photos_by_shape: dict[str, int]
    submissions: int
    by_status: dict[str, int]
    by_platform: dict[str, int]
    days: list[DayCount]


def daily_series(photo_times: Iterable[datetime], submission_times: Iterable[datetime], last_day: date, days: int) -> list[DayCount]:
    """Counts per UTC day for the `days` days ending on `last_day`, oldest first, zeros included."""
    first = last_day - timedelta(days=days - 1)
    photos = Counter(t.date() for t in photo_times)
    submissions = Counter(t.date() for t in submission_times)
    return [
        DayCount(day=day, photos=photos.get(day, 0), submissions=submissions.get(day, 0))
        for day in (first + timedelta(days=i) for i in range(days))
    ]


def csv_cell(value: object) -> str:
    """`value` as a CSV cell that no spreadsheet runs as a formula."""
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    """A CSV document (RFC 4180 quoting) with every cell escaped by `csv_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()
