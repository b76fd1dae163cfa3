"""The forex bot's commands, answered through python-telegram-bot against the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest
from telegram import Update
from telegram.ext import Application

from bots.forex import register_handlers
from promostack.runtime import Runtime
from promostack.signals import records
from promostack.signals.lifecycle import Outcome
from promostack.signals.strategy import SignalCandidate
from tests.fakes.bot_api import FakeBotApi, message_update

NOW = datetime.now(timezone.utc)


@pytest.fixture
async def application(bot_api: FakeBotApi, runtime: Runtime) -> AsyncIterator[Application]:
    app = Application.builder().token("555:forex").base_url(bot_api.base_url).build()
    app.bot_data["runtime"] = runtime  # as build_application hands it in
    register_handlers(app)
    async with app:
        yield app


async def send(app: Application, bot_api: FakeBotApi, text: str) -> str:
    before = len(bot_api.calls_of("sendMessage"))
    await app.process_update(Update.de_json(message_update(text), app.bot))
    calls = bot_api.wait_for("sendMessage", count=before + 1)
    return calls[-1].params["text"]


def signal(hours_ago: float, side: str = "BUY") -> SignalCandidate:
    return SignalCandidate(
        "XAU/USD", "15min", NOW - timedelta(hours=hours_ago), side, 2000.0, 2004.0, 1997.0, 2.0, {}
    )


async def test_open_lists_the_open_signal_or_says_there_is_none(
    application: Application, bot_api: FakeBotApi, runtime: Runtime
) -> None:
    assert await send(application, bot_api, "/open") == "No signal is open right now."
    records.record_signal(runtime.sessions, signal(1), "live")
    assert await send(application, bot_api, "/open") == "BUY XAU/USD @ 2000.0 · TP 2004.0 · SL 1997.0"


async def test_stats_recaps_the_last_seven_days(
    application: Application, bot_api: FakeBotApi, runtime: Runtime
) -> None:
    for hours_ago, pips in ((30, 40.0), (20, -30.0), (10, 40.0)):
        row = records.record_signal(runtime.sessions, signal(hours_ago), "live")
        assert row is not None
        outcome = Outcome(
            "take_profit" if pips > 0 else "stop_loss",
            2004.0 if pips > 0 else 1997.0,
            NOW - timedelta(hours=hours_ago - 2),
            pips,
            pips / 30,
            8,
        )
        records.close_signal(runtime.sessions, row.id, outcome)
    text = await send(application, bot_api, "/stats")
    assert "Signals: 3 new, 3 closed" in text and "Wins / losses: 2 / 1" in text
    assert "Pips: <b>+50.0</b>" in text and "Current streak: 1 win" in text
    assert "REPLAY" in text.splitlines()[0]  # no Twelve Data key in these settings: replayed data
