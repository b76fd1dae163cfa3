"""The forex signals flows: generate (every 15 min), monitor (every 5 min), daily and weekly recaps.

Each flow reads like its job's table of contents; the decisions live in `promostack.signals`
and the retries in `tasks.signals`. Every step is safe to repeat: a retried or overlapping run
finds the candle already recorded, the signal already closed, the post already claimed.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from pydantic import BaseModel, Field

from promostack.errors import InvalidInput
from promostack.marketdata import gold_market_open
from promostack.runtime import Runtime, current_runtime
from promostack.signals import records
from promostack.signals.equity_chart import equity_png
from promostack.signals.messages import recap_text
from promostack.signals.stats import RecapStats, equity_curve, recap_stats
from tasks.signals import (
    CLOSE_POST_MAX_AGE,
    fetch_candles,
    load_live_params,
    post_close,
    post_recap,
    post_signal,
    record_new_signal,
    settle_open_signals,
)

#: Candles beyond the warm-up, so an open signal's whole life is in view when it is settled.
EXTRA_CANDLES = 200


class Posted(BaseModel):
    """Ids of the signals whose post (`posted`) or closing reply (`replied`) a run sent."""

    posted: list[int] = Field(default_factory=list)
    replied: list[int] = Field(default_factory=list)


class GenerateReport(Posted):
    """What a `generate-signals` run did; `skipped` says why it did nothing."""

    skipped: str | None = None
    source: str | None = None
    candles: int = 0
    closed: list[int] = Field(default_factory=list)
    new_signal: int | None = None


class MonitorReport(Posted):
    """The signals a `monitor-signals` run closed, and the posts it sent."""

    closed: list[int] = Field(default_factory=list)


class ResendReport(BaseModel):
    """The post a `resend-signal-post` run sent again."""

    signal_id: int
    kind: str
    message_id: int | None


class RecapReport(BaseModel):
    """A recap's figures and its channel message (None when nothing was posted)."""

    period: str
    start: datetime
    opened: int
    closed: int
    pips: float
    message_id: int | None = None


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


def _channel_configured(runtime: Runtime) -> bool:
    settings = runtime.settings
    return settings.forex_bot_token is not None and bool(settings.forex_channel_id)


async def _post_due(runtime: Runtime, now: datetime) -> Posted:
    """Send every pending signal post, then every pending closing reply."""
    logger = get_run_logger()
    if not _channel_configured(runtime):
        logger.info("FOREX_BOT_TOKEN / FOREX_CHANNEL_ID not set: signals are recorded but not posted")
        return Posted()
    sessions = runtime.sessions
    since = now - CLOSE_POST_MAX_AGE
    posted = [
        s.id
        for s in records.posts_due(sessions, "open", since)
        if await post_signal(runtime, s.id) is not None
    ]
    replied = [
        s.id
        for s in records.posts_due(sessions, "close", since)
        if await post_close(runtime, s.id) is not None
    ]
    return Posted(posted=posted, replied=replied)


@flow(name="generate-signals")
async def generate_signals(
    symbol: str = "XAU/USD", interval: str = "15min", now: datetime | None = None
) -> GenerateReport:
    """Judge the open signal on the newest candles, raise a new one if the strategy says so, post."""
    runtime = current_runtime()
    now = _now(now)
    logger = get_run_logger()
    # Five minutes back: the run at Friday 21:01 still handles the week's last candle.
    if not gold_market_open(now - timedelta(minutes=5)):
        logger.info("market closed at %s: nothing to do", now.isoformat())
        return GenerateReport(skipped="market closed")
    params = load_live_params(runtime, symbol, interval)  # the set an admin last adopted, else the defaults
    candles, source = await fetch_candles(
        runtime, symbol, interval, params.startup_candle_count + EXTRA_CANDLES, now
    )
    closed = await settle_open_signals(runtime, candles, params)
    new_id = await record_new_signal(runtime, candles, source, params)
    sent = await _post_due(runtime, now)
    summary = GenerateReport(
        source=source, candles=len(candles), closed=closed, new_signal=new_id, **sent.model_dump()
    )
    await create_markdown_artifact(
        key="forex-generate-signals",
        markdown=_run_markdown("Signal generation", summary, candles.index[-1] if len(candles) else None),
        description="Last signal-generation run",
    )
    return summary


@flow(name="monitor-signals")
async def monitor_signals(interval: str = "15min", now: datetime | None = None) -> MonitorReport:
    """Close open signals whose target, stop or expiry the newest candles reached; post the replies."""
    runtime = current_runtime()
    now = _now(now)
    closed: list[int] = []
    for symbol in sorted({s.symbol for s in records.open_signals(runtime.sessions)}):
        params = load_live_params(runtime, symbol, interval)
        count = params.expiry_candles + EXTRA_CANDLES
        candles, _ = await fetch_candles(runtime, symbol, interval, count, now)
        closed += await settle_open_signals(runtime, candles, params)
    sent = await _post_due(runtime, now)
    return MonitorReport(closed=closed, **sent.model_dump())


@flow(name="resend-signal-post")
async def resend_signal_post(signal_id: int, kind: str = "open") -> ResendReport:
    """Send again a post left `uncertain` by a time-out, once an operator saw it is not in the channel.

    `kind` is "open" (the signal's post) or "close" (its closing reply). Never scheduled: it is
    the deliberate, human decision the automatic runs refuse to make.
    """
    runtime = current_runtime()
    if kind not in ("open", "close"):
        raise InvalidInput(f"kind must be 'open' or 'close', not {kind!r}")
    if not records.release_post(runtime.sessions, signal_id, kind):  # type: ignore[arg-type]
        raise InvalidInput(f"signal {signal_id} has no uncertain {kind} post to send again")
    message_id = await (post_signal(runtime, signal_id) if kind == "open" else post_close(runtime, signal_id))
    return ResendReport(signal_id=signal_id, kind=kind, message_id=message_id)


def _run_markdown(title: str, summary: BaseModel, newest: Any) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in summary.model_dump().items())
    return f"# {title}\n\nNewest closed candle: {newest}\n\n| field | value |\n|---|---|\n{rows}\n"


def _recap_markdown(title: str, stats: RecapStats) -> str:
    win_rate = f"{stats.win_rate * 100:.0f}%" if stats.win_rate is not None else "n/a"
    average_r = f"{stats.average_r:+.2f}" if stats.average_r is not None else "n/a"
    best = f"{stats.best_pips:+.1f}" if stats.best_pips is not None else "n/a"
    worst = f"{stats.worst_pips:+.1f}" if stats.worst_pips is not None else "n/a"
    return (
        f"# {title}\n\n| figure | value |\n|---|---|\n"
        f"| signals raised | {stats.opened} |\n| closed | {stats.closed} |\n| wins | {stats.wins} |\n"
        f"| losses | {stats.losses} |\n| win rate | {win_rate} |\n| pips | {stats.pips:+.1f} |\n"
        f"| average R | {average_r} |\n| best (pips) | {best} |\n| worst (pips) | {worst} |\n"
        f"| current streak | {stats.streak_text} |\n"
    )


async def _recap(runtime: Runtime, period: str, start: datetime, end: datetime, title: str) -> RecapReport:
    """Compute, keep as an artifact, and post (once) the recap of [start, end)."""
    sessions = runtime.sessions
    trades = records.closed_trades(sessions, start, end)
    stats = recap_stats(
        trades, records.opened_count(sessions, start, end), records.recent_trades(sessions, end)
    )
    await create_markdown_artifact(
        key=f"forex-{period}-recap", markdown=_recap_markdown(title, stats), description=title
    )
    result = RecapReport(
        period=period, start=start, opened=stats.opened, closed=stats.closed, pips=stats.pips
    )
    if stats.opened == 0 and stats.closed == 0:
        get_run_logger().info("%s: no signal raised or closed, nothing to post", title)
        return result
    if not _channel_configured(runtime):
        get_run_logger().info("%s: forex channel not configured, recap kept as an artifact only", title)
        return result
    replay = runtime.settings.twelve_data_api_key is None
    chart = equity_png(equity_curve(trades), f"{title} · equity in pips")
    result.message_id = await post_recap(runtime, period, start, recap_text(title, stats, replay), chart)
    return result


@flow(name="daily-recap")
async def daily_recap(day: date | None = None, now: datetime | None = None) -> RecapReport:
    """The recap of one UTC day (default: yesterday), posted to the channel once."""
    runtime = current_runtime()
    day = day or (_now(now) - timedelta(days=1)).date()
    start = datetime.combine(day, time(0, 0), tzinfo=timezone.utc)
    title = f"Daily recap · {day:%a %d %b %Y}"
    return await _recap(runtime, "daily", start, start + timedelta(days=1), title)


@flow(name="weekly-recap")
async def weekly_recap(week_start: date | None = None, now: datetime | None = None) -> RecapReport:
    """The recap of one trading week, Sunday 00:00 to Sunday 00:00 UTC (default: the latest begun)."""
    runtime = current_runtime()
    if week_start is None:
        today = _now(now).date()
        week_start = today - timedelta(days=(today.weekday() + 1) % 7)  # the latest Sunday
    start = datetime.combine(week_start, time(0, 0), tzinfo=timezone.utc)
    end = start + timedelta(days=7)
    title = f"Weekly recap · {start:%d %b} – {end - timedelta(days=1):%d %b %Y}"
    return await _recap(runtime, "weekly", start, end, title)
