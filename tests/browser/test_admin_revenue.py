"""The Revenue page in Chromium: figures from the mirror, the product filter, and the honest
"not configured" page without Stripe keys."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import expect

from promostack.db.migrate import upgrade
from tests.browser.admin_support import log_in, log_in_with_password, problems  # noqa: F401 - fixture
from tests.browser.conftest import ADMIN_PASSWORD, LiveServer, _ThreadedServer, save_screenshot
from tests.conftest import make_settings
from tests.fakes.ports import free_port
from tests.integration.revenue_world import seed

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def revenue_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live app with Stripe keys set and a seeded mirror (two currencies, two products)."""
    from webapp.app import create_app

    data_dir: Path = tmp_path_factory.mktemp("revenue-live")
    db_url = f"sqlite:///{data_dir / 'promostack.db'}"
    upgrade(db_url)
    seed(db_url)
    settings = make_settings(
        data_dir,
        database_url=db_url,
        admin_password=ADMIN_PASSWORD,
        session_secret="browser-tests-session-secret-0123456789",
        stripe_secret_key="sk_test_browser",
        stripe_webhook_secret="whsec_" + "browser",
        stripe_api_base="http://127.0.0.1:9",  # never called: the page reads the mirror
    )
    app = create_app(settings)
    server = _ThreadedServer(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert server.ready.wait(60), "the revenue live server did not start"
    yield LiveServer(url=f"http://127.0.0.1:{server.config.port}", app=app, settings=settings)
    server.should_exit = True
    thread.join(30)


def test_the_revenue_page_shows_the_mirror_and_filters_by_product(page, revenue_server: LiveServer, problems: list[str]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    log_in_with_password(page, revenue_server)
    page.goto(f"{revenue_server.url}/admin#/revenue")
    expect(page.locator("#kpi-mrr-usd .value")).to_have_text("$40.00")
    expect(page.locator("#kpi-mrr-eur .value")).to_contain_text("10.00")
    expect(page.locator("#kpi-subscribers-usd .value")).to_have_text("2")
    expect(page.locator("#movements-table tbody tr")).to_have_count(2)  # one month, two currencies
    expect(page.locator("#failed-table tbody tr")).to_have_count(1)
    expect(page.locator("#mrr-chart")).to_have_attribute("data-points", "2")
    expect(page.locator("#mrr-chart canvas")).to_have_count(1)
    save_screenshot(page, "admin-revenue-desktop", full_page=True)

    page.select_option("#revenue-product", "prod_b")
    expect(page.locator("#kpi-mrr-usd .value")).to_have_text("$20.00")
    expect(page.locator("#kpi-mrr-eur")).to_have_count(0)
    expect(page.get_by_text("Movements are kept for all counted products together")).to_be_visible()
    assert problems == []


def test_without_stripe_keys_the_page_says_what_to_set(page, live_server: LiveServer, problems: list[str]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin#/revenue")
    expect(page.get_by_role("heading", name="Stripe is not configured")).to_be_visible()
    expect(page.locator("code", has_text="STRIPE_WEBHOOK_SECRET")).to_be_visible()
    expect(page.locator(".stat")).to_have_count(0)
    assert problems == []
