"""What the public page browser tests share: the demo templates and coupons put into the live
server's runtime (idempotently: the server lives for the whole session, other tests use it too)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from promostack.coupons import CouponExists, LocalRegistry
from promostack.templates.schema import TemplateMeta
from promostack.templates.store import TemplateStore
from tests.integration.public_world import EXPIRED_CODE, VALID_CODE, demo_templates

__all__ = ["EXPIRED_CODE", "VALID_CODE", "demo_slugs", "seeded_templates"]


def demo_slugs() -> list[str]:
    """The slugs of the shipped demo templates."""
    return [meta.slug for meta, _ in demo_templates()]


@pytest.fixture(scope="session")
def seeded_templates(live_server) -> dict[str, tuple[TemplateMeta, bytes]]:  # type: ignore[no-untyped-def]
    """The demo templates (stored meta and background) and the test coupons in the live server."""
    runtime = live_server.runtime
    store = TemplateStore(runtime.store)
    seeded = {}
    for meta, image in demo_templates():
        stored = store.get(meta.slug) if store.exists(meta.slug) else store.save(meta, image)
        seeded[meta.slug] = (stored, image)
    registry = LocalRegistry(runtime.sessions)
    for code, expires in ((VALID_CODE, None), (EXPIRED_CODE, datetime.now(timezone.utc) - timedelta(days=1))):
        try:
            registry.add(code, discount=10, expires_at=expires)
        except CouponExists:
            pass
    return seeded
