"""Replacing a template's background from the editor, in Chromium against a live server."""

from __future__ import annotations

import pytest

from tests.browser.admin_support import (  # noqa: F401 (fixtures)
    background_png,
    leave_the_store_as_found,
    log_in,
    problems,
    seed_template,
    stored,
)
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


def test_a_new_background_of_another_shape_outlines_the_area_that_had_to_move(
    page, live_server: LiveServer, problems: list[str], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    seed_template(live_server, "background-check", "Background Check", width=800, height=500)
    version = stored(live_server, "background-check").version
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin#/promo/templates/background-check")
    page.wait_for_selector("#overlay .area-box[data-area=code]")

    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("these are notes, not pixels")
    page.set_input_files("#background-file", str(not_an_image))
    page.click("#replace-background")
    page.click("#confirm-ok")
    page.wait_for_selector("#background-note .alert-error")
    assert "not a PNG, JPEG or WebP" in page.inner_text("#background-note")
    assert stored(live_server, "background-check").version == version

    # 400 px wide: the 560 px coupon area of the 800x500 starter no longer fits.
    narrow = tmp_path / "narrow.png"
    narrow.write_bytes(background_png(400, 500))
    page.set_input_files("#background-file", str(narrow))
    page.click("#replace-background")
    page.click("#confirm-ok")
    page.wait_for_selector("#background-refit")
    assert "Another shape (800x500 -> 400x500)" in page.inner_text("#background-refit")
    assert page.locator("#background-refit li[data-area=code]").count() == 1
    page.wait_for_selector("#overlay .area-box.has-error[data-area=code]")
    meta = stored(live_server, "background-check")
    assert (meta.width, meta.height, meta.version) == (400, 500, version + 1)
    assert [p for p in problems if not p.startswith("415 PUT")] == []
