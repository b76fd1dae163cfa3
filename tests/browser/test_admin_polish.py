"""The dashboard around the editor, at desktop and phone sizes: coupons deactivated only after a
confirmation and reactivated again, the coupon table as cards on a phone, a skip link and the
product names on the rail, toasts that stay clear of the editor and go with their page, honest
wording on the flow runs page, and a favicon."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from promostack.coupons.registry import LocalRegistry
from tests.browser.admin_support import (  # noqa: F401 (fixtures)
    leave_the_store_as_found,
    log_in,
    problems,
    seed_template,
)
from tests.browser.conftest import SIZES, LiveServer, save_screenshot, tab_for
from tests.fakes.ports import free_port

pytestmark = pytest.mark.browser

def coupon(live_server: LiveServer, code: str) -> bool:
    """Whether `code` is active in the live server's registry (added, active, when missing)."""
    registry = LocalRegistry(live_server.runtime.sessions)
    found = {c.code: c for c in registry.list()}
    if code not in found:
        return registry.add(code, discount=20, description="Browser check", max_uses=50).active
    return found[code].active


@pytest.mark.parametrize("size", SIZES)
def test_deactivating_a_coupon_asks_first_and_it_can_be_reactivated(
    size: str, page, phone_page, live_server: LiveServer  # type: ignore[no-untyped-def]
) -> None:
    tab = tab_for(size, page, phone_page)
    code = f"ONOFF-{size.upper()}"
    assert coupon(live_server, code)
    log_in(tab, live_server)
    tab.goto(f"{live_server.url}/admin#/promo/coupons")
    row = tab.locator(f"#coupon-table tr[data-code={code}]")
    row.get_by_role("button", name=f"Deactivate {code}").click()
    expect(tab.locator("dialog[open]")).to_contain_text(f"Deactivate {code}?")
    tab.click("dialog[open] >> text=Cancel")
    assert coupon(live_server, code), "cancelling the dialog deactivated the code"
    row.get_by_role("button", name=f"Deactivate {code}").click()
    tab.click("#confirm-ok")
    expect(row.locator(".pill")).to_have_text("Inactive")
    assert not coupon(live_server, code)
    row.get_by_role("button", name=f"Reactivate {code}").click()
    expect(row.locator(".pill")).to_have_text("Active")
    assert coupon(live_server, code)


def test_on_a_phone_the_coupon_table_reads_as_cards_without_a_sideways_scroll(
    page, phone_page, live_server: LiveServer  # type: ignore[no-untyped-def]
) -> None:
    coupon(live_server, "CARDS-CHECK")
    for tab in (page, phone_page):
        log_in(tab, live_server)
        tab.goto(f"{live_server.url}/admin#/promo/coupons")
        tab.wait_for_selector("#coupon-table tr[data-code=CARDS-CHECK]")
    layout = """() => {
        const wrap = document.querySelector('#coupon-table').closest('.table-wrap');
        const cell = document.querySelector('#coupon-table tr[data-code=CARDS-CHECK] td:nth-child(3)');
        return {
            overflow: wrap.scrollWidth - wrap.clientWidth,
            label: getComputedStyle(cell, '::before').content,
            right: cell.getBoundingClientRect().right,
            head: getComputedStyle(document.querySelector('#coupon-table thead')).position,
        };
    }"""
    phone = phone_page.evaluate(layout)
    assert phone["overflow"] <= 0 and phone["right"] <= 390, phone
    assert phone["label"] == '"Discount"' and phone["head"] == "absolute", phone
    save_screenshot(phone_page, "admin-coupons-cards-phone")
    desktop = page.evaluate(layout)
    assert desktop["label"] in ("none", "normal") and desktop["head"] == "static", desktop


@pytest.mark.parametrize("size", SIZES)
def test_the_first_tab_stop_skips_to_the_page_without_changing_it(
    size: str, page, phone_page, live_server: LiveServer  # type: ignore[no-untyped-def]
) -> None:
    tab = tab_for(size, page, phone_page)
    log_in(tab, live_server)
    tab.goto(f"{live_server.url}/admin#/promo/coupons")
    tab.wait_for_selector("#coupon-form")
    tab.keyboard.press("Tab")
    skip = tab.locator("#skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    tab.keyboard.press("Enter")
    assert tab.evaluate("() => document.activeElement.id") == "view"
    assert tab.url.endswith("#/promo/coupons")
    tab.keyboard.press("Tab")
    assert tab.evaluate("() => document.getElementById('view').contains(document.activeElement)")


def test_product_names_are_on_the_rail_without_hovering(page, phone_page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    names = ["Promo Gen", "Campaigns", "Broadcasts", "Analytics", "Signals", "Revenue", "Flow runs", "Log out"]
    log_in(page, live_server)
    page.mouse.move(900, 500)
    for name in names:
        expect(page.locator(".rail-tip", has_text=name)).to_be_visible()
    log_in(phone_page, live_server)
    phone_page.click("#menu-btn")
    for name in names:
        expect(phone_page.locator(".rail-tip", has_text=name)).to_be_in_viewport()


@pytest.mark.parametrize("size", SIZES)
def test_toasts_stay_clear_of_the_editor_panel_and_go_with_their_page(
    size: str, page, phone_page, live_server: LiveServer  # type: ignore[no-untyped-def]
) -> None:
    tab = tab_for(size, page, phone_page)
    seed_template(live_server, f"toast-{size}", "Toast Check")
    log_in(tab, live_server)
    tab.goto(f"{live_server.url}/admin#/promo/templates/toast-{size}")
    tab.wait_for_selector("#overlay .area-box")
    tab.fill("#tpl-name", "Toast Check Saved")
    tab.click("#save")
    toast = tab.locator(".toast", has_text="Saved")
    expect(toast).to_be_visible()
    box = toast.bounding_box()
    viewport = tab.viewport_size
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
    for field in ("#area-min_size", "#area-max_size", "#area-box"):
        other = tab.locator(field).bounding_box()
        overlaps = not (
            box["x"] + box["width"] <= other["x"] or other["x"] + other["width"] <= box["x"]
            or box["y"] + box["height"] <= other["y"] or other["y"] + other["height"] <= box["y"]
        )
        assert not overlaps, f"the toast covers {field}"
    tab.goto(f"{live_server.url}/admin#/promo/coupons")
    tab.wait_for_selector("#coupon-form")
    expect(tab.locator(".toast")).to_have_count(0)


@contextmanager
def prefect_api(url: str | None) -> Iterator[None]:
    """The Prefect API the live server's requests read runs from, for the duration."""
    import prefect.context
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: url}):
        with prefect.context._temporary_global_settings_context(prefect.context.get_settings_context()):
            yield


@pytest.mark.parametrize("size", SIZES)
def test_flow_runs_page_tells_not_configured_from_not_reachable_and_hides_the_dead_link(
    size: str, page, phone_page, live_server: LiveServer  # type: ignore[no-untyped-def]
) -> None:
    tab = tab_for(size, page, phone_page)
    log_in(tab, live_server)
    with prefect_api(None):
        tab.goto(f"{live_server.url}/admin#/ops/runs")
        notice = tab.locator("#prefect-down")
        expect(notice.locator("h2")).to_have_text("Prefect is not configured")
        expect(notice).to_contain_text("PREFECT_API_URL")
        expect(tab.locator("#prefect-ui-link")).to_be_hidden()
    with prefect_api(f"http://127.0.0.1:{free_port()}/api"):
        tab.click("text=Refresh")
        expect(notice.locator("h2")).to_have_text("Prefect is not reachable")
        expect(tab.locator("#prefect-ui-link")).to_be_hidden()


def test_unbuilt_products_say_not_in_this_release_and_pages_have_a_favicon(
    page, live_server: LiveServer  # type: ignore[no-untyped-def]
) -> None:
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin#/revenue")
    heading = page.locator(".empty h2")
    if heading.count():  # another product's page may have replaced the placeholder
        expect(heading).not_to_contain_text("not set up")
    for path in ("/admin", "/"):
        page.goto(f"{live_server.url}{path}")
        href = page.locator("link[rel=icon]").get_attribute("href")
        answer = page.request.get(href if href.startswith("http") else f"{live_server.url}{href}")
        assert answer.ok and answer.headers["content-type"].startswith("image/svg+xml"), href
