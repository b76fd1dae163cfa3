"""Channel posts and the bot's side of broadcasts, on SQLite and Postgres: registering a channel
(only where the bot is an admin), posting a promo there (recorded, in generation events),
`/post` for admins only, and `my_chat_member` keeping the audience flag current."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from bots.registry import find_bot, webhook_secret
from flows.broadcast import compose_broadcast
from flows.channel_post import (
    BotNotChannelAdmin,
    ChannelUnreachable,
    post_now,
    post_to_channel,
    register_channel,
    schedule_post,
)
from promostack import audience
from promostack.broadcasts import channels, control
from promostack.broadcasts.compose import Draft
from promostack.coupons import LocalRegistry
from promostack.db import GenerationEvent
from promostack.db.engine import session_scope
from promostack.runtime import Runtime, build_runtime, install_runtime
from promostack.templates.store import TemplateStore, load_template_dir
from tests.conftest import make_settings
from tests.fakes.bot_api import FakeBotApi, message_update, user_dict
from webapp.app import create_app
from webapp.routes.telegram import SECRET_HEADER

TOKEN = "700200:channel-test-token"
DEMO = Path(__file__).resolve().parents[2] / "promostack" / "templates" / "demo"
ADMIN = 900
CHANNEL = "@deals"


@pytest.fixture
def world(db_url: str, tmp_path: Path, bot_api: FakeBotApi) -> Iterator[Runtime]:
    """A runtime with the demo templates, coupon WELCOME10 and the promo bot on the fake Bot API."""
    settings = make_settings(
        tmp_path, database_url=db_url, telegram_bot_token=TOKEN, telegram_api_base=bot_api.api_base,
        coupon_validator="local", admin_telegram_ids=str(ADMIN),
    )
    rt = build_runtime(settings)
    meta, image = load_template_dir(DEMO / "summer-sale")
    TemplateStore(rt.store).save(meta, image)
    LocalRegistry(rt.sessions).add("WELCOME10", discount=10)
    with install_runtime(rt):
        yield rt
    rt.close()


def _events(rt: Runtime) -> list[GenerationEvent]:
    with session_scope(rt.sessions) as session:
        return list(session.scalars(select(GenerationEvent)))


def _register(rt: Runtime, api: FakeBotApi) -> channels.Channel:
    api.set_member(-1000000000000 - (abs(hash(CHANNEL)) % 10**9), "administrator")
    return asyncio.run(register_channel(rt, "promo", CHANNEL, "admin"))


def test_a_channel_where_the_bot_is_not_an_admin_is_refused_with_what_to_do(world: Runtime, bot_api: FakeBotApi) -> None:
    with pytest.raises(BotNotChannelAdmin, match="add it as an admin"):
        asyncio.run(register_channel(world, "promo", CHANNEL, "admin"))
    assert channels.channels(world.sessions) == []


def test_a_channel_telegram_does_not_know_is_refused(world: Runtime, bot_api: FakeBotApi) -> None:
    bot_api.forget_chat(CHANNEL)
    with pytest.raises(ChannelUnreachable, match="cannot find"):
        asyncio.run(register_channel(world, "promo", CHANNEL, "admin"))


def test_a_channel_where_the_bot_is_admin_is_registered_once(world: Runtime, bot_api: FakeBotApi) -> None:
    first = _register(world, bot_api)
    again = _register(world, bot_api)
    assert first.id == again.id and first.username == "deals" and first.chat_id < 0
    assert [c.id for c in channels.channels(world.sessions, "promo")] == [first.id]


def test_a_post_puts_the_promo_in_the_channel_and_is_recorded_with_its_generation_event(
    world: Runtime, bot_api: FakeBotApi
) -> None:
    channel = _register(world, bot_api)
    report = asyncio.run(post_now(world, channel.id, "summer-sale", "welcome10", "<b>New deal</b>", "admin"))
    [photo] = bot_api.calls_of("sendPhoto")
    assert photo.params["chat_id"] == channel.chat_id and photo.files["photo"].startswith(b"\x89PNG")
    assert photo.params["caption"] == "<b>New deal</b>"
    post = channels.get_post(world.sessions, report.post_id)
    assert (post.state, post.message_id, post.requested_by) == ("posted", report.message_id, "admin")
    [event] = _events(world)
    assert event.event_id == post.event_id and event.status == "succeeded" and event.channel == "telegram"
    assert event.user_ref == f"channel:{channel.chat_id}"


def test_a_post_is_never_made_twice(world: Runtime, bot_api: FakeBotApi) -> None:
    channel = _register(world, bot_api)
    post_id = asyncio.run(schedule_post(world, channel.id, "summer-sale", "WELCOME10", "", "admin"))
    asyncio.run(post_to_channel(world, post_id))
    again = asyncio.run(post_to_channel(world, post_id))  # a retried or duplicated run
    assert again.state == "posted" and len(bot_api.calls_of("sendPhoto")) == 1


def test_a_post_with_an_invalid_coupon_fails_with_the_reason_and_sends_nothing(world: Runtime, bot_api: FakeBotApi) -> None:
    channel = _register(world, bot_api)
    report = asyncio.run(post_now(world, channel.id, "summer-sale", "NOPE", "", "admin"))
    assert report.state == "failed" and report.error
    assert bot_api.calls_of("sendPhoto") == []
    assert [e.status for e in _events(world)] == ["failed"]


def test_a_broadcast_photo_rendered_from_a_promo_is_stored_and_counted_as_a_generation(world: Runtime) -> None:
    draft = Draft(bot="promo", text="<b>Deal</b>", photo="promo", promo_template="summer-sale", promo_code="WELCOME10")
    broadcast_id = asyncio.run(compose_broadcast(world, draft, created_by="admin"))
    key = control.get(world.sessions, broadcast_id).photo_key
    assert key and world.store.get(key).startswith(b"\x89PNG")
    [event] = _events(world)
    assert (event.status, event.template_slug, event.coupon_code) == ("succeeded", "summer-sale", "WELCOME10")


# --- through the bot's webhook ---------------------------------------------------------------------


def _webhook(rt: Runtime, client: TestClient, update: dict[str, Any]) -> None:
    secret = webhook_secret(rt.settings, find_bot(rt.settings, "promo"))
    assert client.post("/telegram/promo/webhook", json=update, headers={SECRET_HEADER: secret}).status_code == 200


def _member_update(user_id: int, old: str, new: str) -> dict[str, Any]:
    user = user_dict(user_id, f"u{user_id}", "U")
    bot = {"id": 700200, "is_bot": True, "first_name": "Fake bot"}
    return {
        "update_id": int(time.time() * 1000) % 10**9 + user_id,
        "my_chat_member": {
            "chat": {"id": user_id, "type": "private", "first_name": "U"},
            "from": user,
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": bot} | ({"until_date": 0} if old == "kicked" else {}),
            "new_chat_member": {"status": new, "user": bot} | ({"until_date": 0} if new == "kicked" else {}),
        },
    }


def test_my_chat_member_marks_a_user_who_blocks_the_bot_and_brings_them_back_when_they_unblock(
    world: Runtime, bot_api: FakeBotApi
) -> None:
    audience.register(world.sessions, "promo", audience.Person(77, "u77", "U", "en"))
    with TestClient(create_app(world.settings)) as client:
        _webhook(world, client, _member_update(77, "member", "kicked"))
    assert audience.active_users(world.sessions, "promo") == []
    with TestClient(create_app(world.settings)) as client:
        _webhook(world, client, _member_update(77, "kicked", "member"))
    assert audience.active_users(world.sessions, "promo") == [77]


def test_post_from_telegram_works_for_admins_only(world: Runtime, bot_api: FakeBotApi) -> None:
    _register(world, bot_api)
    with TestClient(create_app(world.settings)) as client:
        _webhook(world, client, message_update(f"/post {CHANNEL} WELCOME10 summer-sale", user_id=1234))
        _webhook(world, client, message_update(f"/post {CHANNEL} WELCOME10 summer-sale Fresh <b>deal</b>", user_id=ADMIN))
    replies = {int(c.params["chat_id"]): c.params["text"] for c in bot_api.calls_of("sendMessage")}
    assert replies[1234] == "Only the bot's admins can post to channels."
    assert replies[ADMIN].startswith("Posted to @deals")
    [photo] = bot_api.calls_of("sendPhoto")
    assert photo.params["caption"] == "Fresh <b>deal</b>"
    [post] = channels.recent_posts(world.sessions)
    assert post.requested_by == str(ADMIN) and post.state == "posted"
