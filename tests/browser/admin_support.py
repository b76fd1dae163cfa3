"""What the admin browser tests share: seeding templates in the live server, logging in, the
store clean-up after each test, and the list of problems (JS errors, failed requests) a page hit."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image, ImageDraw

from promostack.templates.store import TemplateStore
from tests.browser.conftest import ADMIN_PASSWORD, LiveServer
from webapp.routes.admin_templates import starter_meta

__all__ = [
    "ADMIN_PAGES",
    "background_png",
    "leave_the_store_as_found",
    "log_in",
    "log_in_with_password",
    "problems",
    "seed_template",
    "stored",
]


def background_png(width: int, height: int) -> bytes:
    """A template background with something to look at: a gradient and a band."""
    picture = Image.new("RGB", (width, height), "#1b1440")
    draw = ImageDraw.Draw(picture)
    for y in range(height):
        shade = int(40 + 120 * y / height)
        draw.line([(0, y), (width, y)], fill=(shade // 2, 20 + shade // 3, shade))
    draw.rounded_rectangle(
        [width // 10, height // 3, width * 9 // 10, height * 2 // 3], radius=24, fill="#f4b400"
    )
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def seed_template(
    live_server: LiveServer, slug: str, name: str, width: int = 800, height: int = 500, web: bool = False
) -> None:
    """Put a template in the live server's store, as an upload would."""
    meta = starter_meta(slug, name, f"templates/{slug}/background.png", width, height)
    meta = meta.model_copy(update={"visibility": meta.visibility.model_copy(update={"web": web})})
    TemplateStore(live_server.runtime.store).save(meta, background_png(width, height))


def stored(live_server: LiveServer, slug: str):  # type: ignore[no-untyped-def]
    return TemplateStore(live_server.runtime.store).get(slug)


@pytest.fixture(autouse=True)
def leave_the_store_as_found(live_server: LiveServer) -> Iterator[None]:
    """Delete the templates a test made: the live server (and its gallery) is shared by the session."""
    store = TemplateStore(live_server.runtime.store)
    before = set(store.slugs())
    yield
    for slug in set(store.slugs()) - before:
        store.delete(slug)


@pytest.fixture
def problems(page) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """JS errors, console errors (CSP refusals among them) and failed requests the page hit."""
    found: list[str] = []
    page.on("pageerror", lambda exc: found.append(f"pageerror: {exc}"))
    # "Failed to load resource" repeats a failed response, which is recorded with its URL below.
    page.on(
        "console",
        lambda msg: found.append(f"console: {msg.text}")
        if msg.type == "error" and not msg.text.startswith("Failed to load resource")
        else None,
    )
    page.on(
        "response",
        lambda r: found.append(f"{r.status} {r.request.method} {r.url}") if r.status >= 400 else None,
    )
    yield found


# Every dashboard page, with the selector that says it has loaded (shared by the screenshots
# and the accessibility audit, so a new page is added once).
ADMIN_PAGES = [
    ("templates", "#/promo/templates", "#template-list"),
    ("editor", "#/promo/templates/summer-sale", "#overlay .area-box"),
    ("coupons", "#/promo/coupons", "#coupon-table"),
    ("runs", "#/ops/runs", "#runs-table, #prefect-down, .empty"),
    ("signals", "#/signals", "#signals-table, .empty"),
    ("campaigns", "#/campaigns", ".page-head h1"),
    ("broadcasts", "#/broadcasts", ".page-head h1"),
    ("analytics", "#/analytics", ".page-head h1"),
    ("revenue", "#/revenue", ".page-head h1"),
]

# The session cookie of one log-in per live server, shared by the tests: the server counts every
# log-in attempt per address (5 per 15 minutes), and a browser test suite logs in far more often.
_SESSIONS: dict[str, list[dict]] = {}


def log_in_with_password(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    """Log `page` in through the log-in form (one counted attempt)."""
    page.goto(f"{live_server.url}/admin")
    page.wait_for_url("**/admin/login")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#rail")


def log_in(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    """`page` on the dashboard with an admin session: the form once per server, its cookie after."""
    cookies = _SESSIONS.get(live_server.url)
    if cookies is None:
        log_in_with_password(page, live_server)
        _SESSIONS[live_server.url] = page.context.cookies()
        return
    page.context.add_cookies(cookies)
    page.goto(f"{live_server.url}/admin")
    page.wait_for_selector("#rail")
