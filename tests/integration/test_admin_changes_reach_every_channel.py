"""What an admin changes in the dashboard is what the public page, the API and the bot show next."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bots.registry import find_bot, webhook_secret
from promostack.coupons import LocalRegistry
from promostack.db.engine import make_engine, make_session_factory
from promostack.storage import build_store
from promostack.templates.store import TemplateStore, load_template_dir
from tests.fakes.bot_api import FakeBotApi, message_update
from tests.integration.admin_support import admin_settings, log_in
from webapp.app import create_app
from webapp.routes.telegram import SECRET_HEADER

DEMO = Path(__file__).resolve().parents[2] / "promostack" / "templates" / "demo"

pytestmark = pytest.mark.prefect


@pytest.fixture
def dashboard_and_bot(tmp_path: Path, db_url: str, bot_api: FakeBotApi, prefect_harness: None):
    settings = admin_settings(
        tmp_path, db_url, telegram_bot_token="700200:admin-to-bot", telegram_api_base=bot_api.api_base
    )
    templates = TemplateStore(build_store(settings))
    for slug in ("summer-sale", "welcome-offer"):
        templates.save(*load_template_dir(DEMO / slug))
    engine = make_engine(db_url)
    LocalRegistry(make_session_factory(engine)).add("WELCOME10")
    engine.dispose()
    secret = webhook_secret(settings, find_bot(settings, "promo"))
    with TestClient(create_app(settings)) as client:
        yield client, log_in(client), secret


def _bot_template_buttons(client: TestClient, bot_api: FakeBotApi, secret: str) -> set[str]:
    before = len(bot_api.calls_of("sendMessage"))
    headers = {SECRET_HEADER: secret}
    answer = client.post("/telegram/promo/webhook", json=message_update("/templates"), headers=headers)
    assert answer.status_code == 200
    listing = bot_api.wait_for("sendMessage", count=before + 1, timeout=20)[-1]
    return {row[0]["text"] for row in listing.params["reply_markup"]["inline_keyboard"]}


def test_a_new_text_area_drawn_in_the_dashboard_is_in_the_public_template(dashboard_and_bot) -> None:
    client, token, _ = dashboard_and_bot
    meta = client.get("/admin/api/templates/summer-sale").json()
    footer_box = {"x": 100, "y": 980, "w": 880, "h": 60}
    meta["text_areas"].append({"id": "footer", "label": "Footer", "default_text": "Ends Sunday", "box": footer_box})
    saved = client.put("/admin/api/templates/summer-sale", json=meta, headers={"X-CSRF-Token": token})
    assert saved.status_code == 200, saved.text
    public = client.get("/api/templates/summer-sale").json()
    assert "footer" in [area["id"] for area in public["text_areas"]]
    request = {"template": "summer-sale", "code": "WELCOME10", "texts": {"footer": "Ends Monday"}}
    with_footer = client.post("/api/render", json=request)
    assert with_footer.status_code == 200, with_footer.text
    without = client.post("/api/render", json={**request, "texts": {"footer": ""}})
    assert with_footer.content != without.content, "the footer text is drawn into the image"


def test_hiding_a_template_from_telegram_removes_it_from_the_bot_but_not_the_web(
    dashboard_and_bot, bot_api: FakeBotApi
) -> None:
    client, token, secret = dashboard_and_bot
    assert _bot_template_buttons(client, bot_api, secret) == {"Summer sale", "Welcome offer"}
    hidden = client.put(
        "/admin/api/templates/welcome-offer/visibility", json={"telegram": False}, headers={"X-CSRF-Token": token}
    )
    assert hidden.status_code == 200, hidden.text
    assert _bot_template_buttons(client, bot_api, secret) == {"Summer sale"}
    assert "welcome-offer" in [t["slug"] for t in client.get("/api/templates").json()["templates"]]


def test_hiding_a_template_from_the_web_takes_it_off_the_gallery_and_its_page(dashboard_and_bot) -> None:
    client, token, _ = dashboard_and_bot
    assert client.get("/t/welcome-offer").status_code == 200
    client.put("/admin/api/templates/welcome-offer/visibility", json={"web": False}, headers={"X-CSRF-Token": token})
    assert "welcome-offer" not in [t["slug"] for t in client.get("/api/templates").json()["templates"]]
    assert client.get("/t/welcome-offer").status_code == 404
