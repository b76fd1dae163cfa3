"""Signals in the database: recording, settling, and the posting states that make posts idempotent.

Posting protocol (for a signal's post, its closing reply, and each recap):
`pending` --claim--> `sending` --sent--> `posted` (message id stored)
                               --definitely not sent--> `pending` (retried later)
                               --may have arrived (time-out)--> `uncertain` (never re-sent)
A claim is a conditional UPDATE (`WHERE state = 'pending'`), so two runs racing on the same
signal cannot both send it. Telegram has no idempotency key and a bot cannot read a channel's
history, so after a time-out we cannot know whether the message arrived; re-sending would risk
a duplicate in front of every subscriber, which is worse than a missing post an operator can
send by hand. `sending` rows left by a crashed process are treated the same way.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from promostack.db.engine import session_scope
from promostack.db.models import Signal, SignalRecap
from promostack.signals.lifecycle import OPEN, Outcome
from promostack.signals.stats import ClosedTrade
from promostack.signals.strategy import SignalCandidate

PENDING, SENDING, POSTED, UNCERTAIN = "pending", "sending", "posted", "uncertain"
PostKind = Literal["open", "close"]


def record_signal(sessions: sessionmaker[Session], candidate: SignalCandidate, source: str) -> Signal | None:
    """The new signal row, or None when this candle already has one or the symbol has one open."""
    try:
        with session_scope(sessions) as session:
            if open_signal(session, candidate.symbol) is not None:
                return None
            row = Signal(
                symbol=candidate.symbol,
                interval=candidate.interval,
                candle_time=candidate.candle_time,
                side=candidate.side,
                entry=candidate.entry,
                take_profit=candidate.take_profit,
                stop_loss=candidate.stop_loss,
                atr=candidate.atr,
                reasons=candidate.reasons,
                source=source,
                status=OPEN,
            )
            session.add(row)
        return row
    except IntegrityError:
        # A concurrent run recorded this candle (or opened another signal) first: already done.
        return None


def open_signal(session: Session, symbol: str) -> Signal | None:
    """The open signal of `symbol`, if any."""
    return session.scalars(select(Signal).where(Signal.symbol == symbol, Signal.status == OPEN)).first()


def open_signals(sessions: sessionmaker[Session], symbol: str | None = None) -> list[Signal]:
    """Every open signal (of `symbol`, when given), oldest first."""
    query = select(Signal).where(Signal.status == OPEN).order_by(Signal.candle_time)
    if symbol is not None:
        query = query.where(Signal.symbol == symbol)
    with sessions() as session:
        return list(session.scalars(query))


def close_signal(sessions: sessionmaker[Session], signal_id: int, outcome: Outcome) -> bool:
    """True when this call closed the signal; False when it was no longer open (already settled)."""
    with session_scope(sessions) as session:
        result = session.execute(
            update(Signal)
            .where(Signal.id == signal_id, Signal.status == OPEN)
            .values(
                status=outcome.status,
                closed_at=outcome.closed_at,
                exit_price=outcome.exit_price,
                pips=outcome.pips,
                r_multiple=outcome.r_multiple,
            )
        )
        return result.rowcount == 1


def _columns(kind: PostKind):  # type: ignore[no-untyped-def]
    return (
        (Signal.post_state, Signal.message_id)
        if kind == "open"
        else (Signal.close_post_state, Signal.close_message_id)
    )


def posts_due(sessions: sessionmaker[Session], kind: PostKind, closed_since: datetime) -> list[Signal]:
    """Signals whose `kind` post is still pending, oldest first.

    Signals closed before `closed_since` are left alone, so a bot configured (or back) after a
    long pause does not flood the channel with old news. A closing reply waits until the
    signal's own post is settled (posted, or uncertain: then the reply has no thread), so the
    channel never sees an end before its start.
    """
    state, _ = _columns(kind)
    query = select(Signal).where(state == PENDING).order_by(Signal.candle_time)
    if kind == "open":
        query = query.where((Signal.status == OPEN) | (Signal.closed_at >= closed_since))
    else:
        query = query.where(
            Signal.status != OPEN,
            Signal.closed_at >= closed_since,
            Signal.post_state.in_([POSTED, UNCERTAIN]),
        )
    with sessions() as session:
        return list(session.scalars(query))


def claim_post(sessions: sessionmaker[Session], signal_id: int, kind: PostKind) -> bool:
    """True when this caller may send the post (it moved pending -> sending); False otherwise."""
    state, _ = _columns(kind)
    with session_scope(sessions) as session:
        result = session.execute(
            update(Signal).where(Signal.id == signal_id, state == PENDING).values({state.key: SENDING})
        )
        return result.rowcount == 1


def settle_post(
    sessions: sessionmaker[Session],
    signal_id: int,
    kind: PostKind,
    outcome: str,
    message_id: int | None = None,
) -> None:
    """Record how a claimed send ended: POSTED (with its message id), PENDING again, or UNCERTAIN."""
    state, message = _columns(kind)
    values: dict[str, object] = {state.key: outcome}
    if message_id is not None:
        values[message.key] = message_id
    with session_scope(sessions) as session:
        session.execute(update(Signal).where(Signal.id == signal_id, state == SENDING).values(values))


def release_post(sessions: sessionmaker[Session], signal_id: int, kind: PostKind) -> bool:
    """True when an uncertain (or stuck sending) post was put back to pending, for an operator
    who checked the channel and saw it did not arrive."""
    state, message = _columns(kind)
    with session_scope(sessions) as session:
        result = session.execute(
            update(Signal)
            .where(Signal.id == signal_id, state.in_([UNCERTAIN, SENDING]), message.is_(None))
            .values({state.key: PENDING})
        )
        return result.rowcount == 1


def get_signal(sessions: sessionmaker[Session], signal_id: int) -> Signal | None:
    """The signal with `signal_id`, if it exists."""
    with sessions() as session:
        return session.get(Signal, signal_id)


def closed_trades(
    sessions: sessionmaker[Session], start: datetime, end: datetime, symbol: str | None = None
) -> list[ClosedTrade]:
    """Signals closed in [start, end), as trades, in close order."""
    query = select(Signal).where(Signal.status != OPEN, Signal.closed_at >= start, Signal.closed_at < end)
    if symbol is not None:
        query = query.where(Signal.symbol == symbol)
    with sessions() as session:
        rows = list(session.scalars(query.order_by(Signal.closed_at)))
    return [_trade(row) for row in rows]


def recent_trades(sessions: sessionmaker[Session], before: datetime, limit: int = 100) -> list[ClosedTrade]:
    """The latest `limit` signals closed before `before` (for the current streak)."""
    query = (
        select(Signal)
        .where(Signal.status != OPEN, Signal.closed_at < before)
        .order_by(Signal.closed_at.desc())
        .limit(limit)
    )
    with sessions() as session:
        return [_trade(row) for row in session.scalars(query)]


def opened_count(sessions: sessionmaker[Session], start: datetime, end: datetime) -> int:
    """How many signals were raised on candles in [start, end)."""
    with sessions() as session:
        return int(
            session.scalar(
                select(func.count(Signal.id)).where(Signal.candle_time >= start, Signal.candle_time < end)
            )
            or 0
        )


def as_utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime (SQLite returns naive ones; everything stored is UTC)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _trade(row: Signal) -> ClosedTrade:
    assert row.closed_at is not None
    return ClosedTrade(
        side=row.side,
        status=row.status,
        opened_at=as_utc(row.candle_time),
        closed_at=as_utc(row.closed_at),
        pips=row.pips or 0.0,
        r_multiple=row.r_multiple or 0.0,
    )


def claim_recap(sessions: sessionmaker[Session], period: str, period_start: datetime) -> int | None:
    """The recap row's id when this caller may post the recap of that period, else None."""
    try:
        with session_scope(sessions) as session:
            session.add(SignalRecap(period=period, period_start=period_start, post_state=PENDING))
    except IntegrityError:
        pass  # recorded by an earlier (perhaps failed) run: claim it below if still pending
    with session_scope(sessions) as session:
        recap_id = session.scalar(
            select(SignalRecap.id).where(
                SignalRecap.period == period, SignalRecap.period_start == period_start
            )
        )
        claimed = session.execute(
            update(SignalRecap)
            .where(SignalRecap.id == recap_id, SignalRecap.post_state == PENDING)
            .values(post_state=SENDING)
        )
        return recap_id if claimed.rowcount == 1 else None


def settle_recap(
    sessions: sessionmaker[Session], recap_id: int, outcome: str, message_id: int | None = None
) -> None:
    """Record how the recap's send ended (POSTED, PENDING again, or UNCERTAIN)."""
    values: dict[str, object] = {"post_state": outcome}
    if message_id is not None:
        values["message_id"] = message_id
    with session_scope(sessions) as session:
        session.execute(
            update(SignalRecap)
            .where(SignalRecap.id == recap_id, SignalRecap.post_state == SENDING)
            .values(values)
        )
