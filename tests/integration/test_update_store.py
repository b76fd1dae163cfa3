"""The Telegram update store: an update answered 200 is never lost, and runs once.

The kill test is real: a web process (uvicorn) answers 200 for more updates than its bot runs at
once (their photos held unanswered by the fake Bot API) and is killed with SIGKILL right after
its last answer — so some updates are stored but never
started. The next process runs exactly those, once; the
ones killed mid-handler are not run again (their promo attempts settle as `unknown`).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from promostack.coupons import LocalRegistry
from promostack.db.updates import TelegramUpdate, count_by_state, start_update, store_update, unfinished_updates
from tests.fakes.bot_api import FakeBotApi, message_update
from tests.integration.test_crash_recovery import TOKEN, World, web_app, world  # noqa: F401 (fixture)

LEASE = timedelta(seconds=30)


def _secret() -> str:
    from bots.registry import find_bot, webhook_secret
    from promostack.config import Settings

    settings = Settings(_env_file=None, telegram_bot_token=TOKEN)  # type: ignore[call-arg]
    return webhook_secret(settings, find_bot(settings, "promo"))


def _deliver(base: str, update: dict[str, object]) -> int:
    answer = httpx.post(
        f"{base}/telegram/promo/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": _secret()},
        timeout=10,
    )
    return answer.status_code


def test_updates_stored_by_a_process_killed_before_running_them_run_once_after_a_restart(
    world: World, bot_api: FakeBotApi  # noqa: F811
) -> None:
    LocalRegistry(world.sessions).add("WELCOME10")
    # The first process runs 4 updates at once; the other 96 are only stored when it dies. (A held
    # photo times out after PTB's 5 s read timeout and frees its slot, so a slow machine starts a few
    # more, never most of them.)
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": bot_api.api_base, "TELEGRAM_UPDATE_LEASE_S": "2"}
    users = list(range(5000, 5100))
    updates = [
        message_update("/promo WELCOME10 black-friday", user_id=user, update_id=900_000 + user) for user in users
    ]
    # Photos wait unanswered, so the bot's 4 slots stay busy while the rest arrive.
    gate = bot_api.hold("sendPhoto")
    with web_app(world, **env, TELEGRAM_CONCURRENT_UPDATES="4") as base:
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert list(pool.map(lambda u: _deliver(base, u), updates)) == [200] * len(updates)
    # Leaving the block killed the process with SIGKILL, right after its last 200.
    gate.set()
    never_started = _chats_of(world, "received")
    assert never_started, "the kill came after every update had started; nothing was tested"
    with web_app(world, **env) as base:
        deadline = time.monotonic() + 120
        while _chats_of(world, "received") or _chats_of(world, "started"):
            assert time.monotonic() < deadline, "the stored updates were not run after the restart"
            time.sleep(0.1)
        # Telegram re-delivers whatever it thinks unanswered: nothing runs twice.
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert list(pool.map(lambda u: _deliver(base, u), updates)) == [200] * len(updates)
        time.sleep(1.0)
    photos = [call.params["chat_id"] for call in bot_api.calls_of("sendPhoto")]
    assert set(never_started) <= set(photos), "an update answered 200 was lost"
    assert len(photos) == len(set(photos)), "an update ran twice"
    assert set(count_by_state(world.sessions)) <= {"done", "interrupted"}


def _chats_of(world: World, state: str) -> list[int]:
    """The chats of the stored updates in `state` (a message update's chat is its user)."""
    with world.sessions() as session:
        payloads = session.scalars(select(TelegramUpdate.payload).where(TelegramUpdate.state == state))
        return [payload["message"]["chat"]["id"] for payload in payloads]


def test_a_re_delivered_update_is_stored_once(sessions: sessionmaker[Session]) -> None:
    first = store_update(sessions, "promo", 41, {"update_id": 41}, LEASE)
    again = store_update(sessions, "promo", 41, {"update_id": 41}, LEASE)
    other_bot = store_update(sessions, "forex", 41, {"update_id": 41}, LEASE)
    assert first is not None and again is None and other_bot not in (None, first)


def test_a_stored_update_is_started_by_one_process_only(sessions: sessionmaker[Session]) -> None:
    row = store_update(sessions, "promo", 42, {"update_id": 42}, timedelta(seconds=-1))
    assert row is not None
    [candidate] = unfinished_updates(sessions, ["promo"])
    assert candidate.update_id == 42 and candidate.payload == {"update_id": 42}
    assert start_update(sessions, row, LEASE, lease_over=True) is True
    assert start_update(sessions, row, LEASE) is False
    assert unfinished_updates(sessions, ["promo"]) == []


def test_an_update_its_process_still_holds_is_not_taken_by_another(sessions: sessionmaker[Session]) -> None:
    row = store_update(sessions, "promo", 43, {"update_id": 43}, LEASE)
    assert row is not None
    assert unfinished_updates(sessions, ["promo"]) == []
    assert start_update(sessions, row, LEASE, lease_over=True) is False
    assert start_update(sessions, row, LEASE) is True
