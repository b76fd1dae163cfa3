"""The public generator in Chromium: type a code, see it in the preview, download the PNG; clear
inline messages for an invalid code and a text too long; a logo in the preview; screenshots of
the gallery and the generator at desktop and phone widths."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PIL import Image
from sqlalchemy import select

from promostack.db import GenerationEvent
from tests.browser.conftest import save_screenshot
from tests.browser.public_support import (  # noqa: F401 (fixture)
    EXPIRED_CODE,
    VALID_CODE,
    PublicSite,
    public_site,
    running_site,
    site_settings,
)
from tests.fakes.funderpro import FakeFunderPro, run_fake_funderpro

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("prefect_harness")]


# Functions, not expression strings: the page's CSP forbids eval, which string expressions need.
REDRAWN = "(before) => Number(document.getElementById('preview').dataset.drawn) > before"


def open_generator(page, site: PublicSite, slug: str):  # type: ignore[no-untyped-def]
    """`page` on the generator of `slug`, fonts and background loaded and the preview drawn."""
    page.goto(f"{site.url}/t/{slug}")
    page.wait_for_selector("body[data-ready=true]")
    return page


def draws(page) -> int:  # type: ignore[no-untyped-def]
    """How many times the preview has been drawn."""
    return int(page.get_attribute("#preview", "data-drawn") or 0)


def type_and_wait_for_preview(page, selector: str, text: str) -> None:  # type: ignore[no-untyped-def]
    """Type `text` into `selector` and wait until the preview has redrawn for it."""
    before = draws(page)
    page.fill(selector, text)
    page.wait_for_function(REDRAWN, arg=before)


def web_events(site: PublicSite, slug: str) -> list[GenerationEvent]:  # type: ignore[no-untyped-def]
    """The successful web generation events of `slug`."""
    with site.runtime.sessions() as session:
        query = select(GenerationEvent).where(
            GenerationEvent.channel == "web", GenerationEvent.template_slug == slug, GenerationEvent.success
        )
        return list(session.scalars(query))


def test_download_gives_the_png_at_template_size_and_counts_a_web_generation(
    page, public_site: PublicSite  # type: ignore[no-untyped-def]
) -> None:
    meta, _ = public_site.templates["summer-sale"]
    before = len(web_events(public_site, "summer-sale"))
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    open_generator(page, public_site, "summer-sale")
    type_and_wait_for_preview(page, "#area-code", VALID_CODE.lower())
    with page.expect_download() as download_info:
        page.click("#download")
    download = download_info.value
    assert download.suggested_filename == f"summer-sale-{VALID_CODE.lower()}.png"
    with Image.open(download.path()) as image:
        image.load()
    assert image.format == "PNG" and image.size == (meta.width, meta.height)
    page.wait_for_selector("#status.ok")
    assert len(web_events(public_site, "summer-sale")) == before + 1
    assert script_errors == []


def test_share_without_file_sharing_falls_back_to_a_download(
    page, public_site: PublicSite  # type: ignore[no-untyped-def]
) -> None:
    meta, _ = public_site.templates["welcome-offer"]
    open_generator(page, public_site, "welcome-offer")
    type_and_wait_for_preview(page, "#area-code", VALID_CODE)
    # Chromium on Linux has no Web Share API, so Share must still hand over the image.
    assert page.evaluate("() => typeof navigator.canShare") == "undefined"
    with page.expect_download() as download_info:
        page.click("#share")
    image = Image.open(download_info.value.path())
    assert image.size == (meta.width, meta.height)
    assert "downloaded" in page.wait_for_selector("#status.ok").inner_text()


def test_invalid_coupon_is_refused_inline_and_nothing_downloads(
    page, public_site: PublicSite  # type: ignore[no-untyped-def]
) -> None:
    open_generator(page, public_site, "black-friday")
    type_and_wait_for_preview(page, "#area-code", EXPIRED_CODE)
    downloads: list[object] = []
    page.on("download", lambda download: downloads.append(download))
    page.click("#download")
    # The coupon check on leaving the field may show the reason first; the render's answer ends it.
    assert "fix the highlighted field" in page.wait_for_selector("#status.error").inner_text()
    # Expired and unknown codes get one sentence (the reason is not given away to guessers).
    assert "not a valid coupon code" in page.inner_text("#error-code")
    assert downloads == []


@pytest.fixture(scope="module")
def outage_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicSite]:
    """A site whose coupon service (the fake FunderPro) answers every request with a 503."""
    with run_fake_funderpro(FakeFunderPro(codes={"FP20": (True, None, 20.0)}, mode="5xx")) as fake:
        settings = site_settings(
            tmp_path_factory.mktemp("outage-live"),
            coupon_validator="funderpro",
            funderpro_product_id=fake.product_id,
            funderpro_api_base=fake.base_url,
        )
        with running_site(settings) as site:
            yield site


def test_coupon_service_outage_says_so_and_nothing_downloads(page, outage_site: PublicSite) -> None:  # type: ignore[no-untyped-def]
    open_generator(page, outage_site, "black-friday")
    type_and_wait_for_preview(page, "#area-code", "FP20")
    downloads: list[object] = []
    page.on("download", lambda download: downloads.append(download))
    page.click("#download")
    status = page.wait_for_selector("#status.error:has-text('unavailable')")
    assert "try again" in status.inner_text()
    assert downloads == []


@pytest.fixture(scope="module")
def codeless_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicSite]:
    """A site with a template that does not show the coupon code (no coupon area)."""
    from promostack.templates.store import TemplateStore
    from tests.integration.public_world import hidden_template

    meta, image = hidden_template()
    meta = meta.model_copy(
        update={
            "slug": "no-code-shown",
            "image_key": "templates/no-code-shown/background.png",
            "text_areas": [meta.text_areas[0].model_copy(update={"id": "line", "source": "text", "default_text": "Hi"})],
            "visibility": meta.visibility.model_copy(update={"web": True}),
        }
    )
    with running_site(site_settings(tmp_path_factory.mktemp("codeless-live"))) as site:
        TemplateStore(site.runtime.store).save(meta, image)
        yield site


def test_a_template_without_a_coupon_area_still_asks_for_the_code(
    page, codeless_site: PublicSite  # type: ignore[no-untyped-def]
) -> None:
    open_generator(page, codeless_site, "no-code-shown")
    page.click("#download")
    assert "Type your coupon code" in page.wait_for_selector("#error-coupon:not([hidden])").inner_text()
    page.fill("#coupon-code", VALID_CODE)
    with page.expect_download() as download_info:
        page.click("#download")
    assert Image.open(download_info.value.path()).size == (320, 160)


def test_empty_coupon_asks_for_one_before_calling_the_server(
    page, public_site: PublicSite  # type: ignore[no-untyped-def]
) -> None:
    open_generator(page, public_site, "black-friday")
    assert page.input_value("#area-code") == ""  # the sample code is only a placeholder
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/render" in r.url else None)
    page.click("#download")
    assert "Type your coupon code" in page.wait_for_selector("#error-code:not([hidden])").inner_text()
    assert requests == []


def test_text_too_long_shows_at_its_field_as_you_type(
    page, public_site: PublicSite  # type: ignore[no-untyped-def]
) -> None:
    open_generator(page, public_site, "black-friday")
    type_and_wait_for_preview(page, "#area-headline", "W" * 60)
    error = page.wait_for_selector("#error-headline:not([hidden])")
    assert "too long" in error.inner_text()
    type_and_wait_for_preview(page, "#area-headline", "Short again")
    page.wait_for_selector("#error-headline", state="hidden")


def test_a_chosen_logo_appears_in_the_preview(
    page, public_site: PublicSite, tmp_path  # type: ignore[no-untyped-def]
) -> None:
    meta, _ = public_site.templates["black-friday"]
    logo = tmp_path / "logo.png"
    Image.new("RGB", (80, 40), (0, 200, 120)).save(logo)
    open_generator(page, public_site, "black-friday")
    before = draws(page)
    page.set_input_files("#logo", str(logo))
    page.wait_for_function(REDRAWN, arg=before)
    box = meta.logo_area.box
    pixel = page.evaluate(
        """([x, y, width]) => {
            const canvas = document.getElementById('preview');
            const scale = canvas.width / width;
            return Array.from(canvas.getContext('2d').getImageData(Math.round(x * scale), Math.round(y * scale), 1, 1).data);
        }""",
        [box.x + box.w / 2, box.y + box.h / 2, meta.width],
    )
    assert pixel[:3] == [0, 200, 120]


def test_preview_canvas_is_sharp_on_high_dpi_screens(
    phone_page, public_site: PublicSite  # type: ignore[no-untyped-def]
) -> None:
    open_generator(phone_page, public_site, "summer-sale")
    shown, backing = phone_page.evaluate(
        "() => { const c = document.getElementById('preview'); return [c.getBoundingClientRect().width, c.width]; }"
    )
    assert backing == round(shown * 2)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_screenshots_of_the_gallery_and_the_generator(
    page, phone_page, public_site: PublicSite, size: str  # type: ignore[no-untyped-def]
) -> None:
    tab = page if size == "desktop" else phone_page
    tab.goto(f"{public_site.url}/")
    tab.wait_for_function("() => Array.from(document.images).every((i) => i.complete && i.naturalWidth > 0)")
    assert tab.locator(".card").count() == len(public_site.templates)
    save_screenshot(tab, f"public-home-{size}", full_page=True)
    open_generator(tab, public_site, "black-friday")
    type_and_wait_for_preview(tab, "#area-code", "GOLD-2026")
    save_screenshot(tab, f"public-generator-{size}", full_page=size == "phone")
