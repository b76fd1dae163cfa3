"""What the public page browser tests share: the demo templates and test coupons, either in the
session's shared live server (`seeded_templates`, idempotent: other tests use that server too)
or in a live server of their own (`public_site`), whose gallery holds the demo templates only —
so its screenshots and template counts do not depend on which other tests ran first."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn

from promostack.config import Settings
from promostack.coupons import CouponExists, LocalRegistry
from promostack.db.migrate import upgrade
from promostack.runtime import Runtime
from promostack.templates.schema import TemplateMeta
from promostack.templates.store import TemplateStore
from tests.browser.conftest import LiveServer, _ThreadedServer
from tests.conftest import make_settings
from tests.fakes.ports import free_port
from tests.integration.public_world import EXPIRED_CODE, VALID_CODE, demo_templates

__all__ = [
    "EXPIRED_CODE",
    "VALID_CODE",
    "PublicSite",
    "demo_slugs",
    "public_site",
    "running_site",
    "seeded_templates",
    "site_settings",
]

Seeded = dict[str, tuple[TemplateMeta, bytes]]


def demo_slugs() -> list[str]:
    """The slugs of the shipped demo templates."""
    return [meta.slug for meta, _ in demo_templates()]


def seed(runtime: Runtime) -> Seeded:
    """The demo templates (stored meta and background) and the test coupons, put in `runtime`
    unless already there."""
    store = TemplateStore(runtime.store)
    seeded = {}
    for meta, image in demo_templates():
        stored = store.get(meta.slug) if store.exists(meta.slug) else store.save(meta, image)
        seeded[meta.slug] = (stored, image)
    registry = LocalRegistry(runtime.sessions)
    for code, expires in ((VALID_CODE, None), (EXPIRED_CODE, datetime.now(UTC) - timedelta(days=1))):
        try:
            registry.add(code, discount=10, expires_at=expires)
        except CouponExists:
            pass
    return seeded


@pytest.fixture(scope="session")
def seeded_templates(live_server: LiveServer) -> Seeded:
    """The demo templates and the test coupons in the session's shared live server."""
    return seed(live_server.runtime)


@dataclass
class PublicSite:
    """A live server of the public tests' own, and the demo templates it serves."""

    server: LiveServer
    templates: Seeded

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.server.url

    @property
    def runtime(self) -> Runtime:
        """The runtime the server's requests use."""
        return self.server.runtime


@contextmanager
def running_site(settings: Settings) -> Iterator[PublicSite]:
    """The real app built from `settings` on its own loopback port, holding the demo templates."""
    from webapp.app import create_app

    app = create_app(settings)
    server = _ThreadedServer(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, name="public-uvicorn", daemon=True)
    thread.start()
    if not server.ready.wait(timeout=60):
        server.should_exit = True
        pytest.fail("the public test server did not start within 60 s")
    live = LiveServer(url=f"http://127.0.0.1:{server.config.port}", app=app, settings=settings)
    try:
        yield PublicSite(server=live, templates=seed(live.runtime))
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def site_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings on a freshly migrated SQLite database under `data_dir`."""
    db_url = f"sqlite:///{data_dir / 'promostack.db'}"
    upgrade(db_url)
    return make_settings(data_dir, database_url=db_url, **overrides)


@pytest.fixture(scope="session")
def public_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicSite]:
    """The real app on its own loopback port and SQLite database, holding the demo templates."""
    with running_site(site_settings(tmp_path_factory.mktemp("public-live"))) as site:
        yield site
