"""The Analytics page in Chromium: hourly/daily switching, coupon search, CSV download."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from promostack.db import make_engine
from tests.browser.admin_support import log_in, problems  # noqa: F401 (fixture)
from tests.browser.conftest import LiveServer, save_screenshot
from tests.integration.analytics_world import NOW, add_events, event, export_recent

pytestmark = pytest.mark.browser


@pytest.fixture
def exported_events(live_server: LiveServer) -> None:
    """Events with two rare coupon codes in the live database, exported."""
    runtime = live_server.runtime
    engine = make_engine(live_server.settings.sqlalchemy_url)
    try:
        add_events(engine, [event(NOW, coupon_code="ANALYTICS-ONE", user_ref=f"b{i}") for i in range(3)])
        add_events(engine, [event(NOW, coupon_code="ANALYTICS-TWO", success=False)])
        export_recent(engine, runtime.store)
    finally:
        engine.dispose()


def test_range_switch_search_and_csv_download(
    page, live_server: LiveServer, problems: list[str], exported_events, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin#/analytics")

    chart = page.locator("#generations-chart")
    expect(page.locator("#bucket-label")).to_have_text("Daily")
    expect(chart).to_have_attribute("data-points", "7")
    expect(page.locator("#data-as-of")).to_contain_text("Data as of")
    page.click("[data-range='24h']")
    expect(page.locator("#bucket-label")).to_have_text("Hourly")
    expect(chart).to_have_attribute("data-points", "24")
    expect(page.locator("#generations-chart canvas")).to_have_count(1)

    page.fill("#coupon-search", "analytics-t")
    expect(page.locator("#coupons-table tbody tr")).to_have_count(1)
    expect(page.locator("#coupons-table tbody tr")).to_have_attribute("data-code", "ANALYTICS-TWO")
    save_screenshot(page, "admin-analytics-desktop", full_page=True)

    with page.expect_download() as download:
        page.click("#coupons-csv")
    saved = tmp_path / "coupons.csv"
    download.value.save_as(saved)
    assert saved.read_text().splitlines()[1].startswith("ANALYTICS-TWO,1,0,")
    assert problems == []
