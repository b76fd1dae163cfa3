"""The forex flows end to end: fake Twelve Data -> strategy -> database -> fake Bot API channel.

Each test runs on SQLite and on Postgres, under the Prefect test harness.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from flows.signals import EXTRA_CANDLES, daily_recap, generate_signals, monitor_signals, weekly_recap
from promostack.db.models import Signal, SignalRecap
from promostack.marketdata import TwelveDataRejected
from promostack.marketdata.synthetic import synthetic_candles, write_candles_csv
from promostack.runtime import Runtime, build_runtime, install_runtime
from promostack.signals.adoptions import adopt
from promostack.signals.params import StrategyParams
from promostack.signals.records import as_utc
from promostack.signals.strategy import TrendStrategy
from tests.conftest import make_settings
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.chat_llm import FakeChatLLM
from tests.fakes.twelve_data import FakeTwelveData

pytestmark = pytest.mark.prefect
CHANNEL = -1001234567
PARAMS = StrategyParams()
WINDOW = PARAMS.startup_candle_count + EXTRA_CANDLES
HISTORY = synthetic_candles(6000, seed=11)


def _first_live_signal_row() -> int:
    """A row whose candle raises a signal when the strategy sees exactly the window the flow fetches."""
    analysed = TrendStrategy().analyse(HISTORY)
    strategy = TrendStrategy()
    for row in np.flatnonzero(analysed["enter_long"] | analysed["enter_short"]):
        if row >= WINDOW and strategy.latest_candidate(HISTORY.iloc[row - WINDOW + 1 : row + 1]) is not None:
            return int(row)
    raise AssertionError("the synthetic history has no signal for the flow's window")


ROW = _first_live_signal_row()
SIGNAL_CANDLE = HISTORY.index[ROW]
# A minute after the next candle opened: the signal candle is the newest closed one.
NOW = HISTORY.index[ROW + 1].to_pydatetime() + timedelta(minutes=1)


@dataclass
class World:
    runtime: Runtime
    twelve_data: FakeTwelveData
    llm: FakeChatLLM
    bot_api: FakeBotApi

    def signals(self) -> list[Signal]:
        with self.runtime.sessions() as session:
            return list(session.scalars(select(Signal).order_by(Signal.id)))


@pytest.fixture
def world(db_url: str, tmp_path: Path, bot_api: FakeBotApi, prefect_harness: None) -> Iterator[World]:
    key = f"td-{uuid.uuid4().hex}"  # its own key: the process-wide 8-per-minute limiter is per key
    with FakeTwelveData(api_key=key) as twelve_data, FakeChatLLM(reply="Gold delivered, team!") as llm:
        twelve_data.set_candles("XAU/USD", "15min", HISTORY.iloc[: ROW + 2])
        settings = make_settings(
            tmp_path,
            database_url=db_url,
            forex_bot_token="123456:forex-token",
            forex_channel_id=str(CHANNEL),
            telegram_api_base=bot_api.api_base,
            twelve_data_api_key=key,
            twelve_data_api_base=twelve_data.base_url,
            llm_api_base=llm.base_url,
            llm_api_key="llm-key",
        )
        runtime = build_runtime(settings)
        with install_runtime(runtime):
            yield World(runtime, twelve_data, llm, bot_api)
        runtime.close()


def winning_candle(signal: Signal, at: pd.Timestamp) -> pd.DataFrame:
    """One candle at `at` that reaches the signal's target and stays clear of its stop."""
    if signal.side == "BUY":
        row = (signal.entry, signal.take_profit + 0.5, signal.entry - 0.1, signal.take_profit + 0.2)
    else:
        row = (signal.entry, signal.entry + 0.1, signal.take_profit - 0.5, signal.take_profit - 0.2)
    return pd.DataFrame(
        [row], columns=["open", "high", "low", "close"], index=pd.DatetimeIndex([at], name="time")
    )


def serve_win(world: World, signal: Signal) -> datetime:
    """Serve history up to the signal, a winning candle, and a forming one; the `now` to use."""
    candles = pd.concat(
        [
            HISTORY.iloc[: ROW + 1],
            winning_candle(signal, HISTORY.index[ROW + 1]),
            HISTORY.iloc[ROW + 2 : ROW + 3],
        ]
    )
    world.twelve_data.set_candles("XAU/USD", "15min", candles)
    return HISTORY.index[ROW + 2].to_pydatetime() + timedelta(minutes=1)


async def test_generate_posts_the_signal_with_levels_and_reasons(world: World) -> None:
    summary = await generate_signals(now=NOW)
    [signal] = world.signals()
    assert summary.new_signal == signal.id and as_utc(signal.candle_time) == SIGNAL_CANDLE.to_pydatetime()
    [post] = world.bot_api.wait_for("sendMessage")
    assert post.params["chat_id"] == CHANNEL
    text = post.params["text"]
    assert f"{signal.side} XAU/USD" in text and f"{signal.entry:.2f}" in text
    assert f"{signal.take_profit:.2f}" in text and f"{signal.stop_loss:.2f}" in text and "ADX" in text
    assert "REPLAY" not in text
    assert signal.post_state == "posted" and signal.message_id is not None


async def test_generate_trades_with_the_parameter_set_an_admin_adopted(world: World) -> None:
    # An ADX floor no trend reaches: with it adopted, the candle that raised a signal raises none.
    adopt(world.runtime.sessions, {**PARAMS.model_dump(), "adx_min": 100.0}, adopted_by="admin")
    summary = await generate_signals(now=NOW)
    assert summary.new_signal is None and world.signals() == []


async def test_running_generate_twice_on_the_same_candles_gives_one_signal_and_one_post(world: World) -> None:
    await generate_signals(now=NOW)
    second = await generate_signals(now=NOW)
    assert second.new_signal is None
    assert len(world.signals()) == 1
    assert len(world.bot_api.calls_of("sendMessage")) == 1


async def test_a_telegram_429_is_waited_out_and_the_signal_still_posted_once(world: World) -> None:
    world.bot_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    await generate_signals(now=NOW)
    await generate_signals(now=NOW)  # a re-run after the retry must not post again
    assert len(world.bot_api.calls_of("sendMessage", ok_only=False)) == 2  # the refused one and the real one
    assert len(world.bot_api.calls_of("sendMessage")) == 1
    assert world.signals()[0].post_state == "posted"


async def test_a_telegram_server_error_is_retried_and_posts_once(world: World) -> None:
    world.bot_api.fail_next("sendMessage", 500, "Internal Server Error")
    await generate_signals(now=NOW)
    assert len(world.bot_api.calls_of("sendMessage", ok_only=False)) == 2
    assert len(world.bot_api.calls_of("sendMessage")) == 1


async def test_a_rejected_post_is_not_retried_and_stays_pending_for_a_fixed_configuration(
    world: World,
) -> None:
    world.bot_api.fail_next("sendMessage", 400, "Bad Request: chat not found")
    with pytest.raises(Exception, match="(?i)chat not found"):
        await generate_signals(now=NOW)
    [signal] = world.signals()
    assert (signal.post_state, signal.message_id) == ("pending", None)
    assert len(world.bot_api.calls_of("sendMessage", ok_only=False)) == 1
    await monitor_signals(now=NOW)  # the next run, once the channel is right, posts it
    assert len(world.bot_api.calls_of("sendMessage")) == 1 and world.signals()[0].post_state == "posted"


async def test_monitor_closes_a_win_and_replies_in_the_thread_with_a_celebration_once(world: World) -> None:
    await generate_signals(now=NOW)
    [signal] = world.signals()
    later = serve_win(world, signal)
    first = await monitor_signals(now=later)
    again = await monitor_signals(now=later)
    [closed] = world.signals()
    assert first.closed == [signal.id] and again.closed == []
    assert closed.status == "take_profit" and closed.exit_price == signal.take_profit and closed.pips > 0
    [reply] = world.bot_api.wait_for("sendMessage", count=2)[1:]
    assert reply.params["reply_parameters"]["message_id"] == signal.message_id
    assert "Take profit hit" in reply.params["text"] and "Gold delivered, team!" in reply.params["text"]
    assert len(world.bot_api.calls_of("sendMessage")) == 2
    assert world.llm.requests[0]["authorization"] == "Bearer llm-key"


async def test_a_failing_chat_model_falls_back_to_a_template_and_the_reply_still_goes_out(
    world: World,
) -> None:
    await generate_signals(now=NOW)
    [signal] = world.signals()
    world.llm.fail_next()
    await monitor_signals(now=serve_win(world, signal))
    reply = world.bot_api.calls_of("sendMessage")[1]
    assert "Take profit hit" in reply.params["text"] and "Gold delivered" not in reply.params["text"]
    assert "pips" in reply.params["text"].split("\n\n")[-1]  # the template line names the pips


async def test_generate_skips_cleanly_while_the_market_is_closed(world: World) -> None:
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    assert (await generate_signals(now=saturday)).skipped == "market closed"
    assert world.twelve_data.requests == [] and world.signals() == []


async def test_a_refused_symbol_fails_the_run_without_retrying(world: World) -> None:
    with pytest.raises(TwelveDataRejected, match="XAG/USD"):
        await generate_signals(symbol="XAG/USD", now=NOW)
    assert len(world.twelve_data.requests) == 1


async def test_a_twelve_data_rate_limit_is_retried_and_the_signal_recorded(world: World) -> None:
    world.twelve_data.fail_next(429, "You have run out of API credits for the current minute.")
    summary = await generate_signals(now=NOW)
    assert summary.new_signal is not None and len(world.twelve_data.requests) == 2


async def test_daily_and_weekly_recaps_post_one_chart_each_with_the_figures(world: World) -> None:
    await generate_signals(now=NOW)
    [signal] = world.signals()
    later = serve_win(world, signal)
    await monitor_signals(now=later)
    [closed] = world.signals()
    day = as_utc(closed.closed_at).date()
    daily = await daily_recap(day=day)
    await daily_recap(day=day)  # a retried run posts nothing more
    week_start = day - timedelta(days=(day.weekday() + 1) % 7)
    await weekly_recap(week_start=week_start)
    photos = world.bot_api.calls_of("sendPhoto")
    assert len(photos) == 2 and daily.message_id is not None
    assert all(p.files["photo"].startswith(b"\x89PNG") for p in photos)
    caption = photos[0].params["caption"]
    assert "Daily recap" in caption and "Wins / losses: 1 / 0" in caption and "Win rate: 100%" in caption
    assert f"{closed.pips:+.1f}" in caption and "Current streak: 1 win" in caption
    with world.runtime.sessions() as session:
        assert sorted(r.period for r in session.scalars(select(SignalRecap))) == ["daily", "weekly"]


async def test_replayed_candles_are_labelled_replay_in_the_post(world: World, tmp_path: Path) -> None:
    path = tmp_path / "replay.csv"
    write_candles_csv(HISTORY, str(path))
    settings = world.runtime.settings.model_copy(
        update={"twelve_data_api_key": None, "market_replay_csv": path}
    )
    replay_runtime = Runtime(settings, world.runtime.engine, world.runtime.sessions, world.runtime.store)
    # NOW falls inside the file's own weeks, so the replay shows exactly the candles live did.
    with install_runtime(replay_runtime):
        summary = await generate_signals(now=NOW)
    assert summary.source == "replay"
    [signal] = world.signals()
    assert signal.source == "replay"
    text = world.bot_api.wait_for("sendMessage")[0].params["text"]
    assert "REPLAY" in text.splitlines()[0]
    assert world.twelve_data.requests == []


async def test_an_uncertain_post_waits_for_an_operator_and_resend_sends_it_once(world: World) -> None:
    from flows.signals import resend_signal_post
    from promostack.errors import InvalidInput
    from promostack.signals import records

    await generate_signals(now=NOW)
    [signal] = world.signals()
    # As a time-out would leave it: claimed, then settled as uncertain (the post count stays 1).
    with world.runtime.sessions() as session:
        session.get(Signal, signal.id).post_state, session.get(Signal, signal.id).message_id = (
            "uncertain",
            None,
        )
        session.commit()
    await monitor_signals(now=NOW)
    assert len(world.bot_api.calls_of("sendMessage")) == 1  # automatic runs never resend it
    result = await resend_signal_post(signal.id, "open")
    assert result.message_id is not None and len(world.bot_api.calls_of("sendMessage")) == 2
    assert records.get_signal(world.runtime.sessions, signal.id).post_state == "posted"
    with pytest.raises(InvalidInput, match="no uncertain open post"):
        await resend_signal_post(signal.id, "open")


async def test_each_twelve_data_request_takes_a_slot_of_the_limit_every_worker_shares(world: World) -> None:
    from prefect import get_client

    from tasks.quotas import TWELVE_DATA
    from tests.integration.prefect_limits import global_limit

    # Slots that decay only after minutes: what the runs took is still there to read.
    async with global_limit(TWELVE_DATA, 8, slot_decay_per_second=0.001), get_client() as client:
        world.twelve_data.fail_next(429, "You have run out of API credits for the current minute.")
        await generate_signals(now=NOW)  # two requests: the 429 and its retry
        taken = (await client.read_global_concurrency_limit_by_name(TWELVE_DATA)).active_slots
    assert len(world.twelve_data.requests) == 2 and taken == 2
