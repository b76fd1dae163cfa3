"""Walk-forward reports kept in the database, and the parameter sets admins adopt for the live strategy.

The live strategy's parameters are the newest adoption for its symbol and interval, or the
built-in `StrategyParams` defaults when nobody adopted any. Nothing but `adopt` writes an
adoption, and an optimisation only ever writes a report: tuning never changes what the channel
trades until a person decides it should.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from promostack.db.engine import session_scope
from promostack.db.strategy import StrategyAdoption, WalkForwardRun
from promostack.errors import InvalidInput, NotFound
from promostack.signals.params import StrategyParams
from promostack.signals.walk_forward import WalkForwardReport


@dataclass(frozen=True)
class RunSummary:
    """One stored walk-forward run, as a list shows it."""

    id: int
    created_at: datetime
    symbol: str
    interval: str
    source: str
    windows: int
    trades: int
    expectancy_r: float | None
    edge: bool


@dataclass(frozen=True)
class Adoption:
    """One recorded change of the live parameters."""

    id: int
    symbol: str
    interval: str
    params: StrategyParams
    previous_params: StrategyParams
    adopted_at: datetime
    adopted_by: str
    note: str
    walk_forward_run_id: int | None
    window_index: int | None


def save_walk_forward_run(sessions: sessionmaker[Session], report: WalkForwardReport, source: str) -> int:
    """The id of the stored run of `report` (candles from `source`)."""
    with session_scope(sessions) as session:
        row = WalkForwardRun(
            symbol=report.symbol,
            interval=report.interval,
            source=source[:200],
            windows=len(report.windows),
            trades=report.out_of_sample.trades,
            expectancy_r=report.out_of_sample.expectancy_r,
            edge=report.out_of_sample.edge,
            report=report.model_dump(mode="json"),
        )
        session.add(row)
        session.flush()
        return row.id


def walk_forward_runs(sessions: sessionmaker[Session], limit: int = 50) -> list[RunSummary]:
    """The newest stored runs, newest first."""
    query = select(WalkForwardRun).order_by(WalkForwardRun.created_at.desc(), WalkForwardRun.id.desc())
    with sessions() as session:
        return [
            RunSummary(
                r.id,
                r.created_at,
                r.symbol,
                r.interval,
                r.source,
                r.windows,
                r.trades,
                r.expectancy_r,
                r.edge,
            )
            for r in session.scalars(query.limit(limit))
        ]


def walk_forward_report(sessions: sessionmaker[Session], run_id: int) -> WalkForwardReport:
    """The report of run `run_id`; `NotFound` (field `run_id`) when there is no such run."""
    with sessions() as session:
        row = session.get(WalkForwardRun, run_id)
        if row is None:
            raise NotFound(f"no walk-forward run {run_id}", field="run_id")
        return WalkForwardReport.model_validate(row.report)


def live_params(sessions: sessionmaker[Session], symbol: str, interval: str) -> StrategyParams:
    """The parameters the live strategy trades `symbol` on `interval` candles with."""
    latest = _latest(sessions, symbol, interval)
    return latest.params if latest else StrategyParams(symbol=symbol, interval=interval)


def adoption_history(
    sessions: sessionmaker[Session], symbol: str, interval: str, limit: int = 50
) -> list[Adoption]:
    """The recorded changes of the live parameters of `symbol`/`interval`, newest first."""
    query = (
        select(StrategyAdoption)
        .where(StrategyAdoption.symbol == symbol, StrategyAdoption.interval == interval)
        .order_by(StrategyAdoption.adopted_at.desc(), StrategyAdoption.id.desc())
        .limit(limit)
    )
    with sessions() as session:
        return [_adoption(row) for row in session.scalars(query)]


def adopt(
    sessions: sessionmaker[Session],
    params: dict[str, object],
    adopted_by: str,
    note: str = "",
    walk_forward_run_id: int | None = None,
    window_index: int | None = None,
) -> Adoption:
    """Make `params` the live parameters of their symbol and interval, and record the change.

    `InvalidInput` when the values do not make a valid strategy (field `params`) or nobody is
    named (`adopted_by`); `NotFound` for an unknown run (`run_id`).
    """
    try:
        chosen = StrategyParams.model_validate(params)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'params'}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"not a valid parameter set: {problems}", field="params") from None
    if not adopted_by.strip():
        raise InvalidInput("say who adopts the parameter set", field="adopted_by")
    previous = live_params(sessions, chosen.symbol, chosen.interval)
    with session_scope(sessions) as session:
        if walk_forward_run_id is not None and session.get(WalkForwardRun, walk_forward_run_id) is None:
            raise NotFound(f"no walk-forward run {walk_forward_run_id}", field="run_id")
        row = StrategyAdoption(
            symbol=chosen.symbol,
            interval=chosen.interval,
            params=chosen.model_dump(mode="json"),
            previous_params=previous.model_dump(mode="json"),
            adopted_by=adopted_by.strip()[:128],
            note=note.strip(),
            walk_forward_run_id=walk_forward_run_id,
            window_index=window_index,
        )
        session.add(row)
        session.flush()
        return _adoption(row)


def _latest(sessions: sessionmaker[Session], symbol: str, interval: str) -> Adoption | None:
    found = adoption_history(sessions, symbol, interval, limit=1)
    return found[0] if found else None


def _adoption(row: StrategyAdoption) -> Adoption:
    return Adoption(
        id=row.id,
        symbol=row.symbol,
        interval=row.interval,
        params=StrategyParams.model_validate(row.params),
        previous_params=StrategyParams.model_validate(row.previous_params),
        adopted_at=row.adopted_at,
        adopted_by=row.adopted_by,
        note=row.note,
        walk_forward_run_id=row.walk_forward_run_id,
        window_index=row.window_index,
    )
