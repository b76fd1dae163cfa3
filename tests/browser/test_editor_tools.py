"""The template editor's design tools in Chromium: undo/redo across draw, move, resize, style and
delete; duplicate and layer order; snapping with guides; multi-select align and distribute;
zoom and pan; the label asked for each new area and the warnings on save; the logo area,
outline, shadow and line spacing; calm placement of a new upload's coupon area; version history
preview and restore; and a whole edit made from the keyboard alone."""

from __future__ import annotations

import io
import random
import re

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from promostack.templates.schema import TemplateMeta
from promostack.templates.store import TemplateStore
from tests.browser.admin_support import (  # noqa: F401 (fixtures)
    background_png,
    leave_the_store_as_found,
    log_in,
    problems,
    seed_template,
    stored,
)
from tests.browser.conftest import SIZES, LiveServer, save_screenshot, tab_for

pytestmark = pytest.mark.browser

W, H = 800, 500
# starter_meta's coupon area on an 800×500 image: 70 % wide, 18 % high, centred.
CODE = (120, 205, 560, 90)


def box(tab, area: str) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    """The box of `area` as the overlay tells assistive technology: (x, y, w, h)."""
    label = tab.get_attribute(f"#overlay .area-box[data-area={area}]", "aria-label")
    x, y, w, h = map(int, re.search(r"x (\d+), y (\d+), (\d+) by (\d+) pixels", label).groups())
    return x, y, w, h


def area_ids(tab) -> list[str]:  # type: ignore[no-untyped-def]
    return tab.eval_on_selector_all("#area-list .area-item", "(items) => items.map((i) => i.dataset.area)")


def screen(tab, x: float, y: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """The screen point of template pixel (x, y)."""
    frame = tab.locator("#overlay").bounding_box()
    return frame["x"] + x * frame["width"] / W, frame["y"] + y * frame["height"] / H


def drag(tab, start: tuple[float, float], end: tuple[float, float], hold_at_end=None) -> None:  # type: ignore[no-untyped-def]
    """Drag from template pixel `start` to `end` (calling `hold_at_end()` before letting go)."""
    tab.locator("#stage").scroll_into_view_if_needed()
    tab.mouse.move(*screen(tab, *start))
    tab.mouse.down()
    middle = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    tab.mouse.move(*screen(tab, *middle), steps=4)
    tab.mouse.move(*screen(tab, *end), steps=4)
    if hold_at_end:
        hold_at_end()
    tab.mouse.up()


def open_editor(tab, live_server: LiveServer, slug: str) -> None:  # type: ignore[no-untyped-def]
    log_in(tab, live_server)
    tab.goto(f"{live_server.url}/admin#/promo/templates/{slug}")
    tab.wait_for_selector("#overlay .area-box[data-area=code]")
    tab.wait_for_function("() => Number(document.getElementById('preview').dataset.drawn) > 1")


def save(tab) -> None:  # type: ignore[no-untyped-def]
    with tab.expect_response(lambda r: r.request.method == "PUT" and "/admin/api/templates/" in r.url) as answer:
        tab.click("#save")
        if tab.locator("#confirm-ok").count():
            tab.click("#confirm-ok")
    assert answer.value.status == 200, answer.value.text()


def seed_with_areas(live_server: LiveServer, slug: str, boxes: dict[str, tuple[int, int, int, int]]) -> None:
    """A template with text areas named and placed as in `boxes` (plus the starter coupon area)."""
    seed_template(live_server, slug, slug.title())
    store = TemplateStore(live_server.runtime.store)
    meta = store.get(slug).model_dump(mode="json")
    for area_id, (x, y, w, h) in boxes.items():
        meta["text_areas"].append(
            {"id": area_id, "label": area_id.title(), "default_text": "Hi", "box": {"x": x, "y": y, "w": w, "h": h}}
        )
    store.save(TemplateMeta.model_validate(meta))


@pytest.mark.parametrize("size", SIZES)
def test_undo_and_redo_step_through_draw_move_resize_style_and_delete(
    size: str, page, phone_page, live_server: LiveServer, problems: list[str]  # type: ignore[no-untyped-def]
) -> None:
    tab = tab_for(size, page, phone_page)
    slug = f"undo-{size}"
    seed_template(live_server, slug, "Undo Check")
    open_editor(tab, live_server, slug)
    drag(tab, (40, 20), (300, 120))  # draw
    tab.fill("#prompt-input", "Promo line")
    tab.click("#prompt-ok")
    tab.wait_for_selector("#overlay .area-box[data-area=promo_line]")
    drawn = box(tab, "promo_line")
    drag(tab, (400, 250), (400, 330))  # move the coupon area down
    moved = box(tab, "code")
    assert moved[1] > CODE[1] + 60
    tab.click("#area-list [data-area=promo_line]")
    handle = tab.locator("#overlay .area-box[data-area=promo_line] .handle.se")
    handle.scroll_into_view_if_needed()
    se = handle.bounding_box()
    tab.mouse.move(se["x"] + se["width"] / 2, se["y"] + se["height"] / 2)
    tab.mouse.down()
    tab.mouse.move(se["x"] + 30, se["y"] + 10, steps=4)
    tab.mouse.up()
    resized = box(tab, "promo_line")
    assert resized[2] > drawn[2]
    tab.fill("#area-color", "#ff0000")  # style
    tab.focus("#overlay .area-box[data-area=promo_line]")
    tab.keyboard.press("Delete")  # delete
    assert area_ids(tab) == ["code"]

    tab.keyboard.press("Control+z")
    assert area_ids(tab) == ["code", "promo_line"] and box(tab, "promo_line") == resized
    tab.click("#area-list [data-area=promo_line]")
    assert tab.input_value("#area-color") == "#ff0000"
    tab.click("#undo")
    assert tab.input_value("#area-color") == "#ffffff"
    tab.click("#undo")
    assert box(tab, "promo_line") == drawn
    tab.keyboard.press("Control+z")
    assert box(tab, "code") == CODE
    tab.keyboard.press("Control+z")
    assert area_ids(tab) == ["code"]
    expect(tab.locator("#undo")).to_be_disabled()

    for _ in range(5):
        tab.keyboard.press("Control+Shift+z")
    assert area_ids(tab) == ["code"] and box(tab, "code") == moved
    tab.keyboard.press("Control+z")  # back to before the delete, then save that
    save(tab)
    meta = stored(live_server, slug)
    assert [a.id for a in meta.text_areas] == ["code", "promo_line"]
    assert meta.area("promo_line").color == "#ff0000"
    assert (meta.area("code").box.x, meta.area("code").box.y) == moved[:2]
    assert problems == []


def test_duplicate_and_layer_order(page, live_server: LiveServer, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    seed_template(live_server, "dup-check", "Dup Check")
    open_editor(page, live_server, "dup-check")
    page.focus("#overlay .area-box[data-area=code]")
    page.keyboard.press("Control+d")
    assert area_ids(page) == ["code", "code_copy"]
    copy = box(page, "code_copy")
    assert copy[2:] == CODE[2:] and copy[:2] != CODE[:2]
    page.click("#layer-down")
    assert area_ids(page) == ["code_copy", "code"]
    page.click("#layer-up")
    page.click("#area-list [data-area=code]")
    page.keyboard.press("Control+]")  # the list item has focus: the shortcut is still the editor's
    assert area_ids(page) == ["code_copy", "code"]
    save(page)  # the copy overlaps the original: saved after the warning is accepted
    meta = stored(live_server, "dup-check")
    assert [a.id for a in meta.text_areas] == ["code_copy", "code"]
    assert meta.area("code_copy").label == "Coupon code copy"
    assert problems == []


def test_dragging_snaps_to_the_image_centre_and_shows_a_guide(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    seed_with_areas(live_server, "snap-check", {"badge": (40, 40, 200, 60)})
    open_editor(page, live_server, "snap-check")
    guides: list[int] = []
    # Centre of the badge is at x 140; drop it 2 px short of the image centre (400).
    drag(page, (140, 70), (398, 70), hold_at_end=lambda: guides.append(page.locator("#overlay .guide-v").count()))
    assert guides == [1]
    assert box(page, "badge")[0] == 400 - 100
    expect(page.locator("#overlay .guide")).to_have_count(0)


@pytest.mark.parametrize("size", SIZES)
def test_multi_select_then_align_and_distribute(
    size: str, page, phone_page, live_server: LiveServer  # type: ignore[no-untyped-def]
) -> None:
    tab = tab_for(size, page, phone_page)
    slug = f"align-{size}"
    seed_with_areas(live_server, slug, {"one": (30, 20, 100, 40), "two": (300, 60, 120, 40), "three": (520, 400, 90, 50)})
    open_editor(tab, live_server, slug)
    tab.click("#area-list [data-area=one]")
    tab.click("#area-list [data-area=two]", modifiers=["Shift"])
    tab.click("#area-list [data-area=three]", modifiers=["Shift"])
    expect(tab.locator("#selection-tools")).to_be_visible()
    tab.click("#align-left")
    assert [box(tab, a)[0] for a in ("one", "two", "three")] == [30, 30, 30]
    tab.click("#distribute-y")
    ys = [box(tab, a) for a in ("one", "two", "three")]
    gaps = [ys[1][1] - (ys[0][1] + ys[0][3]), ys[2][1] - (ys[1][1] + ys[1][3])]
    assert ys[0][1] == 20 and ys[2][1] == 400 and abs(gaps[0] - gaps[1]) <= 1, ys
    save_screenshot(tab, f"admin-editor-align-{size}")


def test_zoom_in_then_drag_and_pan_keep_template_coordinates(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    seed_template(live_server, "zoom-check", "Zoom Check")
    open_editor(page, live_server, "zoom-check")
    fit_width = page.locator("#stage").bounding_box()["width"]
    page.click("#zoom-in")
    page.click("#zoom-in")
    expect(page.locator("#zoom-level")).to_have_text("200%")
    assert page.locator("#stage").bounding_box()["width"] > fit_width * 1.5
    viewport = page.locator("#stage-viewport")
    assert viewport.evaluate("(v) => v.scrollWidth > v.clientWidth")
    # The coupon area's centre is in view after zooming on the middle: drag it 30 px right.
    drag(page, (400, 250), (430, 250))
    assert abs(box(page, "code")[0] - (CODE[0] + 30)) <= 2
    before = viewport.evaluate("(v) => v.scrollLeft")
    page.keyboard.down(" ")
    drag(page, (420, 100), (380, 100))
    page.keyboard.up(" ")
    assert viewport.evaluate("(v) => v.scrollLeft") != before
    assert abs(box(page, "code")[0] - (CODE[0] + 30)) <= 2, "panning moved the area"
    page.click("#zoom-fit")
    expect(page.locator("#zoom-level")).to_have_text("100%")


@pytest.mark.parametrize("size", SIZES)
def test_a_new_area_asks_for_its_label_and_save_warns_on_default_labels_and_overlaps(
    size: str, page, phone_page, live_server: LiveServer, problems: list[str]  # type: ignore[no-untyped-def]
) -> None:
    page = tab_for(size, page, phone_page)
    slug = f"label-{size}"
    seed_template(live_server, slug, "Label Check")
    open_editor(page, live_server, slug)
    drag(page, (40, 20), (300, 120))
    page.click("dialog[open] >> text=Cancel")
    assert area_ids(page) == ["code"], "a cancelled label prompt still added the area"
    drag(page, (40, 20), (300, 120))
    expect(page.locator("#prompt-input")).to_have_value("Headline")
    page.click("#prompt-ok")
    assert area_ids(page) == ["code", "headline"]
    page.fill("#area-label", "Text 2")
    expect(page.locator("#warning-list [data-warning=label]")).to_contain_text("Text 2")
    drag(page, (170, 70), (170, 230))  # onto the coupon area
    expect(page.locator("#warning-list [data-warning=overlap]")).to_contain_text(re.compile("(Text 2 and Coupon code|Coupon code and Text 2) overlap"))
    page.click("#save")
    expect(page.locator("dialog[open]")).to_contain_text("Text 2")
    page.click("dialog[open] >> text=Cancel")
    assert stored(live_server, slug).version == 1
    page.click("#save")
    page.click("#confirm-ok")
    page.wait_for_selector(".toast >> text=Saved")
    assert stored(live_server, slug).area("headline").label == "Text 2"
    assert problems == []


@pytest.mark.parametrize("size", SIZES)
def test_logo_area_outline_shadow_and_line_spacing_reach_the_public_page(
    size: str, page, phone_page, live_server: LiveServer, problems: list[str]  # type: ignore[no-untyped-def]
) -> None:
    tab = tab_for(size, page, phone_page)
    slug = f"logo-{size}"
    seed_template(live_server, slug, "Logo Check", web=True)
    open_editor(tab, live_server, slug)
    tab.click("#add-logo")
    tab.wait_for_selector("#overlay .area-box[data-area=logo_area]")
    tab.select_option("#logo-fit", "cover")
    tab.click("#area-list [data-area=code]")
    tab.fill("#area-stroke_width", "3")
    tab.fill("#area-stroke_color", "#112233")
    tab.check("#area-shadow")
    tab.fill("#area-shadow-dx", "4")
    tab.fill("#area-line_spacing", "1.4")
    save(tab)
    meta = stored(live_server, slug)
    assert meta.logo_area is not None and meta.logo_area.fit == "cover"
    area = meta.area("code")
    assert (area.stroke_width, area.stroke_color, area.line_spacing) == (3, "#112233", 1.4)
    assert area.shadow is not None and (area.shadow.dx, area.shadow.dy) == (4, 2)
    tab.goto(f"{live_server.url}/t/{slug}")
    expect(tab.locator("#logo")).to_be_attached()
    assert problems == []


def busy_centre_png() -> bytes:
    """An 800×500 picture, noisy everywhere but a plain band along the top."""
    rng = random.Random(7)
    picture = Image.new("RGB", (W, H), "#202020")
    draw = ImageDraw.Draw(picture)
    for _ in range(9000):
        x, y = rng.randrange(W), rng.randrange(130, H)
        draw.rectangle([x, y, x + 6, y + 6], fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw.rectangle([0, 0, W, 129], fill="#3050a0")
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("size", SIZES)
def test_a_new_uploads_coupon_area_lands_where_the_image_is_calm(
    size: str, page, phone_page, live_server: LiveServer, tmp_path  # type: ignore[no-untyped-def]
) -> None:
    page = tab_for(size, page, phone_page)
    picture = tmp_path / "busy.png"
    picture.write_bytes(busy_centre_png())
    log_in(page, live_server)
    page.fill("#new-name", f"Calm Check {size}")
    page.set_input_files("#new-image", str(picture))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(f"**/admin#/promo/templates/calm-check-{size}")
    page.wait_for_selector(".toast >> text=calmest")
    x, y, w, h = box(page, "code")
    assert y + h <= 130, (x, y, w, h)
    page.keyboard.press("Control+z")
    assert box(page, "code") == CODE


@pytest.mark.parametrize("size", SIZES)
def test_an_earlier_version_can_be_previewed_then_restored(
    size: str, page, phone_page, live_server: LiveServer, problems: list[str]  # type: ignore[no-untyped-def]
) -> None:
    tab = tab_for(size, page, phone_page)
    slug = f"history-{size}"
    seed_template(live_server, slug, "First Name")
    store = TemplateStore(live_server.runtime.store)
    first = store.get(slug)
    moved = first.area("code").model_copy(update={"box": first.area("code").box.model_copy(update={"y": 20})})
    store.save(first.model_copy(update={"name": "Second Name", "text_areas": [moved]}))
    open_editor(tab, live_server, slug)
    assert box(tab, "code")[1] == 20
    tab.click("#show-versions")
    tab.click("#version-list >> role=button[name='Preview version 1']")
    expect(tab.locator("#version-preview")).to_contain_text("Previewing version 1")
    expect(tab.locator("#overlay")).to_be_hidden()
    save_screenshot(tab, f"admin-editor-version-preview-{size}")
    tab.click("#end-preview")
    expect(tab.locator("#overlay")).to_be_visible()
    tab.click("#version-list >> role=button[name='Restore version 1']")
    tab.click("#confirm-ok")
    tab.wait_for_selector(".toast >> text=Restored version 1 as version 3")
    meta = stored(live_server, slug)
    assert (meta.name, meta.version, meta.area("code").box.y) == ("First Name", 3, CODE[1])
    assert box(tab, "code")[1] == CODE[1]
    expect(tab.locator("#tpl-name")).to_have_value("First Name")
    assert problems == []


def test_a_keyboard_only_session_adds_moves_resizes_and_saves_an_area(
    page, live_server: LiveServer, problems: list[str]  # type: ignore[no-untyped-def]
) -> None:
    seed_template(live_server, "keys-check", "Keys Check")
    open_editor(page, live_server, "keys-check")
    page.focus("#view")
    for _ in range(80):  # Tab through the page to the "+ Text area" tool, as a keyboard user would
        if page.evaluate("() => document.activeElement.id") == "add-area":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "add-area"
    page.keyboard.press("Enter")
    page.keyboard.press("Control+a")
    page.keyboard.type("Offer line")
    page.keyboard.press("Enter")
    page.wait_for_selector("#overlay .area-box[data-area=offer_line]:focus")
    start = box(page, "offer_line")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Alt+ArrowLeft")
    page.keyboard.press("Alt+Shift+ArrowUp")
    # Tab on to the coupon area's box (it selects it) and nudge it too.
    page.focus("#overlay .area-box[data-area=code]")
    expect(page.locator("#overlay .area-box[data-area=code]")).to_have_class(re.compile("selected"))
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Control+s")
    page.wait_for_selector(".toast >> text=Saved")
    meta = stored(live_server, "keys-check")
    got = meta.area("offer_line").box
    assert (got.x, got.y, got.w, got.h) == (start[0] + 10, start[1] + 1, start[2] - 1, start[3] - 10)
    assert meta.area("offer_line").label == "Offer line"
    assert meta.area("code").box.x == CODE[0] - 1
    assert problems == []
