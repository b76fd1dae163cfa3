"""Admin log-in: password check, rate limit, session expiry, forged cookies, log-out."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import itsdangerous
import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from pydantic import SecretStr

from tests.integration.admin_support import (  # noqa: F401 (fixtures)
    PASSWORD,
    PASSWORD_HASH,
    SESSION_SECRET,
    admin,
    admin_settings,
    app_client,
    csrf_from,
    log_in,
)
from webapp.app import create_app
from webapp.auth import PasswordCheck
from webapp.security import SESSION_COOKIE


def _session(logged_in_at: int) -> dict[str, object]:
    """What a log-in puts in the session: the time, a session id, the password's fingerprint."""
    fingerprint = PasswordCheck(SecretStr(PASSWORD_HASH), SESSION_SECRET).fingerprint
    return {"admin_auth_at": logged_in_at, "sid": "a-session-id", "pw": fingerprint, "csrf": "t"}


def _signed_cookie(
    payload: dict[str, object], secret: str = SESSION_SECRET, signed_at: float | None = None
) -> str:
    """A session cookie value like Starlette's, signed with `secret` at time `signed_at`."""

    class _Signer(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return int(signed_at if signed_at is not None else time.time())

    return _Signer(secret).sign(base64.b64encode(json.dumps(payload).encode())).decode()


def test_dashboard_redirects_a_visitor_to_the_login_page(app_client: TestClient) -> None:
    answer = app_client.get("/admin", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/login"


def test_admin_api_answers_401_json_without_a_session(app_client: TestClient) -> None:
    answer = app_client.get("/admin/api/templates")
    assert answer.status_code == 401 and "log in" in answer.json()["message"]


def test_every_admin_route_refuses_a_visitor(app_client: TestClient) -> None:
    from webapp.routes import admin as admin_routes

    token = csrf_from(app_client.get("/admin/login").text)  # an anonymous session has a token too
    for route in admin_routes.routes():
        path = route.path.replace("{slug}", "demo").replace("{code}", "SAVE10")
        if path in {"/admin/login", "/admin/logout"}:
            continue
        for method in route.methods or ["GET"]:
            if method == "HEAD":
                continue
            answer = app_client.request(method, path, headers={"X-CSRF-Token": token}, follow_redirects=False)
            if path.startswith("/admin/api/"):
                assert answer.status_code == 401, (method, path, answer.status_code)
            else:
                assert answer.status_code == 303, (method, path, answer.status_code)


def test_right_password_logs_in_and_wrong_one_does_not(app_client: TestClient) -> None:
    token = csrf_from(app_client.get("/admin/login").text)
    wrong = app_client.post("/admin/login", data={"password": "nope", "csrf_token": token})
    assert wrong.status_code == 401 and "not right" in wrong.text
    assert app_client.get("/admin/api/templates").status_code == 401

    right = app_client.post(
        "/admin/login", data={"password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert right.status_code == 303 and right.headers["location"] == "/admin"
    assert app_client.get("/admin/api/templates").status_code == 200
    assert 'class="rail"' in app_client.get("/admin").text


def test_login_renews_the_csrf_token(app_client: TestClient) -> None:
    before = csrf_from(app_client.get("/admin/login").text)
    after = log_in(app_client)
    assert after != before


def test_session_cookie_is_httponly_samesite_lax(app_client: TestClient) -> None:
    answer = app_client.get("/admin/login")
    cookie = answer.headers["set-cookie"].lower()
    assert cookie.startswith(SESSION_COOKIE) and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http BASE_URL


def test_session_cookie_is_secure_when_base_url_is_https(tmp_path: Path, db_url: str) -> None:
    settings = admin_settings(tmp_path, db_url, base_url="https://promo.example.com")
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        cookie = client.get("/admin/login").headers["set-cookie"].lower()
        assert "secure" in cookie
        assert "max-age=31536000" in client.get("/admin/login").headers["strict-transport-security"]


def test_five_failures_then_429_with_retry_after_even_for_the_right_password(app_client: TestClient) -> None:
    token = csrf_from(app_client.get("/admin/login").text)
    for _ in range(5):
        assert (
            app_client.post("/admin/login", data={"password": "guess", "csrf_token": token}).status_code
            == 401
        )
    blocked = app_client.post("/admin/login", data={"password": PASSWORD, "csrf_token": token})
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= 15 * 60
    assert "Too many log-in attempts" in blocked.text
    assert app_client.get("/admin/api/templates").status_code == 401


def test_rate_limit_is_shared_by_every_instance_on_the_database(tmp_path: Path, db_url: str) -> None:
    first = TestClient(create_app(admin_settings(tmp_path / "a", db_url)))
    second = TestClient(create_app(admin_settings(tmp_path / "b", db_url)))
    with first, second:
        token = csrf_from(first.get("/admin/login").text)
        for _ in range(5):
            first.post("/admin/login", data={"password": "guess", "csrf_token": token})
        other_token = csrf_from(second.get("/admin/login").text)
        answer = second.post("/admin/login", data={"password": PASSWORD, "csrf_token": other_token})
        assert answer.status_code == 429


def test_the_owner_gets_in_after_a_few_typos(app_client: TestClient) -> None:
    token = csrf_from(app_client.get("/admin/login").text)
    for _ in range(4):
        app_client.post("/admin/login", data={"password": "guess", "csrf_token": token})
    log_in(app_client)
    assert app_client.get("/admin/api/templates").status_code == 200


def test_logout_ends_the_session(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    answer = client.post("/admin/logout", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/login"
    assert client.get("/admin/api/templates").status_code == 401


def test_expired_cookie_is_not_logged_in(app_client: TestClient) -> None:
    eight_hours_ago = time.time() - 8 * 3600 - 5
    payload = _session(int(eight_hours_ago))
    app_client.cookies.set(SESSION_COOKIE, _signed_cookie(payload, signed_at=eight_hours_ago))
    assert app_client.get("/admin/api/templates").status_code == 401


def test_freshly_signed_cookie_of_an_old_login_is_not_logged_in(app_client: TestClient) -> None:
    payload = _session(int(time.time() - 8 * 3600 - 5))
    app_client.cookies.set(SESSION_COOKIE, _signed_cookie(payload))
    assert app_client.get("/admin/api/templates").status_code == 401


def test_a_cookie_signed_with_our_secret_now_is_logged_in(app_client: TestClient) -> None:
    # The control for the two tests above: the same cookie, current, is accepted.
    app_client.cookies.set(SESSION_COOKIE, _signed_cookie(_session(int(time.time()))))
    assert app_client.get("/admin/api/templates").status_code == 200


def test_forged_cookie_is_just_not_logged_in(app_client: TestClient) -> None:
    forged = _signed_cookie(_session(int(time.time())), secret="someone-elses-secret")
    app_client.cookies.set(SESSION_COOKIE, forged)
    assert app_client.get("/admin/api/templates").status_code == 401
    assert app_client.get("/admin", follow_redirects=False).status_code == 303


def test_tampered_cookie_is_just_not_logged_in(app_client: TestClient) -> None:
    genuine = _signed_cookie(_session(1))
    payload, rest = genuine.split(".", 1)
    forged_payload = base64.b64encode(json.dumps(_session(int(time.time()))).encode()).decode()
    app_client.cookies.set(SESSION_COOKIE, f"{forged_payload}.{rest}")
    assert app_client.get("/admin/api/templates").status_code == 401


def test_garbage_cookie_is_just_not_logged_in(app_client: TestClient) -> None:
    app_client.cookies.set(SESSION_COOKIE, "%%%not-a-cookie%%%")
    assert app_client.get("/admin/login").status_code == 200
    assert app_client.get("/admin/api/templates").status_code == 401


def test_without_admin_password_login_is_disabled_and_says_how_to_enable(tmp_path: Path, db_url: str) -> None:
    with TestClient(create_app(admin_settings(tmp_path, db_url, admin_password=None))) as client:
        page = client.get("/admin/login")
        assert page.status_code == 200 and "ADMIN_PASSWORD" in page.text and "Log-in is disabled" in page.text
        answer = client.post("/admin/login", data={"password": "", "csrf_token": csrf_from(page.text)})
        assert answer.status_code == 403 and "Log-in is disabled" in answer.text
        assert client.get("/admin/api/templates").status_code == 401


def test_a_plain_admin_password_is_hashed_at_start_up_and_accepted(tmp_path: Path, db_url: str) -> None:
    with TestClient(
        create_app(admin_settings(tmp_path, db_url, admin_password="plain-text-passphrase"))
    ) as client:
        assert client.app.state.admin_password.hash.startswith("$argon2id$")
        log_in(client, "plain-text-passphrase")
        assert client.get("/admin/api/templates").status_code == 200


def test_a_broken_argon2_hash_stops_the_app_at_start_up(tmp_path: Path, db_url: str) -> None:
    with pytest.raises(ValueError, match="not a valid argon2 hash"):
        with TestClient(create_app(admin_settings(tmp_path, db_url, admin_password="$argon2id$garbage"))):
            pass


def test_an_argon2_hash_as_admin_password_accepts_the_plain_password(tmp_path: Path, db_url: str) -> None:
    hashed = PasswordHasher().hash("from-a-hash")
    with TestClient(create_app(admin_settings(tmp_path, db_url, admin_password=hashed))) as client:
        log_in(client, "from-a-hash")
        assert client.get("/admin/api/templates").status_code == 200


def test_without_session_secret_a_generated_key_keeps_sessions_across_restarts(
    tmp_path: Path, db_url: str
) -> None:
    settings = admin_settings(tmp_path, db_url, session_secret=None)
    with TestClient(create_app(settings)) as before_restart:
        log_in(before_restart)
        cookie = before_restart.cookies[SESSION_COOKIE]
    key_file = tmp_path / "session_secret"
    assert key_file.stat().st_mode & 0o777 == 0o600 and len(key_file.read_text()) >= 48
    with TestClient(create_app(settings)) as after_restart:
        after_restart.cookies.set(SESSION_COOKIE, cookie)
        assert after_restart.get("/admin/api/templates").status_code == 200
    # Another machine (another data dir, another generated key) does not accept the cookie.
    with TestClient(create_app(admin_settings(tmp_path / "other", db_url, session_secret=None))) as elsewhere:
        elsewhere.cookies.set(SESSION_COOKIE, cookie)
        assert elsewhere.get("/admin/api/templates").status_code == 401
