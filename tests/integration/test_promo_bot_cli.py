"""`promostack bot set-webhook` and `promostack bot poll`, against the fake Bot API."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from telegram import Bot
from typer.testing import CliRunner

from bots.registry import find_bot, webhook_secret
from cli.bot import poll
from cli.main import app
from promostack.config import get_settings
from promostack.db.engine import make_engine, make_session_factory, session_scope
from promostack.db.models import BotUser
from tests.conftest import make_settings
from tests.fakes.bot_api import FakeBotApi, message_update

TOKEN = "700200:cli-test-token"


def test_set_webhook_registers_each_bots_url_and_secret(
    bot_api: FakeBotApi, tmp_path: Path, monkeypatch
) -> None:
    env = {
        "DATA_DIR": str(tmp_path),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": bot_api.api_base,
        "TELEGRAM_WEBHOOK_SECRET": "rotate-me",
        "BASE_URL": "https://promo.example.test",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["bot", "set-webhook"], env={"COLUMNS": "200"})
        settings = get_settings()
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    hook = bot_api.webhook(TOKEN)
    assert hook is not None and hook["url"] == "https://promo.example.test/telegram/promo/webhook"
    assert hook["secret_token"] == webhook_secret(settings, find_bot(settings, "promo"))
    [commands] = bot_api.calls_of("setMyCommands")
    assert {c["command"] for c in commands.params["commands"]} >= {"start", "promo", "templates", "help"}


def test_set_webhook_refuses_a_bot_without_a_token(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["bot", "set-webhook", "--bot", "forex"], env={"COLUMNS": "200"})
    finally:
        get_settings.cache_clear()
    assert result.exit_code != 0 and "no token" in result.output


def test_secrets_differ_per_bot_and_follow_the_configured_key(tmp_path: Path) -> None:
    keyed = make_settings(
        tmp_path, telegram_bot_token=TOKEN, forex_bot_token="9:f", telegram_webhook_secret="k"
    )
    rekeyed = make_settings(
        tmp_path, telegram_bot_token=TOKEN, forex_bot_token="9:f", telegram_webhook_secret="k2"
    )
    unkeyed = make_settings(tmp_path, telegram_bot_token=TOKEN, forex_bot_token="9:f")
    secrets = {
        webhook_secret(s, find_bot(s, bot)) for s in (keyed, rekeyed, unkeyed) for bot in ("promo", "forex")
    }
    assert len(secrets) == 6
    assert webhook_secret(keyed, find_bot(keyed, "promo")) == webhook_secret(keyed, find_bot(keyed, "promo"))
    assert all(TOKEN not in s and "k2" not in s for s in secrets)


async def test_poll_removes_the_webhook_and_answers_updates(
    bot_api: FakeBotApi, db_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        tmp_path, database_url=db_url, telegram_bot_token=TOKEN, telegram_api_base=bot_api.api_base
    )
    bot_api.queue_update(message_update("/start", user_id=77, first_name="Bea"))
    # A webhook left over from a deployment: polling must remove it, or getUpdates is refused.
    async with Bot(TOKEN, base_url=bot_api.base_url) as bot:
        await bot.set_webhook("https://promo.example.test/telegram/promo/webhook")
    stop = asyncio.Event()
    polling = asyncio.create_task(poll(settings, [find_bot(settings, "promo")], stop))
    try:
        [greeting] = await bot_api.wait_for_async("sendMessage", timeout=20)
    finally:
        stop.set()
        await polling
    assert greeting.params["chat_id"] == 77 and "Hi Bea" in greeting.params["text"]
    assert bot_api.calls_of("deleteWebhook")
    engine = make_engine(db_url)
    with session_scope(make_session_factory(engine)) as session:
        assert session.scalars(select(BotUser.telegram_id)).all() == [77]
    engine.dispose()
