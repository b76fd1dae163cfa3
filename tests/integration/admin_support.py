"""What the admin dashboard's integration tests share: an app on the test database, logged in or not."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from promostack.config import Settings
from tests.conftest import make_settings

PASSWORD = "correct horse battery staple"
SESSION_SECRET = "integration-tests-session-secret-0123456789"
# ADMIN_PASSWORD may be an argon2 hash; a cheap one keeps each log-in in a test at a few
# milliseconds instead of ~170 ms for the default parameters (one test covers a plain password).
PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


def admin_settings(data_dir: Path, db_url: str, **overrides: object) -> Settings:
    """Settings with a known admin password and session secret on `db_url`."""
    values: dict[str, object] = {
        "database_url": db_url,
        "admin_password": PASSWORD_HASH,
        "session_secret": SESSION_SECRET,
    }
    values.update(overrides)
    return make_settings(data_dir, **values)


def csrf_from(html: str) -> str:
    """The CSRF token a page carries (hidden field or meta tag)."""
    found = re.search(r'name="csrf[-_]token" (?:value|content)="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def log_in(client: TestClient, password: str = PASSWORD) -> str:
    """Log `client` in through the form; the CSRF token of the new session."""
    token = csrf_from(client.get("/admin/login").text)
    answer = client.post(
        "/admin/login", data={"password": password, "csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return csrf_from(client.get("/admin").text)


@pytest.fixture
def app_client(tmp_path: Path, db_url: str) -> Iterator[TestClient]:
    """A client of a fresh app on the test database (SQLite, then Postgres), not logged in."""
    from webapp.app import create_app

    with TestClient(create_app(admin_settings(tmp_path, db_url))) as client:
        yield client


@pytest.fixture
def admin(app_client: TestClient) -> Iterator[tuple[TestClient, str]]:
    """A logged-in client and its CSRF token."""
    token = log_in(app_client)
    yield app_client, token
