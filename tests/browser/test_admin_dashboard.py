"""The admin dashboard in Chromium against a live server: log-in, the editor, visibility, screenshots."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from promostack.coupons.registry import LocalRegistry
from promostack.templates.store import TemplateStore
from tests.browser.admin_support import (  # noqa: F401 (fixtures)
    ADMIN_PAGES,
    background_png,
    leave_the_store_as_found,
    log_in,
    log_in_with_password,
    problems,
    seed_template,
    stored,
)
from tests.browser.conftest import ADMIN_PASSWORD, LiveServer, save_screenshot
from tests.browser.public_support import seeded_templates  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


# One test for both: the server counts every log-in attempt (5 per address per 15 minutes), and
# the whole browser suite shares one server.
def test_a_wrong_then_the_right_password_logs_in_to_the_page_asked_for(
    page, live_server: LiveServer, problems: list[str]
) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/admin#/promo/coupons")
    page.wait_for_url("**/admin/login#/promo/coupons")
    save_screenshot(page, "admin-login-desktop")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert "not right" in page.inner_text("#login-error")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#coupon-form")
    assert page.url.endswith("/admin#/promo/coupons")
    assert [p for p in problems if not p.startswith("401 POST")] == []


def test_drawing_a_text_area_and_saving_it_puts_it_in_the_store(
    page, live_server: LiveServer, problems: list[str]
) -> None:  # type: ignore[no-untyped-def]
    seed_template(live_server, "draw-check", "Draw Check", width=800, height=500)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin#/promo/templates/draw-check")
    page.wait_for_selector("#overlay .area-box[data-area=code]")
    box = page.locator("#overlay").bounding_box()
    scale = box["width"] / 800
    # Drag from template pixel (40, 25) to (360, 125): clear of the centred coupon area.
    page.mouse.move(box["x"] + 40 * scale, box["y"] + 25 * scale)
    page.mouse.down()
    page.mouse.move(box["x"] + 200 * scale, box["y"] + 80 * scale, steps=5)
    page.mouse.move(box["x"] + 360 * scale, box["y"] + 125 * scale, steps=5)
    page.mouse.up()
    # The editor asks what the new area is for: visitors see that label.
    page.fill("#prompt-input", "Summer headline")
    page.click("#prompt-ok")
    page.wait_for_selector("#area-list [data-area=summer_headline]")
    page.fill("#area-default_text", "SUMMER SALE")
    page.select_option("#area-font", "BebasNeue-Regular")
    save_screenshot(page, "admin-editor-desktop")
    with page.expect_response(
        lambda r: r.request.method == "PUT" and "/admin/api/templates/draw-check" in r.url
    ) as answer:
        page.click("#save")
    assert answer.value.status == 200
    page.wait_for_selector(".toast >> text=Saved")

    meta = stored(live_server, "draw-check")
    assert [a.id for a in meta.text_areas] == ["code", "summer_headline"]
    area = meta.area("summer_headline")
    assert area.label == "Summer headline"
    assert (area.default_text, area.font) == ("SUMMER SALE", "BebasNeue-Regular")
    for got, want in zip((area.box.x, area.box.y, area.box.w, area.box.h), (40, 25, 320, 100), strict=True):
        assert abs(got - want) <= 3, (area.box, "differs from the dragged rectangle")
    assert meta.version == 2
    assert problems == []


def test_moving_an_area_by_dragging_it(page, live_server: LiveServer, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    seed_template(live_server, "move-check", "Move Check", width=800, height=500)
    before = stored(live_server, "move-check").area("code").box
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin#/promo/templates/move-check")
    page.wait_for_selector("#overlay .area-box[data-area=code]")
    rect = page.locator("#overlay .area-box[data-area=code]").bounding_box()
    scale = page.locator("#overlay").bounding_box()["width"] / 800
    page.mouse.move(rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] / 2)
    page.mouse.down()
    page.mouse.move(rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] / 2 + 100 * scale, steps=8)
    page.mouse.up()
    page.click("#save")
    page.wait_for_selector(".toast >> text=Saved")
    after = stored(live_server, "move-check").area("code").box
    assert (
        abs(after.y - (before.y + 100)) <= 3
        and after.x == before.x
        and (after.w, after.h) == (before.w, before.h)
    )
    assert problems == []


def test_resizing_an_area_by_its_corner(page, live_server: LiveServer, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    seed_template(live_server, "resize-check", "Resize Check", width=800, height=500)
    before = stored(live_server, "resize-check").area("code").box
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin#/promo/templates/resize-check")
    page.wait_for_selector("#overlay .area-box[data-area=code].selected .handle.se")
    handle = page.locator("#overlay .area-box[data-area=code] .handle.se").bounding_box()
    scale = page.locator("#overlay").bounding_box()["width"] / 800
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40 * scale, y + 20 * scale, steps=6)
    page.mouse.up()
    page.click("#save")
    page.wait_for_selector(".toast >> text=Saved")
    after = stored(live_server, "resize-check").area("code").box
    assert (after.x, after.y) == (before.x, before.y)
    assert abs(after.w - (before.w + 40)) <= 3 and abs(after.h - (before.h + 20)) <= 3
    assert problems == []


def test_arrow_keys_nudge_the_selected_area(page, live_server: LiveServer, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    seed_template(live_server, "nudge-check", "Nudge Check", width=800, height=500)
    before = stored(live_server, "nudge-check").area("code").box
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin#/promo/templates/nudge-check")
    page.wait_for_selector("#overlay .area-box[data-area=code].selected")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")
    page.click("#save")
    page.wait_for_selector(".toast >> text=Saved")
    after = stored(live_server, "nudge-check").area("code").box
    assert (after.x, after.y) == (before.x + 11, before.y - 1)
    assert problems == []


def test_a_schema_error_is_shown_by_field_and_nothing_is_saved(
    page, live_server: LiveServer, problems: list[str]
) -> None:  # type: ignore[no-untyped-def]
    seed_template(live_server, "error-check", "Error Check")
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin#/promo/templates/error-check")
    page.wait_for_selector("#area-id")
    page.fill("#area-id", "Bad Id")
    page.click("#save")
    page.wait_for_selector("#editor-messages .alert-error")
    assert "text_areas.0.id" in page.inner_text("#editor-messages")
    assert stored(live_server, "error-check").version == 1
    assert [p for p in problems if not p.startswith("422 PUT")] == []


def test_toggling_visibility_on_the_list_saves_it(page, live_server: LiveServer, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    seed_template(live_server, "toggle-check", "Toggle Check")
    log_in(page, live_server)
    card = page.wait_for_selector("#template-list [data-slug=toggle-check]")
    web = card.query_selector("input[data-channel=web]")
    assert not web.is_checked()
    with page.expect_response(lambda r: "/toggle-check/visibility" in r.url) as answer:
        web.click()
    assert answer.value.status == 200
    expect(page.locator("[data-slug=toggle-check] .tpl-title .pill")).to_have_text("Live")
    assert stored(live_server, "toggle-check").visibility.web is True
    assert stored(live_server, "toggle-check").visibility.telegram is False
    assert "toggle-check" in [t.slug for t in TemplateStore(live_server.runtime.store).visible("web")]
    assert problems == []


def test_logging_out_returns_to_the_login_page(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    log_in_with_password(page, live_server)  # its own session: logging out ends it for good
    page.click("#logout")
    page.wait_for_url("**/admin/login")
    page.goto(f"{live_server.url}/admin")
    page.wait_for_url("**/admin/login")


def test_screenshots_of_every_page_at_desktop_and_phone(
    page, phone_page, live_server: LiveServer, seeded_templates: dict, problems: list[str]
) -> None:  # type: ignore[no-untyped-def]
    # The shipped demo templates (shared with the public page tests, never modified here).
    assert "summer-sale" in seeded_templates
    registry = LocalRegistry(live_server.runtime.sessions)
    for code, discount in (("SUMMER25", 25.0), ("WELCOME10", 10.0)):
        if code not in {c.code for c in registry.list()}:
            registry.add(code, discount=discount, description="Shown in the screenshots", max_uses=500)
    for tab, size in ((page, "desktop"), (phone_page, "phone")):
        log_in(tab, live_server)
        for name, hash_, ready in ADMIN_PAGES:
            tab.goto(f"{live_server.url}/admin{hash_}")
            tab.wait_for_selector(ready)
            tab.wait_for_timeout(150)  # let the canvas preview and fonts settle for the picture
            save_screenshot(tab, f"admin-{name}-{size}")
    phone_page.goto(f"{live_server.url}/admin#/promo/templates")
    phone_page.wait_for_selector("#template-list")
    sidebar, rail = phone_page.locator("#sidebar"), phone_page.locator("#rail")
    expect(sidebar).not_to_be_in_viewport()
    expect(rail).not_to_be_in_viewport()
    phone_page.click("#menu-btn")
    expect(sidebar).to_be_in_viewport(ratio=1)
    expect(rail).to_be_in_viewport(ratio=1)
    save_screenshot(phone_page, "admin-menu-open-phone")
    phone_page.click("#scrim", position={"x": 350, "y": 400})
    expect(sidebar).not_to_be_in_viewport()
    # No Prefect API is configured for the live server, so the runs page's 503 is expected.
    assert [p for p in problems if not p.startswith("503 GET") or "/flow-runs" not in p] == []


def test_uploading_an_image_opens_the_editor_and_a_bad_file_says_why(
    page, live_server: LiveServer, problems: list[str], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    log_in(page, live_server)
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("these are notes, not pixels")
    page.fill("#new-name", "Broken Upload")
    page.set_input_files("#new-image", str(not_an_image))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#upload-form .alert-error")
    assert "not a PNG, JPEG or WebP" in page.inner_text("#upload-form .alert-error")
    assert not TemplateStore(live_server.runtime.store).exists("broken-upload")

    good = tmp_path / "autumn.png"
    good.write_bytes(background_png(640, 360))
    page.fill("#new-name", "Autumn Upload")
    page.set_input_files("#new-image", str(good))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/admin#/promo/templates/autumn-upload")
    page.wait_for_selector("#overlay .area-box[data-area=code]")
    meta = stored(live_server, "autumn-upload")
    assert (meta.width, meta.height, meta.visibility.web) == (640, 360, False)
    assert [p for p in problems if not p.startswith("415 POST")] == []


def test_deleting_a_template_asks_first_then_removes_it(
    page, live_server: LiveServer, problems: list[str]
) -> None:  # type: ignore[no-untyped-def]
    seed_template(live_server, "delete-check", "Delete Check")
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin#/promo/templates/delete-check")
    page.wait_for_selector("#overlay .area-box")
    page.click("#delete")
    page.wait_for_selector("dialog[open]")
    page.click("dialog[open] >> text=Cancel")
    assert TemplateStore(live_server.runtime.store).exists("delete-check")
    page.click("#delete")
    page.click("#confirm-ok")
    page.wait_for_url("**/admin#/promo/templates")
    page.wait_for_selector("#template-list, .empty")
    assert not TemplateStore(live_server.runtime.store).exists("delete-check")
    assert page.locator("[data-slug=delete-check]").count() == 0
    assert problems == []


@pytest.mark.prefect
def test_flow_runs_page_lists_runs_with_links_into_prefect(
    page, phone_page, live_server: LiveServer, prefect_harness: None, problems: list[str]
) -> None:  # type: ignore[no-untyped-def]
    from prefect import flow

    @flow(name="dashboard-screenshot-probe")
    def probe() -> str:
        return "ok"

    for _ in range(3):
        probe()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin#/ops/runs")
    page.wait_for_selector("#runs-table, #prefect-down")
    assert not page.is_visible("#prefect-down"), page.inner_text("#prefect-down")
    page.wait_for_selector("#runs-table >> text=dashboard-screenshot-probe")
    link = page.locator("#runs-table a").first.get_attribute("href")
    assert link.startswith(f"{live_server.settings.prefect_ui_url}/runs/flow-run/")
    save_screenshot(page, "admin-runs-with-data-desktop")
    # On a phone each run is a card: no sideways scroll hides the state or the duration.
    log_in(phone_page, live_server)
    phone_page.goto(f"{live_server.url}/admin#/ops/runs")
    phone_page.wait_for_selector("#runs-table >> text=dashboard-screenshot-probe")
    wrap = phone_page.locator("#runs-table").locator("xpath=..")
    assert wrap.evaluate("(w) => w.scrollWidth <= w.clientWidth")
    save_screenshot(phone_page, "admin-runs-with-data-phone")
    assert problems == []
