"""Demo data for a fresh install: each feature adds its seeder to `SEEDERS`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

from promostack.config import Settings

Seeder = Callable[[Settings], Iterator[str]]



def seed_demo_templates(settings: Settings) -> Iterator[str]:
    """Save each demo template under promostack/templates/demo/ into the store, when absent."""
    from promostack.runtime import build_runtime
    from promostack.templates.demo import DEMO_DIR
    from promostack.templates.store import TemplateStore, load_template_dir

    runtime = build_runtime(settings)
    try:
        templates = TemplateStore(runtime.store)
        for folder in sorted(p for p in DEMO_DIR.iterdir() if (p / "meta.json").is_file()):
            if templates.exists(folder.name):
                yield f"template {folder.name}: already there"
                continue
            meta, image = load_template_dir(folder)
            yield f"template {templates.save(meta, image).slug}: added"
    finally:
        runtime.close()


DEMO_COUPONS: list[dict[str, Any]] = [
    {"code": "WELCOME10", "discount": 10, "description": "demo: welcome offer"},
    {"code": "GOLD25", "discount": 25, "max_uses": 100, "description": "demo: limited to 100 uses"},
    {"code": "BLACK50", "discount": 50, "description": "demo: Black Friday"},
    {"code": "EXPIRED5", "discount": 5, "expires_at": datetime(2024, 1, 1, tzinfo=timezone.utc), "description": "demo: expired"},
]


def seed_demo_coupons(settings: Settings) -> Iterator[str]:
    """Add the demo codes to the local registry, when it is the validator and they are absent."""
    from promostack.coupons import CouponExists, LocalRegistry
    from promostack.runtime import build_runtime

    if settings.coupon_backend != "local":
        yield "coupons: FunderPro validates codes; no demo coupons added"
        return
    runtime = build_runtime(settings)
    try:
        registry = LocalRegistry(runtime.sessions)
        for coupon in DEMO_COUPONS:
            try:
                registry.add(**coupon)
            except CouponExists:
                yield f"coupon {coupon['code']}: already there"
            else:
                yield f"coupon {coupon['code']}: added"
    finally:
        runtime.close()


def seed_demo_campaign(settings: Settings) -> Iterator[str]:
    """Add the live demo campaign (/c/gold-rush) with an overlay per shape, when absent."""
    from promostack.campaigns.demo import seed_demo_campaign as seed_campaign
    from promostack.campaigns.overlays import OverlayStore
    from promostack.runtime import build_runtime

    runtime = build_runtime(settings)
    try:
        yield seed_campaign(runtime.sessions, OverlayStore(runtime.store), datetime.now(timezone.utc))
    finally:
        runtime.close()


# Each seeder is idempotent and yields one line per thing it did or found already there.
SEEDERS: list[Seeder] = [seed_demo_templates, seed_demo_coupons, seed_demo_campaign]


def seed_all(settings: Settings) -> Iterator[str]:
    """Run every seeder in order."""
    if not SEEDERS:
        yield "no demo data to seed yet"
    for seeder in SEEDERS:
        yield from seeder(settings)
