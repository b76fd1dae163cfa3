"""Prefect tasks of the forex signals: fetch candles, settle and record signals, post to the channel.

Retries live here and only here, and only for `DependencyError`s (Twelve Data down or rate
limited, Telegram flood control or 5xx, the database unreachable). Bad input, a rejected post
and a post that may already be in the channel (`PostMaybeSent`) are never retried.

Each task is handed the flow's `Runtime` as its first parameter. Nothing is cached or persisted
(`NO_CACHE`, no result storage), so Prefect never hashes or serialises it; a task run records
the parameter only by name.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError
from sqlalchemy.exc import OperationalError

from promostack.errors import DependencyError
from promostack.marketdata import build_candle_source
from promostack.runtime import Runtime
from promostack.signals import adoptions, records
from promostack.signals.celebrations import CelebrationWriter, Win
from promostack.signals.lifecycle import resolve
from promostack.signals.messages import close_text, signal_text
from promostack.signals.params import StrategyParams
from promostack.signals.strategy import TrendStrategy
from tasks.forex_channel import ChannelRejected, ForexChannel, PostNotSent
from tasks.quotas import twelve_data_slot
from tasks.retries import retry_on_dependency_error

#: A closing reply older than this is not sent late (e.g. when the bot was only just configured).
CLOSE_POST_MAX_AGE = timedelta(hours=24)

_NO_CACHE = {"cache_policy": NO_CACHE, "persist_result": False}
#: Tasks whose only dependency is the database: a lost connection is retried twice.
_DATABASE_RETRIES = {
    "retries": 2,
    "retry_delay_seconds": [1, 5],
    "retry_condition_fn": retry_on_dependency_error,
    **_NO_CACHE,
}


def _logger() -> logging.Logger | logging.LoggerAdapter:  # type: ignore[type-arg]
    try:
        return get_run_logger()
    except MissingContextError:  # outside a run (a task's function called directly in a script)
        return logging.getLogger(__name__)


@task(
    name="fetch-candles",
    retries=3,
    retry_delay_seconds=[2, 15, 60],
    retry_condition_fn=retry_on_dependency_error,
    **_NO_CACHE,
)
async def fetch_candles(
    runtime: Runtime, symbol: str, interval: str, count: int, now: datetime
) -> tuple[pd.DataFrame, str]:
    """(the newest `count` closed candles, their source "live" or "replay")."""
    source = build_candle_source(runtime.settings, symbol, interval)
    if source.source == "live":
        await twelve_data_slot()  # one request: the quota every worker shares (tasks/quotas.py)
    try:
        candles = await asyncio.to_thread(source.closed_candles, symbol, interval, count, now)
    finally:
        close = getattr(source, "close", None)  # the HTTP client has a pool to release; the replay has none
        if close is not None:
            close()
    _logger().info(
        "%d closed %s %s candles from %s, newest %s",
        len(candles),
        symbol,
        interval,
        source.source,
        candles.index[-1] if len(candles) else "none",
    )
    return candles, source.source


def database_errors_are_dependency_errors(fn):  # type: ignore[no-untyped-def]
    """Turn a lost database connection into a `DependencyError` so the task retries it."""

    def translated(exc: OperationalError) -> DependencyError:
        return DependencyError(f"database unavailable: {str(exc).splitlines()[0]}")

    if not inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except OperationalError as exc:
                raise translated(exc) from exc

        return sync_wrapper

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except OperationalError as exc:
            raise translated(exc) from exc

    return wrapper


@task(name="load-live-params", **_DATABASE_RETRIES)
@database_errors_are_dependency_errors
def load_live_params(runtime: Runtime, symbol: str, interval: str) -> StrategyParams:
    """The parameters an admin last adopted for `symbol`/`interval` (the defaults if none)."""
    return adoptions.live_params(runtime.sessions, symbol, interval)


@task(name="settle-open-signals", **_DATABASE_RETRIES)
@database_errors_are_dependency_errors
async def settle_open_signals(runtime: Runtime, candles: pd.DataFrame, params: StrategyParams) -> list[int]:
    """Ids of the open signals of `params.symbol` these candles closed (each closed exactly once)."""
    sessions = runtime.sessions
    closed: list[int] = []
    for signal in records.open_signals(sessions, params.symbol):
        outcome = resolve(
            signal.symbol,
            signal.interval,
            signal.side,
            signal.candle_time,
            signal.entry,
            signal.take_profit,
            signal.stop_loss,
            candles,
            params.expiry_candles,
        )
        if outcome is not None and await asyncio.to_thread(
            records.close_signal, sessions, signal.id, outcome
        ):
            _logger().info("signal %d closed: %s, %+.1f pips", signal.id, outcome.status, outcome.pips)
            closed.append(signal.id)
    return closed


@task(name="record-new-signal", **_DATABASE_RETRIES)
@database_errors_are_dependency_errors
async def record_new_signal(
    runtime: Runtime, candles: pd.DataFrame, source: str, params: StrategyParams
) -> int | None:
    """The id of the signal raised on the newest candle, or None (no signal, or already recorded)."""
    candidate = TrendStrategy(params).latest_candidate(candles)
    if candidate is None:
        return None
    row = await asyncio.to_thread(records.record_signal, runtime.sessions, candidate, source)
    if row is None:
        _logger().info(
            "signal of the %s candle already recorded, or one is open: nothing new", candidate.candle_time
        )
        return None
    _logger().info("new %s %s signal %d at %s", row.side, row.symbol, row.id, row.entry)
    return row.id


async def _send_claimed(claim: Any, settle: Any, send: Any) -> int | None:
    """Run one claimed send and record its outcome; the message id, or None when not ours to send."""
    if not await asyncio.to_thread(claim):
        return None
    try:
        message_id = await send()
    except (PostNotSent, ChannelRejected):
        # Definitely not sent (an error answer, a refused connection, a rejection): free it again.
        await asyncio.to_thread(settle, records.PENDING, None)
        raise
    except BaseException:
        # A time-out, a cancelled run, anything unforeseen: it may have arrived, so never resend.
        await asyncio.to_thread(settle, records.UNCERTAIN, None)
        raise
    await asyncio.to_thread(settle, records.POSTED, message_id)
    return message_id


@task(
    name="post-signal",
    retries=3,
    retry_delay_seconds=[1, 10, 60],
    retry_condition_fn=retry_on_dependency_error,
    **_NO_CACHE,
)
async def post_signal(runtime: Runtime, signal_id: int) -> int | None:
    """The channel message id of the signal's post, or None when it was not this run's to send."""
    signal = records.get_signal(runtime.sessions, signal_id)
    if signal is None:
        return None
    text = signal_text(signal)
    async with ForexChannel(runtime.settings) as channel:
        return await _send_claimed(
            lambda: records.claim_post(runtime.sessions, signal_id, "open"),
            lambda state, mid: records.settle_post(runtime.sessions, signal_id, "open", state, mid),
            lambda: channel.send_text(text),
        )


@task(
    name="post-close",
    retries=3,
    retry_delay_seconds=[1, 10, 60],
    retry_condition_fn=retry_on_dependency_error,
    **_NO_CACHE,
)
async def post_close(runtime: Runtime, signal_id: int) -> int | None:
    """The message id of the reply saying how the signal ended, or None when not this run's to send."""
    signal = records.get_signal(runtime.sessions, signal_id)
    if signal is None or signal.pips is None:
        return None
    celebration = None
    if signal.pips > 0:
        win = Win(signal.id, signal.symbol, signal.side, signal.pips, signal.r_multiple or 0.0)
        celebration = await CelebrationWriter.from_settings(runtime.settings).celebrate(win)
    text = close_text(signal, celebration)
    async with ForexChannel(runtime.settings) as channel:
        return await _send_claimed(
            lambda: records.claim_post(runtime.sessions, signal_id, "close"),
            lambda state, mid: records.settle_post(runtime.sessions, signal_id, "close", state, mid),
            lambda: channel.send_text(text, reply_to=signal.message_id),
        )


@task(
    name="post-recap",
    retries=3,
    retry_delay_seconds=[1, 10, 60],
    retry_condition_fn=retry_on_dependency_error,
    **_NO_CACHE,
)
async def post_recap(
    runtime: Runtime, period: str, period_start: datetime, caption: str, chart_png: bytes
) -> int | None:
    """The message id of the recap photo, or None when this period's recap was already sent."""
    recap_id: list[int] = []

    def claim() -> bool:
        found = records.claim_recap(runtime.sessions, period, period_start)
        recap_id.extend([found] if found is not None else [])
        return found is not None

    async with ForexChannel(runtime.settings) as channel:
        return await _send_claimed(
            claim,
            lambda state, mid: records.settle_recap(runtime.sessions, recap_id[0], state, mid),
            lambda: channel.send_photo(chart_png, caption),
        )


__all__ = [
    "fetch_candles",
    "load_live_params",
    "post_close",
    "post_recap",
    "post_signal",
    "record_new_signal",
    "settle_open_signals",
]
