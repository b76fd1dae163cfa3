"""Walk-forward optimisation: tune on a window, judge on the next one, never on what was tuned.

The history is cut into rolling windows. In each, every candidate parameter set is backtested
on the in-sample part; the best (by the system quality number, mean R / sd R * sqrt(trades),
among sets with at least `min_trades` trades) is then traded on the out-of-sample part that
follows, which played no part in choosing it. Windows step by the out-of-sample length, so the
out-of-sample parts tile the history without overlap and stitch into one equity curve: the
only figures here that say anything about the future.

Nothing peeks ahead: each window carries `warm_up` candles before its in-sample part (enough
for every candidate's indicators to forget their seed, see `StrategyParams.startup_candle_count`),
in-sample trades are judged on in-sample candles only, and a trade still open at the end of
a part is valued at that part's last close. Each window is independent (`optimise_window`
takes one `WindowJob` and returns one `WindowResult`), so callers run them in parallel processes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from promostack.errors import InvalidInput
from promostack.signals.backtest import closed_trade, simulate
from promostack.signals.lifecycle import score
from promostack.signals.params import StrategyParams
from promostack.signals.search_space import SearchSpace
from promostack.signals.stats import ClosedTrade, equity_curve, performance
from promostack.signals.strategy import TrendStrategy

#: Out-of-sample trades needed before a report may call an edge real.
EDGE_MIN_TRADES = 30
#: t-statistic of the out-of-sample R-multiples that counts as an edge (about 97.5 %, one-sided).
EDGE_MIN_T = 2.0


class WalkForwardConfig(BaseModel):
    """How the history is cut and searched."""

    model_config = ConfigDict(frozen=True)

    in_sample_candles: int = Field(6000, ge=100, description="Candles each window tunes on.")
    out_of_sample_candles: int = Field(1500, ge=20, description="Candles each window is judged on; the step.")
    candidates: int = Field(200, ge=1, le=5000, description="Parameter sets tried per window.")
    seed: int = Field(7, description="Seed of the candidate draw, so a run can be repeated.")
    min_trades: int = Field(10, ge=1, description="In-sample trades a set needs to be chosen.")


class TradeRecord(BaseModel):
    """One out-of-sample trade."""

    opened_at: datetime
    closed_at: datetime
    side: str
    status: str
    pips: float
    r_multiple: float


class WindowResult(BaseModel):
    """What one window chose in-sample and how that choice did out of sample."""

    index: int
    in_sample_start: datetime
    out_of_sample_start: datetime
    out_of_sample_end: datetime
    #: Index of the chosen candidate (0 is the base set), or None when no set traded enough.
    chosen: int | None
    params: StrategyParams | None
    in_sample_trades: int
    in_sample_expectancy_r: float | None
    in_sample_score: float | None
    trades: list[TradeRecord]


@dataclass(frozen=True)
class WindowJob:
    """Everything one worker process needs for one window (picklable)."""

    index: int
    candles: pd.DataFrame  # warm-up + in-sample + out-of-sample, oldest first
    warm_up: int
    in_sample_candles: int
    candidates: tuple[StrategyParams, ...]
    min_trades: int


@dataclass(frozen=True)
class WalkForwardPlan:
    """The windows of a run and the candidates every window tries."""

    config: WalkForwardConfig
    space: SearchSpace
    candidates: tuple[StrategyParams, ...]
    warm_up: int
    jobs: tuple[WindowJob, ...]
    candles: int


def plan_walk_forward(
    candles: pd.DataFrame, base: StrategyParams, space: SearchSpace, config: WalkForwardConfig
) -> WalkForwardPlan:
    """The windows of `candles` (closed, oldest first); `InvalidInput` when not even one fits."""
    candidates = tuple(space.candidates(base, config.candidates, config.seed))
    warm_up = max(c.startup_candle_count for c in candidates)
    size, step = config.in_sample_candles, config.out_of_sample_candles
    needed = warm_up + size + step
    if len(candles) < needed:
        raise InvalidInput(
            f"walk-forward needs at least {needed} candles ({warm_up} warm-up + {size} in-sample + "
            f"{step} out-of-sample); got {len(candles)}"
        )
    jobs = []
    for index, start in enumerate(range(0, len(candles) - needed + 1, step)):
        piece = candles.iloc[start : start + needed]
        jobs.append(WindowJob(index, piece, warm_up, size, candidates, config.min_trades))
    return WalkForwardPlan(config, space, candidates, warm_up, tuple(jobs), len(candles))


def quality(r_multiples: list[float]) -> float:
    """The system quality number: mean R / sd R * sqrt(trades) (sum of R when every trade is alike)."""
    values = np.asarray(r_multiples, dtype=float)
    spread = values.std(ddof=1) if len(values) > 1 else 0.0
    if spread == 0:
        return float(values.sum())
    return float(values.mean() / spread * math.sqrt(len(values)))


def optimise_window(job: WindowJob) -> WindowResult:
    """Choose the best candidate on the job's in-sample part and trade it on its out-of-sample part."""
    cache: dict[tuple[object, ...], object] = {}
    start, split = job.warm_up, job.warm_up + job.in_sample_candles
    best: tuple[float, int, int, float] | None = None  # (score, candidate, trades, expectancy R)
    for number, params in enumerate(job.candidates):
        frame = TrendStrategy(params).analyse(job.candles, cache)
        trades = simulate(frame, params, start=start, stop=split, value_open_trade=True)
        if len(trades) < job.min_trades:
            continue
        rs = [score(params.symbol, t.side, t.entry, t.stop_loss, t.exit_price)[1] for t in trades]
        found = (quality(rs), number, len(trades), float(np.mean(rs)))
        if best is None or found[0] > best[0]:
            best = found
    index = job.candles.index
    result = WindowResult(
        index=job.index,
        in_sample_start=index[start].to_pydatetime(),
        out_of_sample_start=index[split].to_pydatetime(),
        out_of_sample_end=index[-1].to_pydatetime(),
        chosen=None,
        params=None,
        in_sample_trades=0,
        in_sample_expectancy_r=None,
        in_sample_score=None,
        trades=[],
    )
    if best is None:
        return result  # no set traded enough in-sample: this window sits out
    quality_score, number, count, expectancy = best
    params = job.candidates[number]
    frame = TrendStrategy(params).analyse(job.candles, cache)
    traded = [
        closed_trade(frame, params, t) for t in simulate(frame, params, start=split, value_open_trade=True)
    ]
    return result.model_copy(
        update={
            "chosen": number,
            "params": params,
            "in_sample_trades": count,
            "in_sample_expectancy_r": round(expectancy, 3),
            "in_sample_score": round(quality_score, 3),
            "trades": [TradeRecord(**asdict(t)) for t in traded],
        }
    )


class OutOfSample(BaseModel):
    """The stitched out-of-sample figures: the ones that say something about the future."""

    trades: int
    wins: int
    losses: int
    win_rate: float | None
    total_pips: float
    expectancy_pips: float | None
    expectancy_r: float | None
    profit_factor: float | None
    max_drawdown_pips: float
    t_stat: float | None
    edge: bool
    verdict: str


class ParameterStability(BaseModel):
    """How much one searched parameter's chosen value moved from window to window."""

    name: str
    low: float
    high: float
    values: list[float]
    mean: float
    stdev: float
    #: stdev over the width of its bounds: near 0 stable, about 0.29 as scattered as random picks.
    spread: float


class EquityPoint(BaseModel):
    """The stitched out-of-sample equity after one trade."""

    time: datetime
    pips: float


class WalkForwardReport(BaseModel):
    """A walk-forward run: per-window choices, out-of-sample figures, stability and equity."""

    symbol: str
    interval: str
    candles: int
    first_candle: datetime
    last_candle: datetime
    config: WalkForwardConfig
    bounds: dict[str, tuple[float, float]]
    warm_up: int
    windows: list[WindowResult]
    in_sample_expectancy_r: float | None
    out_of_sample: OutOfSample
    stability: list[ParameterStability]
    distinct_choices: int
    equity: list[EquityPoint]

    @property
    def latest_params(self) -> StrategyParams | None:
        """The most recent window's choice: the set an admin would consider adopting."""
        chosen = [w.params for w in self.windows if w.params is not None]
        return chosen[-1] if chosen else None


def stitch(plan: WalkForwardPlan, results: list[WindowResult]) -> WalkForwardReport:
    """The report of a run from its windows' results (in any order)."""
    windows = sorted(results, key=lambda w: w.index)
    trades = [ClosedTrade(**t.model_dump()) for w in windows for t in w.trades]
    figures = performance(trades)
    rs = np.array([t.r_multiple for t in trades], dtype=float)
    t_stat = None
    if len(rs) >= 2 and rs.std(ddof=1) > 0:
        t_stat = round(float(rs.mean() / (rs.std(ddof=1) / math.sqrt(len(rs)))), 2)
    edge = len(rs) >= EDGE_MIN_TRADES and t_stat is not None and t_stat >= EDGE_MIN_T
    chosen = [w for w in windows if w.params is not None]
    in_sample = [w.in_sample_expectancy_r for w in chosen if w.in_sample_expectancy_r is not None]
    base = plan.candidates[0]
    curve = equity_curve(trades)[1:]
    closes = sorted(t.closed_at for t in trades)
    first, last = plan.jobs[0].candles.index[0], plan.jobs[-1].candles.index[-1]
    return WalkForwardReport(
        symbol=base.symbol,
        interval=base.interval,
        candles=plan.candles,
        first_candle=first.to_pydatetime(),
        last_candle=last.to_pydatetime(),
        config=plan.config,
        bounds=plan.space.bounds,
        warm_up=plan.warm_up,
        windows=windows,
        in_sample_expectancy_r=round(float(np.mean(in_sample)), 3) if in_sample else None,
        out_of_sample=OutOfSample(
            **{k: v for k, v in asdict(figures).items() if k in OutOfSample.model_fields},
            t_stat=t_stat,
            edge=edge,
            verdict=_verdict(len(rs), figures.expectancy_r, t_stat, edge),
        ),
        stability=[_stability(plan.space, name, chosen) for name in plan.space.bounds],
        distinct_choices=len({w.chosen for w in chosen}),
        equity=[EquityPoint(time=t, pips=p) for t, p in zip(closes, curve, strict=True)],
    )


def _verdict(count: int, expectancy_r: float | None, t_stat: float | None, edge: bool) -> str:
    if count < EDGE_MIN_TRADES:
        return f"not enough out-of-sample trades to judge ({count}; at least {EDGE_MIN_TRADES} needed)"
    shown = f"{expectancy_r:+.3f} R per trade over {count} out-of-sample trades (t = {t_stat})"
    if edge:
        return f"edge: {shown}"
    return f"no edge: {shown}, indistinguishable from chance"


def _stability(space: SearchSpace, name: str, chosen: list[WindowResult]) -> ParameterStability:
    low, high = space.bounds[name]
    values = [float(getattr(w.params, name)) for w in chosen]
    stdev = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    width = high - low
    return ParameterStability(
        name=name,
        low=low,
        high=high,
        values=values,
        mean=round(float(np.mean(values)), 3) if values else 0.0,
        stdev=round(stdev, 3),
        spread=round(stdev / width, 3) if width > 0 else 0.0,
    )
