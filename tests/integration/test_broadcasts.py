"""Broadcasts end to end on SQLite and Postgres: the real python-telegram-bot client talks to the
fake Bot API; every row state, every kind of error, crash-resume, pause, cancel, retract."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from flows.broadcast import BroadcastReport, compose_broadcast, run_broadcast, send_test
from promostack import audience
from promostack.broadcasts import control, recipients, states
from promostack.broadcasts.compose import Draft
from promostack.db.broadcasts import BroadcastRecipient
from promostack.db.engine import session_scope
from promostack.db.models import utcnow
from promostack.errors import InvalidInput
from promostack.runtime import Runtime, build_runtime, install_runtime
from tasks.telegram_send import Content, TelegramSender, read_error
from tests.conftest import make_settings
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.ports import free_port

TOKEN = "4321:broadcast-token"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00"
    b"\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def world(db_url: str, tmp_path: Path, bot_api: FakeBotApi) -> Iterator[Runtime]:
    """A runtime whose promo bot talks to the fake Bot API, at a quick test pace."""
    settings = make_settings(
        tmp_path, database_url=db_url, telegram_bot_token=TOKEN, telegram_api_base=bot_api.api_base,
        broadcast_rate_per_s=200, broadcast_in_flight=4, broadcast_read_timeout_s=1.0, admin_telegram_ids="900",
    )
    rt = build_runtime(settings)
    with install_runtime(rt):
        yield rt
    rt.close()


def _users(rt: Runtime, ids: range, **kwargs: object) -> None:
    for chat in ids:
        audience.register(rt.sessions, "promo", audience.Person(chat, f"u{chat}", "U", "en"), **kwargs)  # type: ignore[arg-type]


def _new(rt: Runtime, text: str = "<b>Sale</b> today", **fields: object) -> int:
    broadcast_id = asyncio.run(compose_broadcast(rt, Draft(bot="promo", text=text, **fields), created_by="admin"))  # type: ignore[arg-type]
    control.apply(rt.sessions, broadcast_id, "start")
    return broadcast_id


def _sends_per_chat(api: FakeBotApi, method: str = "sendMessage") -> Counter[int]:
    return Counter(int(call.params["chat_id"]) for call in api.calls_of(method))


def _rows(rt: Runtime, broadcast_id: int) -> dict[int, BroadcastRecipient]:
    with session_scope(rt.sessions) as session:
        rows = session.scalars(select(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == broadcast_id))
        return {row.chat_id: row for row in rows}


def test_a_broadcast_reaches_each_active_user_once_and_keeps_message_ids(world: Runtime, bot_api: FakeBotApi) -> None:
    _users(world, range(1, 21))
    audience.mark_blocked(world.sessions, "promo", 20)
    broadcast_id = _new(world, buttons=[{"text": "Shop", "url": "https://example.com/shop"}])

    report = asyncio.run(run_broadcast(world, broadcast_id))

    assert _sends_per_chat(bot_api) == Counter({chat: 1 for chat in range(1, 20)})
    rows = _rows(world, broadcast_id)
    assert {row.state for row in rows.values()} == {states.SENT} and len(rows) == 19
    assert all(row.message_id for row in rows.values())
    first = bot_api.calls_of("sendMessage")[0]
    assert first.params["parse_mode"] == "HTML"
    assert first.params["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://example.com/shop"
    assert (report.status, report.sent, report.pending) == (states.DONE, 19, 0)


def test_blocked_and_deactivated_users_are_marked_blocked_and_left_out_of_the_next_broadcast(
    world: Runtime, bot_api: FakeBotApi
) -> None:
    _users(world, range(1, 9))
    bot_api.block_chat(3)
    bot_api.deactivate_chat(4)
    first = _new(world)
    report = asyncio.run(run_broadcast(world, first))
    assert report.blocked == 2 and report.sent == 6
    assert {c: r.state for c, r in _rows(world, first).items() if c in (3, 4)} == {3: states.BLOCKED, 4: states.BLOCKED}
    assert 3 not in audience.active_users(world.sessions, "promo") and 4 not in audience.active_users(world.sessions, "promo")

    second = _new(world, text="again")
    asyncio.run(run_broadcast(world, second))
    assert set(_rows(world, second)) == {1, 2, 5, 6, 7, 8}


def test_other_refusals_fail_the_row_with_the_reason_and_leave_the_user_active(world: Runtime, bot_api: FakeBotApi) -> None:
    _users(world, range(1, 4))
    bot_api.forget_chat(2)
    broadcast_id = _new(world)
    asyncio.run(run_broadcast(world, broadcast_id))
    row = _rows(world, broadcast_id)[2]
    assert row.state == states.FAILED and "chat not found" in (row.error or "").lower()
    assert 2 in audience.active_users(world.sessions, "promo")


def test_a_403_that_is_not_a_block_fails_the_row_without_blocking_the_user(world: Runtime, bot_api: FakeBotApi) -> None:
    _users(world, range(1, 2))
    bot_api.fail_next("sendMessage", 403, "Forbidden: bot can't initiate conversation with a user")
    broadcast_id = _new(world)
    asyncio.run(run_broadcast(world, broadcast_id))
    row = _rows(world, broadcast_id)[1]
    assert row.state == states.FAILED and "initiate conversation" in (row.error or "").lower()
    assert audience.active_users(world.sessions, "promo") == [1]


def test_server_errors_are_retried_and_the_message_arrives_once(world: Runtime, bot_api: FakeBotApi) -> None:
    _users(world, range(1, 2))
    bot_api.fail_next("sendMessage", 502, "Bad Gateway", times=2)
    broadcast_id = _new(world)
    asyncio.run(run_broadcast(world, broadcast_id))
    assert _rows(world, broadcast_id)[1].state == states.SENT
    assert _sends_per_chat(bot_api) == Counter({1: 1})
    assert len(bot_api.calls_of("sendMessage", ok_only=False)) == 3


def test_a_refused_connection_reads_as_safe_to_retry() -> None:
    async def attempt() -> str:
        sender = TelegramSender(TOKEN, f"http://127.0.0.1:{free_port()}")
        try:
            await sender.deliver(1, Content("hi", []))
        except Exception as exc:  # noqa: BLE001 - the error is what is under test
            return read_error(exc).kind  # type: ignore[arg-type]
        finally:
            await sender.bot.shutdown()
        return "sent"

    assert asyncio.run(attempt()) == "retry"


def test_a_time_out_after_the_request_left_is_unknown_never_resent_and_requeueable(
    world: Runtime, bot_api: FakeBotApi
) -> None:
    _users(world, range(1, 4))
    bot_api.stall_next("sendMessage", 2.0)  # the first send arrives, its answer comes too late
    broadcast_id = _new(world)
    report = asyncio.run(run_broadcast(world, broadcast_id))
    assert report.unknown == 1 and report.sent == 2
    [unknown_chat] = [c for c, r in _rows(world, broadcast_id).items() if r.state == states.UNKNOWN]

    control.apply(world.sessions, broadcast_id, "resume")
    asyncio.run(run_broadcast(world, broadcast_id))  # a re-run leaves unknown rows alone
    assert _sends_per_chat(bot_api)[unknown_chat] == 1

    assert recipients.requeue(world.sessions, broadcast_id) == 1
    control.apply(world.sessions, broadcast_id, "resume")
    asyncio.run(run_broadcast(world, broadcast_id))
    assert _rows(world, broadcast_id)[unknown_chat].state == states.SENT  # the admin chose to send again


def test_a_429_holds_the_whole_run_for_retry_after_and_sends_that_row_once(world: Runtime, bot_api: FakeBotApi) -> None:
    _users(world, range(1, 6))
    bot_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    broadcast_id = _new(world)
    started = time.monotonic()
    report = asyncio.run(run_broadcast(world, broadcast_id))
    assert time.monotonic() - started >= 1.0
    assert report.sent == 5 and report.flood_waits == 1
    assert _sends_per_chat(bot_api) == Counter({chat: 1 for chat in range(1, 6)})


def test_rows_caught_sending_by_a_crash_become_unknown_and_the_rest_is_finished(world: Runtime, bot_api: FakeBotApi) -> None:
    _users(world, range(1, 11))
    broadcast_id = _new(world)
    # A run that died mid-flight: it held the lease, took the snapshot and had 3 rows in flight.
    long_ago = utcnow() - timedelta(minutes=5)
    assert control.take_lease(world.sessions, broadcast_id, "dead-run", now=long_ago)
    recipients.take_snapshot(world.sessions, broadcast_id)
    point = recipients.checkpoint(world.sessions, broadcast_id, "dead-run", [], 3)
    with session_scope(world.sessions) as session:  # its last heartbeat was long ago
        session.get(control.Broadcast, broadcast_id).heartbeat_at = long_ago  # type: ignore[union-attr]

    report = asyncio.run(run_broadcast(world, broadcast_id))

    orphans = {row.chat_id for row in point.claimed}
    assert report.orphans_marked_unknown == 3 and report.unknown == 3 and report.sent == 7
    assert set(_sends_per_chat(bot_api)) == set(range(1, 11)) - orphans


def test_a_second_run_waits_while_the_first_holds_the_broadcast(world: Runtime) -> None:
    _users(world, range(1, 3))
    broadcast_id = _new(world)
    assert control.take_lease(world.sessions, broadcast_id, "live-run")
    with pytest.raises(Exception, match="another run"):
        asyncio.run(run_broadcast(world, broadcast_id, lease_wait_s=1.0))
    assert recipients.counts(world.sessions, broadcast_id).total == 0  # it did nothing


def test_the_snapshot_is_taken_once_so_a_resume_adds_no_one(world: Runtime, bot_api: FakeBotApi) -> None:
    _users(world, range(1, 4))
    broadcast_id = _new(world)
    assert recipients.take_snapshot(world.sessions, broadcast_id) == 3
    _users(world, range(4, 6))  # arrived after the broadcast started
    assert recipients.take_snapshot(world.sessions, broadcast_id) is None
    asyncio.run(run_broadcast(world, broadcast_id))
    assert set(_sends_per_chat(bot_api)) == {1, 2, 3}


def test_the_audience_filters_keep_recent_users_of_one_language(world: Runtime) -> None:
    _users(world, range(1, 3), at=utcnow() - timedelta(days=30))
    _users(world, range(3, 5))
    audience.touch(world.sessions, "promo", audience.Person(4, "u4", "U", "de"))
    broadcast_id = _new(world, seen_within_days=7, language="en")
    recipients.take_snapshot(world.sessions, broadcast_id)
    assert set(_rows(world, broadcast_id)) == {3}


def _slow_broadcast_stopped_by(rt: Runtime, api: FakeBotApi, action: str) -> tuple[int, BroadcastReport]:
    """A broadcast to 40 users at 10/s, and its run's report after `action` once 5 were sent."""
    rt.settings.broadcast_rate_per_s = 10
    _users(rt, range(1, 41))
    broadcast_id = _new(rt)

    async def scenario() -> BroadcastReport:
        run = asyncio.create_task(run_broadcast(rt, broadcast_id))
        await api.wait_for_async("sendMessage", 5, timeout=20)
        await asyncio.to_thread(control.apply, rt.sessions, broadcast_id, action)
        return await run

    return broadcast_id, asyncio.run(scenario())


def test_pause_stops_between_batches_and_resume_finishes_without_doubles(world: Runtime, bot_api: FakeBotApi) -> None:
    broadcast_id, report = _slow_broadcast_stopped_by(world, bot_api, "pause")
    assert report.status == states.PAUSED and report.pending > 0

    control.apply(world.sessions, broadcast_id, "resume")
    world.settings.broadcast_rate_per_s = 200
    final = asyncio.run(run_broadcast(world, broadcast_id))
    assert final.status == states.DONE and final.sent == 40
    assert _sends_per_chat(bot_api) == Counter({chat: 1 for chat in range(1, 41)})


def test_cancel_stops_the_broadcast_for_good(world: Runtime, bot_api: FakeBotApi) -> None:
    broadcast_id, report = _slow_broadcast_stopped_by(world, bot_api, "cancel")
    assert report.status == states.CANCELLED and report.pending > 0
    sent_before = len(bot_api.calls_of("sendMessage"))
    asyncio.run(run_broadcast(world, broadcast_id))  # a re-run of a cancelled broadcast sends nothing
    assert len(bot_api.calls_of("sendMessage")) == sent_before
    with pytest.raises(InvalidInput, match="cannot resume"):
        control.apply(world.sessions, broadcast_id, "resume")


def test_retract_deletes_every_sent_message(world: Runtime, bot_api: FakeBotApi) -> None:
    _users(world, range(1, 7))
    bot_api.block_chat(6)
    broadcast_id = _new(world)
    asyncio.run(run_broadcast(world, broadcast_id))
    control.apply(world.sessions, broadcast_id, "retract")
    report = asyncio.run(run_broadcast(world, broadcast_id))
    deleted = {(int(c.params["chat_id"]), int(c.params["message_id"])) for c in bot_api.calls_of("deleteMessage")}
    assert deleted == {(c, r.message_id) for c, r in _rows(world, broadcast_id).items() if r.state == states.SENT}
    assert report.status == states.RETRACTED and report.retracted == 5


def test_the_photo_is_uploaded_once_then_its_file_id_is_reused(world: Runtime, bot_api: FakeBotApi) -> None:
    _users(world, range(1, 6))
    draft = Draft(bot="promo", text="<i>New</i> design", photo="upload")
    broadcast_id = asyncio.run(compose_broadcast(world, draft, created_by="admin", upload=PNG, upload_type="image/png"))
    control.apply(world.sessions, broadcast_id, "start")
    asyncio.run(run_broadcast(world, broadcast_id))
    photos = bot_api.calls_of("sendPhoto")
    assert len(photos) == 5
    assert [bool(call.files.get("photo")) for call in photos] == [True, False, False, False, False]
    file_id = control.get(world.sessions, broadcast_id).photo_file_id
    assert file_id and all(call.params["photo"] == file_id for call in photos[1:])
    assert photos[0].params["caption"] == "<i>New</i> design"


def test_send_a_test_goes_to_the_admins_own_chat_only(world: Runtime, bot_api: FakeBotApi) -> None:
    _users(world, range(1, 4))
    broadcast_id = asyncio.run(compose_broadcast(world, Draft(bot="promo", text="try me"), created_by="admin"))
    [message_id] = asyncio.run(send_test(world, broadcast_id))
    assert message_id and _sends_per_chat(bot_api) == Counter({900: 1})
    assert control.get(world.sessions, broadcast_id).status == states.DRAFT


def test_a_broadcast_for_a_bot_without_token_is_refused_before_saving(world: Runtime) -> None:
    with pytest.raises(InvalidInput, match="no token"):
        asyncio.run(compose_broadcast(world, Draft(bot="forex", text="hi"), created_by="admin"))
    assert control.recent(world.sessions) == []


def test_a_paid_broadcast_asks_telegram_for_the_paid_lane(world: Runtime, bot_api: FakeBotApi) -> None:
    _users(world, range(1, 3))
    asyncio.run(run_broadcast(world, _new(world, paid=True)))
    assert [call.params.get("allow_paid_broadcast") for call in bot_api.calls_of("sendMessage")] == [True, True]


def test_retract_leaves_messages_older_than_telegrams_48_hours(world: Runtime, bot_api: FakeBotApi) -> None:
    _users(world, range(1, 4))
    broadcast_id = _new(world)
    asyncio.run(run_broadcast(world, broadcast_id))
    with session_scope(world.sessions) as session:
        old = session.scalar(select(BroadcastRecipient).where(BroadcastRecipient.chat_id == 1))
        old.sent_at = utcnow() - timedelta(hours=49)  # type: ignore[union-attr]
    control.apply(world.sessions, broadcast_id, "retract")
    asyncio.run(run_broadcast(world, broadcast_id))
    assert sorted(int(c.params["chat_id"]) for c in bot_api.calls_of("deleteMessage")) == [2, 3]
