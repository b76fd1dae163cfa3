"""Posting to the channel: what a send that times out, is refused, or races another run leaves behind."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tasks.forex_channel import ChannelNotConfigured, ForexChannel, PostMaybeSent, PostNotSent
from promostack.config import Settings
from promostack.signals import records
from promostack.signals.strategy import SignalCandidate
from tasks.signals import _send_claimed
from tests.conftest import make_settings
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.ports import free_port

CANDLE = datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc)


class StallingBotApi:
    """A Bot API that answers getMe and then holds every send without answering (a lost reply)."""

    def __init__(self) -> None:
        self.sends = 0
        self.release = threading.Event()
        self.port = free_port()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path.endswith("/getMe"):
                    body = {
                        "ok": True,
                        "result": {"id": 1, "is_bot": True, "first_name": "Forex", "username": "forex_bot"},
                    }
                    data = json.dumps(body).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                outer.sends += 1
                outer.release.wait()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        if self.release.is_set():
            return
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stalling() -> Iterator[StallingBotApi]:
    api = StallingBotApi()
    yield api
    api.stop()


def channel_settings(tmp_path: Path, api_base: str) -> Settings:
    return make_settings(
        tmp_path, forex_bot_token="123:forex", forex_channel_id="-100777", telegram_api_base=api_base
    )


def new_signal(sessions: sessionmaker[Session]) -> int:
    candidate = SignalCandidate(
        "XAU/USD", "15min", CANDLE, "BUY", 2000.0, 2004.0, 1997.0, 2.0, {"rules": ["test"]}
    )
    row = records.record_signal(sessions, candidate, "live")
    assert row is not None
    return row.id


async def send_open_post(
    sessions: sessionmaker[Session], channel: ForexChannel, signal_id: int
) -> int | None:
    return await _send_claimed(
        lambda: records.claim_post(sessions, signal_id, "open"),
        lambda state, mid: records.settle_post(sessions, signal_id, "open", state, mid),
        lambda: channel.send_text("BUY XAU/USD"),
    )


async def test_a_send_that_times_out_is_marked_uncertain_and_never_sent_again(
    tmp_path: Path, sessions: sessionmaker[Session], stalling: StallingBotApi
) -> None:
    signal_id = new_signal(sessions)
    async with ForexChannel(
        channel_settings(tmp_path, f"http://127.0.0.1:{stalling.port}"), read_timeout_s=0.5
    ) as channel:
        with pytest.raises(PostMaybeSent):
            await send_open_post(sessions, channel, signal_id)
        assert await send_open_post(sessions, channel, signal_id) is None  # a retry sends nothing
    assert stalling.sends == 1
    signal = records.get_signal(sessions, signal_id)
    assert signal is not None and (signal.post_state, signal.message_id) == ("uncertain", None)
    assert records.posts_due(sessions, "open", CANDLE - timedelta(days=1)) == []


async def test_an_unreachable_telegram_is_definitely_not_sent_so_the_post_stays_due(
    tmp_path: Path, sessions: sessionmaker[Session], stalling: StallingBotApi
) -> None:
    signal_id = new_signal(sessions)
    async with ForexChannel(channel_settings(tmp_path, f"http://127.0.0.1:{stalling.port}")) as channel:
        stalling.stop()  # Telegram goes away after the handshake: connections are refused
        with pytest.raises(PostNotSent):
            await send_open_post(sessions, channel, signal_id)
    [due] = records.posts_due(sessions, "open", CANDLE - timedelta(days=1))
    assert due.id == signal_id and due.post_state == "pending"
    assert stalling.sends == 0


async def test_two_runs_racing_on_one_signal_send_it_once(
    tmp_path: Path, sessions: sessionmaker[Session], bot_api: FakeBotApi
) -> None:
    import asyncio

    signal_id = new_signal(sessions)
    async with ForexChannel(channel_settings(tmp_path, bot_api.api_base)) as channel:
        results = await asyncio.gather(*(send_open_post(sessions, channel, signal_id) for _ in range(4)))
    assert len([r for r in results if r is not None]) == 1
    assert len(bot_api.calls_of("sendMessage")) == 1
    signal = records.get_signal(sessions, signal_id)
    assert signal is not None and signal.message_id == next(r for r in results if r is not None)


def test_a_second_signal_for_the_same_candle_or_while_one_is_open_is_already_done(
    sessions: sessionmaker[Session],
) -> None:
    new_signal(sessions)
    same_candle = SignalCandidate("XAU/USD", "15min", CANDLE, "SELL", 2000.0, 1996.0, 2003.0, 2.0, {})
    later_candle = SignalCandidate(
        "XAU/USD", "15min", CANDLE + timedelta(hours=1), "BUY", 2001.0, 2005.0, 1998.0, 2.0, {}
    )
    assert records.record_signal(sessions, same_candle, "live") is None
    assert records.record_signal(sessions, later_candle, "live") is None
    assert len(records.open_signals(sessions)) == 1


def test_posting_without_a_forex_bot_configured_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(ChannelNotConfigured, match="FOREX_BOT_TOKEN and FOREX_CHANNEL_ID"):
        ForexChannel(make_settings(tmp_path))
