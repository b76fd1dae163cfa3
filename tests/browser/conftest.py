"""The world of the browser tests: a live uvicorn server on a free port, and Debian's Chromium.

The server runs the real app (`create_app`) in a thread with its own runtime: a migrated SQLite
database and a local object store under a temporary folder, a known admin password and session
secret. Tests put data in place through `live_server.runtime` (the very runtime the server uses)
and drive pages with Playwright. `save_screenshot(page, name)` writes
`test-artifacts/screenshots/<name>.png` so people can look at what the browser saw.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette

from promostack.config import Settings
from promostack.db.migrate import upgrade
from promostack.runtime import Runtime
from tests.conftest import make_settings
from tests.fakes.ports import free_port

ADMIN_PASSWORD = "browser-test-password"
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


class _ThreadedServer(uvicorn.Server):
    """A uvicorn server that reports, through an event, when it accepts connections."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
        await super().startup(sockets)
        self.ready.set()


@dataclass
class LiveServer:
    """A running app: its base URL, the app object and the settings it was built with."""

    url: str
    app: Starlette
    settings: Settings

    @property
    def runtime(self) -> Runtime:
        """The runtime the server's requests use (its database and store)."""
        return self.app.state.runtime


@pytest.fixture(scope="session")
def live_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of the live server: migrated SQLite and a local store in a fresh folder."""
    data_dir = tmp_path_factory.mktemp("live")
    db_url = f"sqlite:///{data_dir / 'promostack.db'}"
    upgrade(db_url)
    return make_settings(
        data_dir,
        database_url=db_url,
        admin_password=ADMIN_PASSWORD,
        session_secret="browser-tests-session-secret-0123456789",
        # Every test module logs in from 127.0.0.1 on this one server: the limit itself is
        # tested in tests/security/, not exhausted here.
        login_limit_per_address=1000,
        login_limit_per_account=1000,
    )


@pytest.fixture(scope="session")
def live_server(live_settings: Settings) -> Iterator[LiveServer]:
    """The real app served by uvicorn on a free loopback port for the whole session."""
    from webapp.app import create_app

    app = create_app(live_settings)
    port = free_port()
    server = _ThreadedServer(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="live-uvicorn", daemon=True)
    thread.start()
    if not server.ready.wait(timeout=60):
        server.should_exit = True
        pytest.fail("the live server did not start within 60 s (see the log above)")
    yield LiveServer(url=f"http://127.0.0.1:{port}", app=app, settings=live_settings)
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, driven by Playwright for the browser tests.

    Package-scoped on purpose: Playwright's sync API keeps an event loop running in the main
    thread while it is open, and asyncio tests elsewhere cannot start theirs until it stops.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh browser context (no cookies) at desktop size, and a page in it."""
    context = browser.new_context(viewport=DESKTOP)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def phone_page(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh browser context at phone size (390×844, touch), and a page in it."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    tab = context.new_page()
    yield tab
    context.close()


SIZES = ["desktop", "phone"]


def tab_for(size: str, page, phone_page):  # type: ignore[no-untyped-def]
    """The tab of a test parametrized over SIZES: `page` (1440×900) or `phone_page` (390×844)."""
    return page if size == "desktop" else phone_page


def save_screenshot(page, name: str, full_page: bool = False) -> Path:  # type: ignore[no-untyped-def]
    """The path of a PNG of what `page` shows now, written under test-artifacts/screenshots/."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
