"""Sessions: guessing the password, keeping a session after it ended, reading it from a cache."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from pydantic import SecretStr
from starlette.testclient import TestClient

from tests.integration.admin_support import csrf_from, log_in
from tests.security.conftest import Instance
from webapp.app import create_app
from promostack.config import Settings
from webapp.auth import login_limits

# The defaults an instance runs with unless LOGIN_LIMIT_* say otherwise.
LOGIN_LIMIT_PER_ADDRESS, LOGIN_LIMIT_PER_ACCOUNT = login_limits(Settings(_env_file=None))  # type: ignore[call-arg]
from webapp.security import SESSION_COOKIE


def _guess(client: TestClient, token: str) -> int:
    return client.post("/admin/login", data={"password": "guess", "csrf_token": token}).status_code


def test_thirty_parallel_guesses_from_one_address_get_at_most_the_limit_checked(instance: Instance) -> None:
    with instance.client() as client:
        token = csrf_from(client.get("/admin/login").text)
        with ThreadPoolExecutor(max_workers=30) as pool:
            answers = list(pool.map(lambda _: _guess(client, token), range(30)))
    assert answers.count(401) <= LOGIN_LIMIT_PER_ADDRESS.limit
    assert answers.count(429) >= 30 - LOGIN_LIMIT_PER_ADDRESS.limit


def test_guesses_spread_over_many_addresses_stop_at_the_account_limit_for_a_while(instance: Instance) -> None:
    app = create_app(instance.settings)
    with TestClient(app):  # runs the app's start-up once; the clients below share it
        answers = []
        for n in range(LOGIN_LIMIT_PER_ACCOUNT.limit + 3):
            client = TestClient(app, client=(f"198.51.100.{n}", 50000))
            answers.append(client.post("/admin/login", data={
                "password": "guess", "csrf_token": csrf_from(client.get("/admin/login").text)}))
    assert [a.status_code for a in answers].count(401) == LOGIN_LIMIT_PER_ACCOUNT.limit
    refused = answers[-1]
    # Refused for the rest of the window only: the owner is delayed, never locked out for good.
    assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= LOGIN_LIMIT_PER_ACCOUNT.window_s


def test_a_cookie_copied_before_log_out_no_longer_works_anywhere(instance: Instance) -> None:
    with instance.client() as owner:
        token = log_in(owner)
        copied = owner.cookies.get(SESSION_COOKIE)
        assert owner.post("/admin/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    # Another web instance, another address: the copy is still refused.
    with instance.client("192.0.2.99") as thief:
        thief.cookies.set(SESSION_COOKIE, copied)
        assert thief.get("/admin/api/templates").status_code == 401
        assert thief.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"


def test_changing_the_admin_password_ends_every_session(instance: Instance) -> None:
    with instance.client() as owner:
        log_in(owner)
        copied = owner.cookies.get(SESSION_COOKIE)
        assert owner.get("/admin/api/templates").status_code == 200
    new_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("a new password")
    changed = instance.settings.model_copy(update={"admin_password": SecretStr(new_hash)})
    with TestClient(create_app(changed)) as after:
        after.cookies.set(SESSION_COOKIE, copied)
        assert after.get("/admin/api/templates").status_code == 401


def test_admin_pages_json_and_the_login_page_are_never_cached(instance: Instance) -> None:
    with instance.client() as client:
        assert client.get("/admin/login").headers["cache-control"] == "no-store"
        log_in(client)
        assert client.get("/admin").headers["cache-control"] == "no-store"
        assert client.get("/admin/api/templates").headers["cache-control"] == "no-store"
        refused = client.post("/admin/api/coupons", json={"code": "X"})  # no CSRF header
        assert refused.status_code == 403 and refused.headers["cache-control"] == "no-store"
        # The control: public pages may be cached as they say.
        assert client.get("/").headers.get("cache-control") != "no-store"
