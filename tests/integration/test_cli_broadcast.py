"""`promostack broadcast run | status | requeue` against the fake Bot API (embedded SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from promostack import audience
from promostack.broadcasts import control
from promostack.broadcasts.compose import Draft
from promostack.config import get_settings
from promostack.db.migrate import upgrade
from promostack.runtime import build_runtime
from tests.conftest import make_settings
from tests.fakes.bot_api import FakeBotApi

TOKEN = "700500:cli-broadcast-token"


@pytest.fixture
def queued(tmp_path: Path, bot_api: FakeBotApi, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A queued broadcast to 5 users of an embedded install whose promo bot is the fake."""
    env = {"DATA_DIR": str(tmp_path), "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": bot_api.api_base, "BROADCAST_RATE_PER_S": "100"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    settings = make_settings(tmp_path)
    upgrade(settings.sqlalchemy_url)
    rt = build_runtime(settings)
    for chat in range(1, 6):
        audience.register(rt.sessions, "promo", audience.Person(chat))
    broadcast_id = control.create(rt.sessions, Draft(bot="promo", text="<b>cli</b>"), created_by="ops")
    control.apply(rt.sessions, broadcast_id, "start")
    rt.close()
    yield broadcast_id
    get_settings.cache_clear()


def test_run_finishes_a_queued_broadcast_and_status_shows_its_counts(queued: int, bot_api: FakeBotApi) -> None:
    ran = CliRunner().invoke(app, ["broadcast", "run", str(queued)])
    assert ran.exit_code == 0, ran.output
    assert f"broadcast {queued}: done — sent 5" in ran.output
    assert len(bot_api.calls_of("sendMessage")) == 5
    shown = CliRunner().invoke(app, ["broadcast", "status", str(queued)])
    assert "done — sent 5 · blocked 0" in shown.output


def test_an_unknown_broadcast_is_a_clear_error(queued: int) -> None:
    result = CliRunner().invoke(app, ["broadcast", "status", "999"])
    assert result.exit_code == 1 and "no broadcast 999" in result.output
