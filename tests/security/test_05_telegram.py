"""Telegram: re-delivering an update, asking for a design name that cannot exist, crafted updates."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bots import promo_texts as say
from promostack.coupons import LocalRegistry
from promostack.db.engine import make_engine, make_session_factory
from tests.fakes.bot_api import message_update
from tests.integration.test_promo_bot import PromoBot, promo_bot  # noqa: F401 (fixture)
from webapp.routes.telegram import SECRET_HEADER


def test_a_re_delivered_update_is_handled_once_and_sends_one_photo(promo_bot: PromoBot) -> None:  # noqa: F811
    update = message_update("/promo WELCOME10 summer-sale", update_id=777001)
    start = message_update("/start", update_id=777002)
    with promo_bot.running() as client:
        answers = [promo_bot.post(client, u).status_code for u in (update, update, start, start)]
    # Telegram re-delivers what looked unanswered; a second web instance sees the same update.
    with promo_bot.running() as other:
        answers.append(promo_bot.post(other, update).status_code)
    assert answers == [200] * 5
    assert len(promo_bot.sent("sendPhoto")) == 1
    assert len(promo_bot.sent("sendMessage")) == 1  # one greeting
    assert len(promo_bot.events()) == 1


def test_a_design_name_that_cannot_exist_lists_the_designs_without_an_apology(
    promo_bot: PromoBot, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    caplog.set_level(logging.ERROR)
    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/promo WELCOME10 Not_A_Design!"))
    [reply] = promo_bot.sent("sendMessage")
    assert "no design called" in reply.params["text"] and "summer-sale" in reply.params["text"]
    assert reply.params["text"] != say.APOLOGY
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert promo_bot.sent("sendPhoto") == []


def test_unknown_and_expired_codes_get_the_same_reply(promo_bot: PromoBot) -> None:  # noqa: F811
    engine = make_engine(promo_bot.settings.sqlalchemy_url)
    LocalRegistry(make_session_factory(engine)).add("OLDNEWS", expires_at=datetime.now(UTC) - timedelta(days=1))
    engine.dispose()
    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/promo OLDNEWS summer-sale"))
        promo_bot.post(client, message_update("/promo NOSUCHCODE summer-sale"))
    replies = sorted(m.params["text"].replace("OLDNEWS", "CODE").replace("NOSUCHCODE", "CODE")
                     for m in promo_bot.sent("sendMessage"))
    assert len(replies) == 2 and replies[0] == replies[1]


@pytest.mark.parametrize("body", [b"[" * 10_000 + b"]" * 10_000, b'{"update_id": ' + b"9" * 5_000 + b"}"])
def test_an_update_built_to_crash_the_parser_is_a_400(promo_bot: PromoBot, body: bytes) -> None:  # noqa: F811
    with promo_bot.running() as client:
        answer = client.post("/telegram/promo/webhook", content=body, headers={SECRET_HEADER: promo_bot.secret})
    assert answer.status_code == 400 and answer.json()["error"] == "malformed_json"
    assert [c.method for c in promo_bot.api.calls] == ["getMe"]
