"""A broadcast's recipients: the snapshot, the checkpoint a runner writes as it goes, the counts.

The snapshot is taken once (`INSERT … SELECT` of the bot's active users matching the filters,
in the same transaction that stamps `snapshot_at`), so a resumed run finds the same rows and
never adds anyone who arrived later. Rows are unique per (broadcast, chat).

`checkpoint` is the runner's one round trip per refill: it writes the outcomes that came back,
refreshes the lease, reads whether an admin paused or cancelled, and — when still sending — marks
the next rows `sending` before their requests leave. So at most the rows in flight are ever
`sending`, and that is all a crash can leave behind (`orphans_to_unknown` on the next run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, func, literal, select, update
from sqlalchemy.orm import Session, sessionmaker

from promostack.audience import ACTIVE
from promostack.broadcasts import states
from promostack.db.broadcasts import Broadcast, BroadcastRecipient
from promostack.db.engine import session_scope
from promostack.db.models import BotUser, utcnow
from promostack.errors import NotFound

RETRACT_WINDOW = timedelta(hours=48)  # Telegram lets a bot delete its messages for 48 h


@dataclass(frozen=True)
class Recipient:
    """One row being worked on: its id and chat."""

    id: int
    chat_id: int
    message_id: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one row: its new state, the message id when sent, the reason otherwise."""

    id: int
    state: str
    message_id: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Checkpoint:
    """The runner's view after a checkpoint: the broadcast's status, whether it still holds it,
    and the rows it must now send (already marked `sending`)."""

    status: str
    holds: bool
    claimed: list[Recipient] = field(default_factory=list)


@dataclass(frozen=True)
class Counts:
    """How far a broadcast is: rows per state, recent rate (sent per second) and ETA."""

    total: int
    pending: int
    sending: int
    sent: int
    blocked: int
    failed: int
    unknown: int
    retracted: int
    rate_per_s: float

    @property
    def remaining(self) -> int:
        """Rows not yet tried (pending) or in flight."""
        return self.pending + self.sending

    @property
    def done(self) -> int:
        """Rows with a final outcome."""
        return self.total - self.remaining

    @property
    def eta_s(self) -> float | None:
        """Seconds until the remaining rows are sent at the recent rate (None when not moving)."""
        return self.remaining / self.rate_per_s if self.rate_per_s > 0 and self.remaining else None


def take_snapshot(factory: sessionmaker[Session], broadcast_id: int, *, now: datetime | None = None) -> int | None:
    """The number of recipients the snapshot holds, taken now; None when it was taken before."""
    now = now or utcnow()
    with session_scope(factory) as session:
        stamped = session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.snapshot_at.is_(None)).values(snapshot_at=now)
        )
        if not stamped.rowcount:
            if session.get(Broadcast, broadcast_id) is None:
                raise NotFound(f"no broadcast {broadcast_id}")
            return None
        broadcast = session.get(Broadcast, broadcast_id)
        assert broadcast is not None
        audience = select(
            literal(broadcast_id, Integer), BotUser.telegram_id, literal(states.PENDING, String)
        ).where(BotUser.bot == broadcast.bot, BotUser.status == ACTIVE)
        if broadcast.seen_within_days:
            audience = audience.where(BotUser.last_seen >= now - timedelta(days=broadcast.seen_within_days))
        if broadcast.language:
            audience = audience.where(BotUser.language_code.like(f"{broadcast.language}%"))
        session.execute(
            BroadcastRecipient.__table__.insert().from_select(["broadcast_id", "chat_id", "state"], audience.order_by(BotUser.id))
        )
        return int(
            session.scalar(select(func.count()).where(BroadcastRecipient.broadcast_id == broadcast_id)) or 0
        )


def orphans_to_unknown(factory: sessionmaker[Session], broadcast_id: int) -> int:
    """How many rows a dead run left `sending`, now `unknown` (they may have been delivered)."""
    with session_scope(factory) as session:
        result = session.execute(
            update(BroadcastRecipient)
            .where(BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.state == states.SENDING)
            .values(state=states.UNKNOWN, error="the sending process stopped mid-request")
        )
        return int(result.rowcount or 0)


def checkpoint(
    factory: sessionmaker[Session],
    broadcast_id: int,
    runner: str,
    outcomes: list[Outcome],
    claim: int,
) -> Checkpoint:
    """Writes `outcomes`, refreshes the lease, and claims up to `claim` pending rows (marked
    `sending`) unless the broadcast stopped being sendable or `runner` lost it."""
    now = utcnow()
    with session_scope(factory) as session:
        _write_outcomes(session, outcomes, now)
        held = session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.runner == runner).values(heartbeat_at=now)
        )
        status = session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id)) or states.CANCELLED
        if not held.rowcount or status not in states.SENDABLE or claim <= 0:
            return Checkpoint(status, bool(held.rowcount))
        rows = session.execute(
            select(BroadcastRecipient.id, BroadcastRecipient.chat_id)
            .where(BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.state == states.PENDING)
            .order_by(BroadcastRecipient.id)
            .limit(claim)
        ).all()
        if rows:
            session.execute(
                update(BroadcastRecipient)
                .where(BroadcastRecipient.id.in_([r.id for r in rows]), BroadcastRecipient.state == states.PENDING)
                .values(state=states.SENDING)
            )
        return Checkpoint(status, True, [Recipient(r.id, r.chat_id) for r in rows])


def _write_outcomes(session: Session, outcomes: list[Outcome], now: datetime) -> None:
    if not outcomes:
        return
    session.execute(
        update(BroadcastRecipient),
        [
            {
                "id": o.id,
                "state": o.state,
                "message_id": o.message_id,
                "error": o.error,
                "sent_at": now if o.state == states.SENT else None,
            }
            for o in outcomes
        ],
    )


def counts(factory: sessionmaker[Session], broadcast_id: int, *, rate_window_s: float = 10.0) -> Counts:
    """The broadcast's rows per state and the rate of the last `rate_window_s` seconds."""
    now = utcnow()
    with session_scope(factory) as session:
        by_state = dict(
            session.execute(
                select(BroadcastRecipient.state, func.count())
                .where(BroadcastRecipient.broadcast_id == broadcast_id)
                .group_by(BroadcastRecipient.state)
            ).all()
        )
        recent = session.scalar(
            select(func.count()).where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.sent_at >= now - timedelta(seconds=rate_window_s),
            )
        )
        retracted = session.scalar(
            select(func.count()).where(
                BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.retracted_at.is_not(None)
            )
        )
    return Counts(
        total=sum(by_state.values()),
        **{state: int(by_state.get(state, 0)) for state in states.ROW_STATES},
        retracted=int(retracted or 0),
        rate_per_s=round((recent or 0) / rate_window_s, 2),
    )


def requeue(factory: sessionmaker[Session], broadcast_id: int, row_states: frozenset[str] = frozenset({states.UNKNOWN})) -> int:
    """How many rows in `row_states` (unknown, failed) an admin put back to pending, on purpose."""
    chosen = row_states & states.REQUEUEABLE
    with session_scope(factory) as session:
        result = session.execute(
            update(BroadcastRecipient)
            .where(BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.state.in_(chosen))
            .values(state=states.PENDING, error=None)
        )
        return int(result.rowcount or 0)


def rows_in(factory: sessionmaker[Session], broadcast_id: int, state: str, limit: int = 200) -> list[tuple[int, str | None]]:
    """Up to `limit` (chat id, reason) of the rows in `state`, for the report."""
    with session_scope(factory) as session:
        return [
            (int(r.chat_id), r.error)
            for r in session.execute(
                select(BroadcastRecipient.chat_id, BroadcastRecipient.error)
                .where(BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.state == state)
                .order_by(BroadcastRecipient.id)
                .limit(limit)
            )
        ]


def to_retract(factory: sessionmaker[Session], broadcast_id: int, *, after_id: int, limit: int, now: datetime | None = None) -> list[Recipient]:
    """The next sent, not yet retracted rows still inside Telegram's 48 h window, after row `after_id`."""
    now = now or utcnow()
    with session_scope(factory) as session:
        rows = session.execute(
            select(BroadcastRecipient.id, BroadcastRecipient.chat_id, BroadcastRecipient.message_id)
            .where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.state == states.SENT,
                BroadcastRecipient.retracted_at.is_(None),
                BroadcastRecipient.sent_at >= now - RETRACT_WINDOW,
                BroadcastRecipient.id > after_id,
            )
            .order_by(BroadcastRecipient.id)
            .limit(limit)
        ).all()
        return [Recipient(r.id, r.chat_id, r.message_id) for r in rows]


def mark_retracted(factory: sessionmaker[Session], row_ids: list[int]) -> None:
    """Nothing; records that the messages of `row_ids` were deleted."""
    if row_ids:
        with session_scope(factory) as session:
            session.execute(
                update(BroadcastRecipient).where(BroadcastRecipient.id.in_(row_ids)).values(retracted_at=utcnow())
            )
