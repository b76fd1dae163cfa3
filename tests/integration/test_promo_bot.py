"""The promo bot end to end: a Telegram update POSTed to the web app's webhook, real
python-telegram-bot handlers, the promo step list (flows.render_promo.make_promo, no Prefect in the
photo's path), and what the fake Bot API received.

Leaving the `TestClient` block stops the app, and python-telegram-bot's `Application.stop()` waits
for every queued update to be handled, so assertions after the block see the finished work.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from pydantic import SecretStr
from sqlalchemy import select
from starlette.testclient import TestClient

from bots.registry import find_bot, webhook_secret
from promostack.config import Settings
from promostack.coupons import LocalRegistry
from promostack.db import GenerationEvent
from promostack.db.engine import make_engine, make_session_factory, session_scope
from promostack.db.models import BotUser
from promostack.storage import build_store
from promostack.templates.store import TemplateStore, load_template_dir
from tests.conftest import make_settings
from tests.fakes.bot_api import FakeBotApi, callback_update, message_update
from webapp.app import create_app
from webapp.routes.telegram import SECRET_HEADER

TOKEN = "700100:promo-test-token"
DEMO = Path(__file__).resolve().parents[2] / "promostack" / "templates" / "demo"
USER = 4242


@dataclass
class PromoBot:
    """The web app with the promo bot on, pointed at the fake Bot API, and its database."""

    settings: Settings
    api: FakeBotApi
    secret: str

    @contextmanager
    def running(self) -> Iterator[TestClient]:
        """The app, started; on leaving, every update has been handled."""
        with TestClient(create_app(self.settings)) as client:
            yield client

    def post(self, client: TestClient, update: dict[str, Any], secret: str | None = None) -> httpx.Response:
        """The webhook's answer to `update` sent as Telegram sends it."""
        headers = {SECRET_HEADER: self.secret if secret is None else secret}
        return client.post("/telegram/promo/webhook", json=update, headers=headers)

    def sent(self, method: str) -> list[Any]:
        """The successful calls of `method` the fake Bot API received."""
        return self.api.calls_of(method)

    def users(self) -> list[BotUser]:
        """The promo bot's users in the database."""
        with self._session() as session:
            return list(session.scalars(select(BotUser).where(BotUser.bot == "promo")))

    def events(self) -> list[GenerationEvent]:
        """The generation events, oldest first."""
        with self._session() as session:
            return list(session.scalars(select(GenerationEvent).order_by(GenerationEvent.id)))

    @contextmanager
    def _session(self) -> Iterator[Any]:
        engine = make_engine(self.settings.sqlalchemy_url)
        try:
            with session_scope(make_session_factory(engine)) as session:
                yield session
        finally:
            engine.dispose()


@pytest.fixture
def promo_bot(db_url: str, tmp_path: Path, bot_api: FakeBotApi) -> PromoBot:
    """The promo bot on `db_url` with the demo templates in its store and coupon WELCOME10."""
    settings = make_settings(
        tmp_path,
        database_url=db_url,
        telegram_bot_token=TOKEN,
        telegram_api_base=bot_api.api_base,
        coupon_validator="local",
    )
    templates = TemplateStore(build_store(settings))
    for slug in ("summer-sale", "welcome-offer"):
        meta, image = load_template_dir(DEMO / slug)
        templates.save(meta, image)
    engine = make_engine(db_url)
    registry = LocalRegistry(make_session_factory(engine))
    registry.add("WELCOME10", discount=10)
    registry.add("A" * 30, discount=5)  # valid, but longer than the coupon area takes
    engine.dispose()
    return PromoBot(settings, bot_api, webhook_secret(settings, find_bot(settings, "promo")))


def _image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- the webhook ---------------------------------------------------------------------------------


def test_wrong_or_missing_secret_is_refused_and_nothing_is_processed(promo_bot: PromoBot) -> None:
    with promo_bot.running() as client:
        assert promo_bot.post(client, message_update("/start"), secret="wrong").status_code == 403
        response = client.post("/telegram/promo/webhook", json=message_update("/start"))
        assert response.status_code == 403
    assert [c.method for c in promo_bot.api.calls] == ["getMe"]
    assert promo_bot.users() == []


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'{"message": {"text": "/start"}}', b'{"update_id": "7"}', b"\xff\xfe"],
    ids=["not-json", "a-list", "no-update-id", "update-id-not-int", "not-utf8"],
)
def test_malformed_updates_get_400_and_nothing_is_processed(promo_bot: PromoBot, body: bytes) -> None:
    with promo_bot.running() as client:
        response = client.post(
            "/telegram/promo/webhook", content=body, headers={SECRET_HEADER: promo_bot.secret}
        )
    assert response.status_code == 400
    assert [c.method for c in promo_bot.api.calls] == ["getMe"]


def test_a_bot_that_is_off_or_unknown_has_no_webhook(promo_bot: PromoBot) -> None:
    with promo_bot.running() as client:
        forex = client.post("/telegram/forex/webhook", json=message_update("/start"))
        nobody = client.post("/telegram/nobody/webhook", json=message_update("/start"))
    assert (forex.status_code, nobody.status_code) == (404, 404)


# --- users -----------------------------------------------------------------------------------------


def test_start_registers_the_user_and_greets_them(promo_bot: PromoBot) -> None:
    with promo_bot.running() as client:
        assert (
            promo_bot.post(client, message_update("/start", user_id=USER, username="alice")).status_code
            == 200
        )
    [greeting] = promo_bot.sent("sendMessage")
    assert greeting.params["chat_id"] == USER and "Hi Alice" in greeting.params["text"]
    [user] = promo_bot.users()
    assert (user.telegram_id, user.username, user.status) == (USER, "alice", "active")


def test_any_update_moves_last_seen_and_keeps_first_seen(promo_bot: PromoBot) -> None:
    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/start"))
    [before] = promo_bot.users()
    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/help", username="alice_new"))
    [after] = promo_bot.users()
    assert after.first_seen == before.first_seen and after.last_seen > before.last_seen
    assert after.username == "alice_new"


def test_a_user_who_blocked_the_bot_is_marked_and_start_reactivates(promo_bot: PromoBot) -> None:
    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/start"))
    promo_bot.api.block_chat(USER)
    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/help"))
    assert [u.status for u in promo_bot.users()] == ["blocked"]
    assert promo_bot.sent("sendMessage")[-1].params["text"].startswith("Hi Alice")  # nothing more got through

    promo_bot.api.unblock_chat(USER)
    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/start"))
    assert [u.status for u in promo_bot.users()] == ["active"]
    assert "Good to see you again" in promo_bot.sent("sendMessage")[-1].params["text"]


# --- commands --------------------------------------------------------------------------------------


def test_unknown_commands_and_plain_text_get_a_hint(promo_bot: PromoBot) -> None:
    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/frobnicate"))
    [hint] = promo_bot.sent("sendMessage")
    assert "don't know that command" in hint.params["text"] and "/promo CODE" in hint.params["text"]


def test_templates_lists_the_designs_as_buttons_and_a_button_shows_a_preview(promo_bot: PromoBot) -> None:
    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/templates"))
        [listing] = promo_bot.api.wait_for("sendMessage", timeout=20)
        buttons = [row[0] for row in listing.params["reply_markup"]["inline_keyboard"]]
        assert {b["text"] for b in buttons} == {"Summer sale", "Welcome offer"}
        promo_bot.post(client, callback_update("t|welcome-offer"))
    [preview] = promo_bot.sent("sendPhoto")
    assert _image(preview.files["photo"]).size == (1200, 628)
    assert "Welcome offer" in preview.params["caption"]


def test_promo_with_code_and_template_sends_the_image_with_a_caption(promo_bot: PromoBot) -> None:
    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/promo welcome10 summer-sale"))
    [photo] = promo_bot.sent("sendPhoto")
    assert photo.params["chat_id"] == USER
    # A JPEG made to survive Telegram's re-encode, at full size.
    assert (_image(photo.files["photo"]).format, _image(photo.files["photo"]).size) == ("JPEG", (1080, 1080))
    assert photo.params["caption"] == "WELCOME10 — Summer sale"
    [event] = promo_bot.events()
    assert (event.channel, event.user_ref, event.template_slug, event.coupon_code, event.success) == (
        "telegram",
        str(USER),
        "summer-sale",
        "WELCOME10",
        True,
    )


def test_promo_with_only_a_code_offers_designs_and_renders_the_pressed_one(promo_bot: PromoBot) -> None:
    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/promo WELCOME10"))
        [offer] = promo_bot.api.wait_for("sendMessage", timeout=20)
        data = {row[0]["callback_data"] for row in offer.params["reply_markup"]["inline_keyboard"]}
        assert data == {"r|WELCOME10|summer-sale", "r|WELCOME10|welcome-offer"}
        promo_bot.post(client, callback_update("r|WELCOME10|welcome-offer"))
    assert len(promo_bot.sent("answerCallbackQuery")) == 1
    [photo] = promo_bot.sent("sendPhoto")
    assert _image(photo.files["photo"]).size == (1200, 628)
    assert photo.params["caption"] == "WELCOME10 — Welcome offer"


def test_promo_with_invalid_coupon_replies_and_sends_no_photo(promo_bot: PromoBot) -> None:
    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/promo NOSUCHCODE summer-sale"))
    [reply] = promo_bot.sent("sendMessage")
    assert "NOSUCHCODE" in reply.params["text"] and "can't be used" in reply.params["text"]
    assert "Traceback" not in reply.params["text"]
    assert promo_bot.sent("sendPhoto") == []
    [event] = promo_bot.events()
    assert (event.success, event.channel, event.user_ref, event.coupon_code) == (
        False,
        "telegram",
        str(USER),
        "NOSUCHCODE",
    )


def test_promo_with_unknown_template_names_it_and_points_at_templates(promo_bot: PromoBot) -> None:
    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/promo WELCOME10 no-such-design"))
    [reply] = promo_bot.sent("sendMessage")
    assert "no-such-design" in reply.params["text"] and "/templates" in reply.params["text"]
    assert promo_bot.sent("sendPhoto") == [] and [e.success for e in promo_bot.events()] == [False]


def test_promo_whose_code_does_not_fit_says_so(promo_bot: PromoBot) -> None:
    with promo_bot.running() as client:
        promo_bot.post(client, message_update(f"/promo {'A' * 30} summer-sale"))
    [reply] = promo_bot.sent("sendMessage")
    assert "doesn't fit" in reply.params["text"]
    assert promo_bot.sent("sendPhoto") == [] and [e.success for e in promo_bot.events()] == [False]


def test_promo_without_a_code_explains_and_records_the_attempt(promo_bot: PromoBot) -> None:
    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/promo"))
    [reply] = promo_bot.sent("sendMessage")
    assert "add your coupon code" in reply.params["text"]
    [event] = promo_bot.events()
    assert (event.success, event.channel, event.user_ref, event.error) == (
        False,
        "telegram",
        str(USER),
        "missing coupon code",
    )


def test_flood_control_waits_retry_after_and_the_photo_arrives_once(promo_bot: PromoBot) -> None:
    promo_bot.api.fail_next("sendPhoto", 429, "Too Many Requests: retry after 1", retry_after=1)
    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/promo WELCOME10 summer-sale"))
    attempts = promo_bot.api.calls_of("sendPhoto", ok_only=False)
    assert [a.status for a in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0
    assert [e.success for e in promo_bot.events()] == [True]


def test_the_webhook_answers_before_the_reply_is_sent(promo_bot: PromoBot) -> None:
    release = promo_bot.api.hold("sendMessage")
    with promo_bot.running() as client:
        # The handler is stuck sending its reply, yet the webhook has already answered.
        assert promo_bot.post(client, message_update("/help")).status_code == 200
        assert promo_bot.api.calls_of("sendMessage") == []
        release.set()
    assert len(promo_bot.sent("sendMessage")) == 1


def test_coupon_validation_outage_says_try_later(promo_bot: PromoBot) -> None:
    from tests.fakes.funderpro import FakeFunderPro, run_fake_funderpro

    with run_fake_funderpro(FakeFunderPro(mode="5xx")) as funderpro:
        settings = promo_bot.settings.model_copy(
            update={
                "coupon_validator": "funderpro",
                "funderpro_product_id": funderpro.product_id,
                "funderpro_api_base": funderpro.base_url,
            }
        )
        bot = PromoBot(settings, promo_bot.api, promo_bot.secret)
        with bot.running() as client:
            bot.post(client, message_update("/promo WELCOME10 summer-sale"))
    [reply] = bot.sent("sendMessage")
    assert "can't check coupon codes right now" in reply.params["text"]
    assert bot.sent("sendPhoto") == [] and [e.success for e in bot.events()] == [False]


def test_anything_unexpected_is_logged_with_context_and_apologised_for(
    promo_bot: PromoBot, caplog: pytest.LogCaptureFixture
) -> None:
    # An operator broke the template's meta.json in the store: not the user's fault, not foreseen.
    build_store(promo_bot.settings).put("templates/summer-sale/meta.json", b"{broken", "application/json")
    with caplog.at_level("ERROR", logger="bots.promo"), promo_bot.running() as client:
        promo_bot.post(client, message_update("/promo WELCOME10 summer-sale", update_id=9191))
    [reply] = promo_bot.sent("sendMessage")
    assert (
        "something went wrong on our side" in reply.params["text"] and "Traceback" not in reply.params["text"]
    )
    [record] = [r for r in caplog.records if r.name == "bots.promo" and "failed on update" in r.getMessage()]
    assert "9191" in record.getMessage() and str(USER) in record.getMessage() and record.exc_info
    [event] = promo_bot.events()
    assert (event.status, event.success) == ("failed", False) and "InvalidTemplate" in (event.error or "")


def test_send_as_file_under_a_photo_sends_the_lossless_png_of_the_same_promo(promo_bot: PromoBot) -> None:
    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/promo WELCOME10 summer-sale"))
        [photo] = promo_bot.api.wait_for("sendPhoto", timeout=20)
        [[button]] = photo.params["reply_markup"]["inline_keyboard"]
        assert button["text"] == "Send as file (PNG)"
        promo_bot.post(client, callback_update(button["callback_data"]))
    [document] = promo_bot.sent("sendDocument")
    png = _image(document.files["document"])
    assert (png.format, png.size) == ("PNG", (1080, 1080))
    # The PNG is the lossless version of the photo the user already has.
    jpeg = _image(photo.files["photo"]).convert("RGB")
    assert max(abs(a - b) for a, b in zip(png.convert("RGB").getpixel((540, 540)), jpeg.getpixel((540, 540)))) < 12
    assert [e.status for e in promo_bot.events()] == ["succeeded", "succeeded"]


def test_the_event_of_a_promo_is_settled_and_named_after_its_update(promo_bot: PromoBot) -> None:
    from promostack.db.generations import derived_event_id

    with promo_bot.running() as client:
        promo_bot.post(client, message_update("/promo WELCOME10 summer-sale", update_id=777))
        # Telegram delivers the same update again (our answer was lost): one event, one photo.
        promo_bot.post(client, message_update("/promo WELCOME10 summer-sale", update_id=777))
    assert len(promo_bot.sent("sendPhoto")) == 1
    [event] = promo_bot.events()
    assert (event.status, event.event_id) == ("succeeded", derived_event_id("telegram", "promo", 777))
    assert event.bot == "promo"  # analytics tell the bots apart by it
    assert event.settled_at is not None and event.render_ms and event.render_ms > 0


def test_a_user_over_the_promo_limit_is_told_to_wait_and_gets_no_image(promo_bot: PromoBot) -> None:
    bot = PromoBot(
        promo_bot.settings.model_copy(update={"promo_limit_per_user": 2, "promo_limit_window_s": 3600}),
        promo_bot.api,
        promo_bot.secret,
    )
    with bot.running() as client:
        for update_id in (1, 2, 3):
            bot.post(client, message_update("/promo WELCOME10 summer-sale", update_id=update_id))
    assert len(bot.sent("sendPhoto")) == 2
    [reply] = bot.sent("sendMessage")
    assert "wait" in reply.params["text"] and "seconds" in reply.params["text"]
    # Another user is not held back by the first one's limit.
    with bot.running() as client:
        bot.post(client, message_update("/promo WELCOME10 summer-sale", update_id=4, user_id=USER + 1))
    assert len(bot.sent("sendPhoto")) == 3


def test_each_bot_has_its_own_route_secret_and_application(promo_bot: PromoBot) -> None:
    forex_token = "700400:forex-test-token"
    settings = promo_bot.settings.model_copy(update={"forex_bot_token": SecretStr(forex_token)})
    forex_secret = webhook_secret(settings, find_bot(settings, "forex"))
    bot = PromoBot(settings, promo_bot.api, promo_bot.secret)
    with bot.running() as client:
        # The promo bot's secret opens only the promo bot's route.
        wrong = client.post(
            "/telegram/forex/webhook", json=message_update("/start"), headers={SECRET_HEADER: bot.secret}
        )
        right = client.post(
            "/telegram/forex/webhook", json=message_update("/start"), headers={SECRET_HEADER: forex_secret}
        )
    assert (wrong.status_code, right.status_code) == (403, 200)
    replies = bot.api.calls_of("sendMessage")
    assert replies and {c.token for c in replies} == {forex_token}  # answered by the forex bot
    assert bot.users() == []  # the promo bot's audience is untouched


def test_a_bot_that_could_not_reach_telegram_at_start_answers_503_then_recovers(promo_bot: PromoBot) -> None:
    # getMe fails at start-up and on the first webhook call, then Telegram is back.
    promo_bot.api.fail_next("getMe", 500, "Internal Server Error", times=2)
    with promo_bot.running() as client:
        assert client.get("/healthz").status_code == 200  # the web app itself is up
        first = promo_bot.post(client, message_update("/help"))
        second = promo_bot.post(client, message_update("/help"))
    assert (first.status_code, second.status_code) == (503, 200)
    assert len(promo_bot.sent("sendMessage")) == 1  # only the accepted update was answered


def test_an_oversized_body_is_refused_unread(promo_bot: PromoBot) -> None:
    huge = b'{"update_id": 1, "padding": "' + b"x" * (1024 * 1024) + b'"}'
    with promo_bot.running() as client:
        declared = client.post(
            "/telegram/promo/webhook", content=huge, headers={SECRET_HEADER: promo_bot.secret}
        )
        streamed = client.post(
            "/telegram/promo/webhook",
            content=iter([huge[:1000], huge[1000:]]),
            headers={SECRET_HEADER: promo_bot.secret},
        )
    assert (declared.status_code, streamed.status_code) == (413, 413)
    assert [c.method for c in promo_bot.api.calls] == ["getMe"]
