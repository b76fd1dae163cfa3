"""The instance under attack: the real app with an admin password, the demo templates, a valid
and an expired coupon, and Stripe webhooks configured; on SQLite, then on Postgres."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from promostack.config import Settings
from promostack.coupons import LocalRegistry
from promostack.runtime import Runtime, build_runtime
from tests.integration.admin_support import admin_settings, log_in
from tests.integration.public_world import EXPIRED_CODE, VALID_CODE, seed_templates
from webapp.app import create_app

STRIPE_SECRET = "whsec_security_suite"


@dataclass
class Instance:
    """A fresh instance: its settings, the runtime holding its data, and a way to reach it."""

    settings: Settings
    runtime: Runtime

    def client(self, address: str = "203.0.113.7") -> TestClient:
        """A client of a new app on this instance, calling from `address` (use it in a `with`)."""
        return TestClient(create_app(self.settings), client=(address, 50000))

    def admin(self, client: TestClient) -> str:
        """Log `client` in; the CSRF token of its session."""
        return log_in(client)


@pytest.fixture
def instance(tmp_path: Path, db_url: str) -> Iterator[Instance]:
    """A fresh instance on the test database (SQLite, then Postgres)."""
    settings = admin_settings(tmp_path, db_url, stripe_webhook_secret=STRIPE_SECRET, coupon_validator="local")
    runtime = build_runtime(settings)
    seed_templates(runtime)
    registry = LocalRegistry(runtime.sessions)
    registry.add(VALID_CODE, discount=10)
    registry.add(EXPIRED_CODE, expires_at=datetime.now(UTC) - timedelta(days=1))
    yield Instance(settings, runtime)
    runtime.close()


@pytest.fixture
def site(instance: Instance) -> Iterator[TestClient]:
    """A client of the instance, not logged in."""
    with instance.client() as client:
        yield client
