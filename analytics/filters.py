"""What a dashboard question asks for: a time range (named or custom, UTC) and the bot, channel
and template filters — checked, with the SQL condition and the chart buckets they imply."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone

from promostack.errors import InvalidInput

RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90)}
MAX_CUSTOM_DAYS = 400
HOURLY_MAX = timedelta(hours=48)
DAILY_MAX = timedelta(days=180)


@dataclass(frozen=True)
class Filters:
    """A question's scope: the UTC instants [start, end) and optional bot, channel, template."""

    start: datetime
    end: datetime
    bot: str | None = None
    channel: str | None = None
    template: str | None = None

    @property
    def hourly(self) -> bool:
        """Whether the range is short enough for hourly buckets (and the hourly rollups)."""
        return self.end - self.start <= HOURLY_MAX

    @property
    def bucket(self) -> str:
        """The chart's bucket: hour up to 48 h, day up to 180 days, week above."""
        span = self.end - self.start
        return "hour" if span <= HOURLY_MAX else "day" if span <= DAILY_MAX else "week"

    def previous(self) -> Filters:
        """The period of the same length right before this one."""
        span = self.end - self.start
        return replace(self, start=self.start - span, end=self.start)

    @property
    def days(self) -> tuple[date, date]:
        """The first and last UTC day the range touches."""
        return self.start.date(), (self.end - timedelta(microseconds=1)).date()


def _text(value: str | None, name: str) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > 64:
        raise InvalidInput(f"{name}: at most 64 characters")
    return value


def parse_filters(
    range_name: str,
    now: datetime,
    start: str | None = None,
    end: str | None = None,
    bot: str | None = None,
    channel: str | None = None,
    template: str | None = None,
) -> Filters:
    """The scope a dashboard request asks for; `InvalidInput` saying what is wrong.

    24h ends at the end of the current hour; 7d/30d/90d end at the end of today (UTC);
    custom takes `start` and `end` dates (YYYY-MM-DD, both included).
    """
    if range_name in RANGES:
        if range_name == "24h":
            stop = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        else:
            stop = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)
        begin = stop - RANGES[range_name]
    elif range_name == "custom":
        try:
            first, last = date.fromisoformat(start or ""), date.fromisoformat(end or "")
        except ValueError:
            raise InvalidInput("custom range: give start and end as dates like 2026-11-01") from None
        if last < first:
            raise InvalidInput("custom range: the end date is before the start date")
        if (last - first).days + 1 > MAX_CUSTOM_DAYS:
            raise InvalidInput(f"custom range: at most {MAX_CUSTOM_DAYS} days")
        begin = datetime.combine(first, datetime.min.time(), tzinfo=timezone.utc)
        stop = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)
    else:
        raise InvalidInput(f"range: use one of {', '.join([*RANGES, 'custom'])}")
    return Filters(begin, stop, _text(bot, "bot"), _text(channel, "channel"), _text(template, "template"))


def filter_sql(f: Filters) -> tuple[str, dict[str, str]]:
    """The WHERE conditions and bound values of the filters `f` sets."""
    chosen = {name: value for name in ("bot", "channel", "template") if (value := getattr(f, name)) is not None}
    return "".join(f" AND {name} = ${name}" for name in chosen), chosen


def utc(value: datetime | date) -> datetime:
    """`value` as an aware UTC datetime (a date: its midnight)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return datetime.combine(value, datetime.min.time(), tzinfo=timezone.utc)


def buckets(f: Filters, bucket: str) -> list[datetime]:
    """The starts of the hour, day or ISO-week buckets a chart of `f`'s range shows."""
    if bucket == "hour":
        t, step = f.start, timedelta(hours=1)
    else:
        t = datetime.combine(f.start.date(), datetime.min.time(), tzinfo=timezone.utc)
        step = timedelta(days=1) if bucket == "day" else timedelta(weeks=1)
        if bucket == "week":
            t -= timedelta(days=t.weekday())  # DuckDB's weeks start on Monday (ISO)
    out = []
    while t < f.end:
        out.append(t)
        t += step
    return out
