"""The world of the public API and page tests: templates in the store, coupons in the registry,
and a TestClient on the real app built from the same settings.

Fixtures are imported by the test modules that use them (`from tests.integration.public_world
import ...`), so only those modules pay for them.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from starlette.testclient import TestClient

from promostack.coupons import LocalRegistry
from promostack.runtime import Runtime
from promostack.templates.demo import DEMO_DIR
from promostack.templates.schema import TemplateMeta
from promostack.templates.store import TemplateStore, load_template_dir

VALID_CODE = "WELCOME10"
EXPIRED_CODE = "OLDNEWS"


def demo_templates() -> list[tuple[TemplateMeta, bytes]]:
    """Every demo template shipped under promostack/templates/demo/ (meta and image)."""
    return [load_template_dir(folder) for folder in sorted(DEMO_DIR.iterdir()) if (folder / "meta.json").is_file()]


def hidden_template() -> tuple[TemplateMeta, bytes]:
    """A small template that is not shown on the web (Telegram only)."""
    image = Image.new("RGB", (320, 160), (30, 60, 90))
    out = io.BytesIO()
    image.save(out, "PNG")
    meta = TemplateMeta.model_validate(
        {
            "slug": "bot-only",
            "name": "Bot only",
            "image_key": "templates/bot-only/background.png",
            "width": 320,
            "height": 160,
            "text_areas": [{"id": "code", "source": "coupon", "box": {"x": 10, "y": 40, "w": 300, "h": 80}}],
            "visibility": {"web": False, "telegram": True},
        }
    )
    return meta, out.getvalue()


def seed_templates(runtime: Runtime) -> list[TemplateMeta]:
    """The demo templates plus a hidden one, saved into `runtime`'s store; the stored metas."""
    store = TemplateStore(runtime.store)
    return [store.save(meta, image) for meta, image in [*demo_templates(), hidden_template()]]


@dataclass
class PublicWorld:
    """A client on the app, the runtime holding its data, and the demo templates it serves."""

    client: TestClient
    runtime: Runtime
    templates: list[TemplateMeta]

    def template(self, slug: str) -> TemplateMeta:
        """The stored meta of `slug`."""
        return next(t for t in self.templates if t.slug == slug)


def open_world(runtime: Runtime) -> Iterator[PublicWorld]:
    """Templates and coupons in `runtime`, and a client on an app built from its settings."""
    from webapp.app import create_app

    metas = seed_templates(runtime)
    registry = LocalRegistry(runtime.sessions)
    registry.add(VALID_CODE, discount=10)
    registry.add(EXPIRED_CODE, expires_at=datetime.now(UTC) - timedelta(days=1))
    with TestClient(create_app(runtime.settings)) as client:
        yield PublicWorld(client=client, runtime=runtime, templates=metas)


@pytest.fixture
def world(runtime: Runtime) -> Iterator[PublicWorld]:
    """The public world on the test database (SQLite, then Postgres) and a local store."""
    yield from open_world(runtime)
