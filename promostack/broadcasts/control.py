"""Broadcasts in the database: created from a draft, moved by admins (start, pause, resume, cancel,
retract), and held by one runner at a time.

The runner's lease: a run writes its id into `runner` and refreshes `heartbeat_at` at every
checkpoint; another run may take the broadcast only once the heartbeat is older than the lease
(the first runner died), so two runs never send the same broadcast side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from promostack.broadcasts import states
from promostack.broadcasts.compose import Draft
from promostack.db.broadcasts import Broadcast
from promostack.db.engine import lock_database_for_writing, session_scope
from promostack.db.models import utcnow
from promostack.errors import NotFound

LEASE_S = 15.0


@dataclass(frozen=True)
class BroadcastView:
    """A broadcast as its runner and the dashboard read it."""

    id: int
    bot: str
    text: str
    status: str
    photo_key: str | None
    photo_file_id: str | None
    buttons: list[dict[str, str]]
    seen_within_days: int | None
    language: str | None
    paid: bool
    created_at: datetime
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    snapshot_at: datetime | None
    flow_run_id: str | None


def _view(row: Broadcast) -> BroadcastView:
    return BroadcastView(
        row.id, row.bot, row.text, row.status, row.photo_key, row.photo_file_id, list(row.buttons or []),
        row.seen_within_days, row.language, row.paid, row.created_at, row.scheduled_at, row.started_at,
        row.finished_at, row.snapshot_at, row.flow_run_id,
    )


def create(factory: sessionmaker[Session], draft: Draft, *, created_by: str | None, photo_key: str | None = None) -> int:
    """The id of a new broadcast saved from `draft` (status draft, or scheduled when it has a time)."""
    row = Broadcast(
        bot=draft.bot, text=draft.text, photo_key=photo_key, promo_template=draft.promo_template,
        promo_code=draft.promo_code, buttons=[b.model_dump() for b in draft.buttons],
        seen_within_days=draft.seen_within_days, language=draft.language, paid=draft.paid,
        status=states.DRAFT, created_by=created_by, scheduled_at=draft.scheduled_at,
    )
    with session_scope(factory) as session:
        session.add(row)
        session.flush()
        return row.id


def get(factory: sessionmaker[Session], broadcast_id: int) -> BroadcastView:
    """The broadcast `broadcast_id`; `NotFound` when there is none."""
    with session_scope(factory) as session:
        row = session.get(Broadcast, broadcast_id)
        if row is None:
            raise NotFound(f"no broadcast {broadcast_id}")
        return _view(row)


def recent(factory: sessionmaker[Session], limit: int = 50) -> list[BroadcastView]:
    """The newest broadcasts first."""
    with session_scope(factory) as session:
        rows = session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit))
        return [_view(row) for row in rows]


def apply(factory: sessionmaker[Session], broadcast_id: int, action: str, *, at: datetime | None = None) -> str:
    """The status `action` (start, schedule — at `at` —, pause, resume, cancel, retract) moved the
    broadcast to; `BroadcastConflict` when it does not apply, `NotFound` when there is none."""
    with session_scope(factory) as session:
        lock_database_for_writing(session)
        row = session.get(Broadcast, broadcast_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no broadcast {broadcast_id}")
        row.status = states.next_status(action, row.status)
        if action == "schedule":
            row.scheduled_at = at
        if row.status == states.CANCELLED:
            row.finished_at = utcnow()
        return row.status


def back_to_draft(factory: sessionmaker[Session], broadcast_id: int) -> None:
    """Nothing; a broadcast whose run could not be started is a draft again (if no run took it)."""
    with session_scope(factory) as session:
        session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.status.in_([states.QUEUED, states.SCHEDULED]), Broadcast.runner.is_(None))
            .values(status=states.DRAFT, scheduled_at=None)
        )


def set_flow_run(factory: sessionmaker[Session], broadcast_id: int, flow_run_id: str) -> None:
    """Nothing; remembers the Prefect run that will carry the broadcast (shown on the dashboard)."""
    with session_scope(factory) as session:
        session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(flow_run_id=flow_run_id))


def set_photo(factory: sessionmaker[Session], broadcast_id: int, *, key: str | None = None, file_id: str | None = None) -> None:
    """Nothing; records the photo's storage key and/or Telegram's file id once it was uploaded."""
    values = {name: value for name, value in (("photo_key", key), ("photo_file_id", file_id)) if value}
    if values:
        with session_scope(factory) as session:
            session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(**values))


def take_lease(
    factory: sessionmaker[Session], broadcast_id: int, runner: str, *, lease_s: float = LEASE_S, now: datetime | None = None
) -> bool:
    """True when `runner` now holds the broadcast: it was free, already its own, or its holder's
    heartbeat is older than `lease_s` (that runner died)."""
    now = now or utcnow()
    with session_scope(factory) as session:
        result = session.execute(
            update(Broadcast)
            .where(
                Broadcast.id == broadcast_id,
                or_(
                    Broadcast.runner.is_(None),
                    Broadcast.runner == runner,
                    Broadcast.heartbeat_at < now - timedelta(seconds=lease_s),
                ),
            )
            .values(runner=runner, heartbeat_at=now)
        )
        return bool(result.rowcount)


def release_lease(factory: sessionmaker[Session], broadcast_id: int, runner: str, *, finished_status: str | None = None) -> None:
    """Nothing; lets go of the broadcast (moving it to `finished_status` when given, if it still
    is running: an admin's pause or cancel that arrived meanwhile wins)."""
    now = utcnow()
    with session_scope(factory) as session:
        lock_database_for_writing(session)
        row = session.get(Broadcast, broadcast_id, with_for_update=True)
        if row is None or row.runner != runner:
            return
        row.runner = None
        row.heartbeat_at = None
        if finished_status and row.status in {states.RUNNING, states.QUEUED, states.SCHEDULED, states.RETRACTING}:
            row.status = finished_status
            row.finished_at = now
            if finished_status == states.RETRACTED:
                row.retracted_at = now


def mark_running(factory: sessionmaker[Session], broadcast_id: int, runner: str) -> str:
    """The broadcast's status after a run that holds it began sending (queued/scheduled → running)."""
    with session_scope(factory) as session:
        lock_database_for_writing(session)
        row = session.get(Broadcast, broadcast_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no broadcast {broadcast_id}")
        if row.runner == runner and row.status in {states.QUEUED, states.SCHEDULED}:
            row.status = states.RUNNING
            row.started_at = row.started_at or utcnow()
        return row.status
