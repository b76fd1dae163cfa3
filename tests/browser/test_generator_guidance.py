"""What the public generator tells a first visitor, at desktop and phone sizes: the sample code
is a placeholder (never a pre-filled invalid code), a text near its limit is counted and one over
it is kept and explained (never cut), and the status line speaks for the last action only."""

from __future__ import annotations

import pytest
from PIL import Image

from tests.browser.conftest import SIZES, tab_for
from tests.browser.public_support import VALID_CODE, PublicSite, public_site  # noqa: F401 (fixture)
from tests.browser.test_public_generator import draws, open_generator, type_and_wait_for_preview

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("prefect_harness")]

def coupon_pixels(tab, meta) -> list[int]:  # type: ignore[no-untyped-def]
    """The preview's RGBA bytes over the coupon area (every 7th pixel, to keep it small)."""
    box = meta.area("code").box
    return tab.evaluate(
        """([x, y, w, h, width]) => {
            const canvas = document.getElementById('preview');
            const s = canvas.width / width;
            const data = canvas.getContext('2d').getImageData(Math.round(x * s), Math.round(y * s), Math.round(w * s), Math.round(h * s)).data;
            return Array.from(data.filter((_, i) => i % 28 === 0));
        }""",
        [box.x, box.y, box.w, box.h, meta.width],
    )


@pytest.mark.parametrize("size", SIZES)
def test_the_sample_code_is_a_placeholder_shown_in_the_preview_not_a_prefilled_code(
    size: str, page, phone_page, public_site: PublicSite  # type: ignore[no-untyped-def]
) -> None:
    tab = tab_for(size, page, phone_page)
    meta, _ = public_site.templates["summer-sale"]
    open_generator(tab, public_site, "summer-sale")
    field = tab.locator("#area-code")
    assert field.input_value() == ""
    assert field.get_attribute("placeholder") == meta.area("code").default_text == "SUMMER30"
    with_sample = coupon_pixels(tab, meta)
    type_and_wait_for_preview(tab, "#area-code", "ZZ")
    assert coupon_pixels(tab, meta) != with_sample, "the empty field's preview showed no sample code"
    type_and_wait_for_preview(tab, "#area-code", "")
    assert coupon_pixels(tab, meta) == with_sample
    # Download at once: the page asks for a code instead of calling the sample unknown.
    tab.click("#download")
    assert "Type your coupon code" in tab.wait_for_selector("#error-code:not([hidden])").inner_text()
    assert "not a known coupon" not in tab.inner_text("body")


@pytest.mark.parametrize("size", SIZES)
def test_a_text_near_its_limit_is_counted_and_one_over_it_is_kept_and_explained(
    size: str, page, phone_page, public_site: PublicSite  # type: ignore[no-untyped-def]
) -> None:
    tab = tab_for(size, page, phone_page)
    open_generator(tab, public_site, "summer-sale")  # headline: max_chars 40
    counter = tab.locator("#count-headline")
    type_and_wait_for_preview(tab, "#area-headline", "Big summer sale")
    assert counter.is_hidden()
    type_and_wait_for_preview(tab, "#area-headline", "Big summer sale on every single plan")
    assert counter.inner_text() == "36 / 40 characters."
    over = "Big summer sale on every single plan for the summer"
    type_and_wait_for_preview(tab, "#area-headline", over)
    assert tab.locator("#area-headline").input_value() == over, "the text was cut at the limit"
    assert "51 / 40 characters: 11 too many" in counter.inner_text()
    assert "limit is 40" in tab.inner_text("#error-headline")
    type_and_wait_for_preview(tab, "#area-code", VALID_CODE)
    tab.click("#download")
    assert "fix the highlighted field" in tab.wait_for_selector("#status.error").inner_text()


@pytest.mark.parametrize("size", SIZES)
def test_a_success_message_goes_away_when_the_next_action_starts(
    size: str, page, phone_page, public_site: PublicSite  # type: ignore[no-untyped-def]
) -> None:
    tab = tab_for(size, page, phone_page)
    open_generator(tab, public_site, "summer-sale")
    type_and_wait_for_preview(tab, "#area-code", VALID_CODE)
    with tab.expect_download() as download_info:
        tab.click("#download")
    assert Image.open(download_info.value.path()).size == (1080, 1080)
    assert "Downloaded" in tab.wait_for_selector("#status.ok").inner_text()
    before = draws(tab)
    tab.fill("#area-headline", "W" * 41)
    tab.wait_for_function("(n) => Number(document.getElementById('preview').dataset.drawn) > n", arg=before)
    assert tab.inner_text("#status") == "", "the earlier success is still shown beside the new error"
    assert tab.is_visible("#error-headline")
    tab.click("#download")
    status = tab.wait_for_selector("#status.error").inner_text()
    assert "fix the highlighted field" in status and "Downloaded" not in status
