"""Generation events: one row per attempt to make a promo image, written exactly once.

An event's id is chosen by its writer before the first write, and derived from the work where the
work has an identity (`derived_event_id`: a bulk row from its job and code, a bot promo from its
bot and update), so a retried write, a resumed job or a re-delivered update lands on the same row
and the unique key keeps it single.

Paths whose effect leaves the process (a photo sent to Telegram, an image in an HTTP answer) write
the event *before* the effect as an attempt (`status="pending"`) and settle it after
(`succeeded` / `failed`). An attempt left pending by a process that died is settled by
`settle_stale_attempts` at the next start: `succeeded` when its image is in storage, else
`unknown` (the effect may or may not have happened: nothing can tell any more).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from promostack.db.engine import session_scope
from promostack.db.models import GenerationEvent
from promostack.errors import DependencyError
from promostack.storage import ObjectStore, StorageError

log = logging.getLogger(__name__)

Status = Literal["pending", "succeeded", "failed", "unknown"]


def derived_event_id(*parts: object) -> str:
    """The event id of the work `parts` name (32 hex characters): the same work, the same id."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class GenerationRecord:
    """One attempt, as it goes into `generation_events`."""

    channel: str
    user_ref: str | None
    template_slug: str
    coupon_code: str
    success: bool
    error: str | None = None
    render_ms: float | None = None
    output_key: str | None = None
    # Fixed when the record is made, so writing it again (a retry) adds no second row.
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # "pending" for an attempt written before its effect; settled ones say how it ended.
    status: Status | None = None
    bot: str | None = None  # the bot that asked, for Telegram promos

    @property
    def final_status(self) -> Status:
        """The status stored: the given one, else succeeded or failed by `success`."""
        return self.status or ("succeeded" if self.success else "failed")


def _row(record: GenerationRecord, now: datetime) -> dict[str, object]:
    status = record.final_status
    return {
        "event_id": record.event_id,
        "created_at": now,
        "channel": record.channel,
        "bot": record.bot[:32] if record.bot else None,
        "user_ref": record.user_ref[:64] if record.user_ref else None,
        "template_slug": record.template_slug[:64],
        "coupon_code": record.coupon_code[:64],
        "success": record.success and status == "succeeded",
        "status": status,
        "settled_at": None if status == "pending" else now,
        "error": record.error[:2000] if record.error else None,
        "render_ms": record.render_ms,
        "output_key": record.output_key,
    }


def record_generations(sessions: sessionmaker[Session], records: Sequence[GenerationRecord]) -> None:
    """Insert `records` in one transaction; `DependencyError` when the database fails.

    Idempotent: a record whose `event_id` is already stored is skipped, so a write retried after
    a lost acknowledgement (the commit went through, the answer did not) adds nothing.
    """
    if not records:
        return
    now = datetime.now(timezone.utc)
    rows = [_row(record, now) for record in records]
    try:
        with session_scope(sessions) as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
            session.execute(insert(GenerationEvent).on_conflict_do_nothing(index_elements=["event_id"]), rows)
    except SQLAlchemyError as exc:
        raise DependencyError(f"cannot record generation events: {exc.__class__.__name__}") from exc


def record_generation(sessions: sessionmaker[Session], record: GenerationRecord) -> None:
    """Insert `record` (see `record_generations`)."""
    record_generations(sessions, [record])


def settle(
    sessions: sessionmaker[Session],
    event_id: str,
    status: Status,
    *,
    error: str | None = None,
    render_ms: float | None = None,
    output_key: str | None = None,
) -> bool:
    """True when the pending attempt `event_id` is now settled as `status`; False when it was not
    pending (already settled: a second settle changes nothing)."""
    values: dict[str, object] = {
        "status": status,
        "success": status == "succeeded",
        "settled_at": datetime.now(timezone.utc),
    }
    if error is not None:
        values["error"] = error[:2000]
    if render_ms is not None:
        values["render_ms"] = render_ms
    if output_key is not None:
        values["output_key"] = output_key
    try:
        with session_scope(sessions) as session:
            done = session.execute(
                update(GenerationEvent)
                .where(GenerationEvent.event_id == event_id, GenerationEvent.status == "pending")
                .values(**values)
            )
            return bool(done.rowcount)
    except SQLAlchemyError as exc:
        raise DependencyError(f"cannot settle generation event: {exc.__class__.__name__}") from exc


@dataclass(frozen=True)
class SettleReport:
    """What `settle_stale_attempts` found: attempts settled as succeeded and as unknown."""

    succeeded: int = 0
    unknown: int = 0


def settle_stale_attempts(
    sessions: sessionmaker[Session], store: ObjectStore, older_than: timedelta
) -> SettleReport:
    """The attempts left pending for longer than `older_than` (their process died), settled from
    what storage tells: `succeeded` when their output image exists, else `unknown`."""
    cutoff = datetime.now(timezone.utc) - older_than
    with session_scope(sessions) as session:
        stale = session.execute(
            select(GenerationEvent.event_id, GenerationEvent.output_key).where(
                GenerationEvent.status == "pending", GenerationEvent.created_at <= cutoff
            )
        ).all()
    succeeded = unknown = 0
    for event_id, output_key in stale:
        stored = False
        if output_key:
            try:
                stored = store.exists(output_key)
            except StorageError:
                log.warning("cannot check %s while settling event %s", output_key, event_id, exc_info=True)
        if stored:
            succeeded += settle(sessions, event_id, "succeeded")
        else:
            unknown += settle(
                sessions, event_id, "unknown", error="the process ended before the attempt was settled"
            )
    if stale:
        log.warning("settled %d stale generation attempts: %d succeeded, %d unknown", len(stale), succeeded, unknown)
    return SettleReport(succeeded=succeeded, unknown=unknown)


class GenerationLog:
    """Generation records written in batches as they come, and the rest when the block ends.

    A crash between batches loses the queued records of this run; they are written again by the
    resumed run, whose ids are derived from the work (see `derived_event_id`).
    """

    def __init__(self, sessions: sessionmaker[Session], batch_size: int = 50) -> None:
        self.sessions = sessions
        self.batch_size = batch_size
        self._pending: list[GenerationRecord] = []

    def add(self, record: GenerationRecord) -> None:
        """Queue `record`, writing the batch once it is full."""
        self._pending.append(record)
        if len(self._pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write every queued record."""
        if self._pending:
            record_generations(self.sessions, self._pending)
            self._pending = []

    def __enter__(self) -> GenerationLog:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc is None:
            self.flush()
            return
        try:
            # The block failed part-way: keep the records of the rows that did finish.
            self.flush()
        except DependencyError:
            log.exception("could not record %d generation events", len(self._pending))
