"""What the analytics tests share: events put straight into the source tables, and exports run
through the core steps (the flow runs them in the same order) when Prefect is not the subject."""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from analytics.export import DayExport, export_day, new_run_id, plan_recent, publish
from analytics.manifest import Manifest, read_manifest
from analytics.readers import RowReader
from analytics.tables import existing_tables
from promostack.db.models import BotUser, GenerationEvent
from promostack.storage import ObjectStore

NOW = datetime.now(timezone.utc).replace(minute=30, second=0, microsecond=0)
TODAY = NOW.date()


def at(days_ago: int, hour: int, minute: int = 0) -> datetime:
    """A UTC instant `days_ago` days before today at hour:minute."""
    day = TODAY - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone.utc)


def event(created_at: datetime, **values: Any) -> dict[str, Any]:
    """A generation event row: a successful web render of `gold` unless `values` say otherwise."""
    row: dict[str, Any] = {
        "created_at": created_at,
        "channel": "web",
        "bot": None,  # the writer names the bot for Telegram promos
        "user_ref": "u1",
        "template_slug": "gold",
        "coupon_code": "WELCOME10",
        "success": True,
        "error": None,
        "render_ms": 10.0,
    }
    row.update(values)
    if not row["success"] and row["error"] is None:
        row["error"] = "InvalidCoupon: the code is not valid"
    return row


def add_events(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` into generation_events, committed."""
    with engine.begin() as conn:
        conn.execute(insert(GenerationEvent), rows)


def add_users(engine: Engine, count: int, first_seen: datetime) -> None:
    """Insert `count` promo-bot users first seen at `first_seen`."""
    with engine.begin() as conn:
        conn.execute(
            insert(BotUser),
            [{"bot": "promo", "telegram_id": 1000 + i, "first_seen": first_seen, "last_seen": first_seen} for i in range(count)],
        )


def export_recent(engine: Engine, store: ObjectStore, today: date = TODAY) -> Manifest:
    """Run the regular export's steps once (no Prefect) and return the published manifest."""
    sources = existing_tables(engine)
    by_name = {s.spec.name: s for s in sources}
    run = new_run_id()
    with tempfile.TemporaryDirectory() as work, RowReader(engine) as reader:
        exports: list[DayExport] = [
            export_day(reader, store, by_name[job.table], job.day, run, Path(work))
            for job in plan_recent(engine, sources, read_manifest(store), today)
        ]
    return publish(store, exports, list(by_name))
