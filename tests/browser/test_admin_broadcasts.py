"""The Broadcasts page in Chromium: compose a broadcast, send it, watch its progress live."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import expect

from flows.broadcast import broadcast as broadcast_flow
from flows.broadcast import run_broadcast
from promostack import audience
from promostack.broadcasts import control, states
from promostack.db.migrate import upgrade
from tests.browser.admin_support import log_in_with_password, problems  # noqa: F401  (fixture)
from tests.browser.conftest import ADMIN_PASSWORD, LiveServer, _ThreadedServer, save_screenshot
from tests.browser.test_accessibility import AXE, serious_violations
from tests.conftest import make_settings
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.ports import free_port

pytestmark = [pytest.mark.browser, pytest.mark.prefect]
TOKEN = "700400:browser-broadcast-token"


@pytest.fixture
def broadcasting_server(tmp_path: Path, bot_api: FakeBotApi, prefect_harness: None) -> Iterator[LiveServer]:
    """The app with the promo bot on the fake Bot API, 20 users, a slow pace (to watch), and the
    `broadcast` deployment registered on the test Prefect server."""
    from prefect.deployments.runner import RunnerDeployment
    from webapp.app import create_app

    # In a thread: Playwright's loop runs in this one, and Prefect would hand back a coroutine here.
    register = threading.Thread(target=lambda: RunnerDeployment.from_flow(broadcast_flow, name="broadcast").apply())
    register.start()
    register.join(timeout=60)
    db_url = f"sqlite:///{tmp_path / 'promostack.db'}"
    upgrade(db_url)
    settings = make_settings(
        tmp_path, database_url=db_url, admin_password=ADMIN_PASSWORD, session_secret="browser-tests-session-secret-0123456789",
        telegram_bot_token=TOKEN, telegram_api_base=bot_api.api_base, broadcast_rate_per_s=4, broadcast_in_flight=2,
    )
    app = create_app(settings)
    port = free_port()
    server = _ThreadedServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert server.ready.wait(timeout=60)
    live = LiveServer(url=f"http://127.0.0.1:{port}", app=app, settings=settings)
    for chat in range(1, 21):
        audience.register(live.runtime.sessions, "promo", audience.Person(chat, f"user{chat}", "U", "en"))
    yield live
    server.should_exit = True
    thread.join(timeout=30)


def _worker(live: LiveServer, stop: threading.Event) -> None:
    """A worker's part: run each queued broadcast (the flow's step list) as soon as it is queued."""
    while not stop.is_set():
        for view in control.recent(live.runtime.sessions):
            if view.status == states.QUEUED:
                asyncio.run(run_broadcast(live.runtime, view.id))
        time.sleep(0.2)


def test_compose_send_and_watch_a_broadcast_progress(page, broadcasting_server: LiveServer, bot_api: FakeBotApi, problems: list[str]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    live = broadcasting_server
    page.add_init_script(path=str(AXE))
    log_in_with_password(page, live)
    page.goto(f"{live.url}/admin#/broadcasts")
    page.wait_for_selector("#channels h2")
    assert serious_violations(page) == []

    page.fill("#b-text", "<b>Sale")  # unclosed: refused before saving, with the reason
    page.click("#b-save")
    expect(page.locator("#b-error")).to_contain_text("never closed")

    page.fill("#b-text", "<b>Sale</b> ends tonight")
    page.fill("#b-buttons", "Shop now | https://example.com/shop")
    page.click("#b-save")
    expect(page.locator("#b-status")).to_have_text("draft")

    stop = threading.Event()
    worker = threading.Thread(target=_worker, args=(live, stop), daemon=True)
    worker.start()
    try:
        page.click("#b-send")
        expect(page.locator("#b-status")).to_have_text("running", timeout=30_000)
        expect(page.locator("#b-sent .value")).not_to_have_text("0", timeout=15_000)
        save_screenshot(page, "admin-broadcast-running")
        expect(page.locator("#b-status")).to_have_text("done", timeout=60_000)
        expect(page.locator("#b-sent .value")).to_have_text("20")
        expect(page.locator("#b-remaining .value")).to_have_text("0")
        expect(page.locator("#b-table tbody tr")).to_have_count(1)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert len(bot_api.calls_of("sendMessage")) == 20
    assert [p for p in problems if "422" not in p] == []  # the refused draft is the only error
