"""Security headers on every response, and CSRF on every state-changing admin request."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.integration.admin_support import admin, app_client, csrf_from, log_in  # noqa: F401 (fixtures)


def _directives(csp: str) -> dict[str, str]:
    return {
        part.split(" ", 1)[0]: part.partition(" ")[2] for part in (p.strip() for p in csp.split(";")) if part
    }


def test_every_kind_of_response_carries_the_security_headers(app_client: TestClient) -> None:
    answers = [
        app_client.get("/"),
        app_client.get("/admin/login"),
        app_client.get("/admin", follow_redirects=False),
        app_client.get("/admin/api/templates"),
        app_client.get("/no/such/page"),
        app_client.get("/static/admin/admin.css"),
    ]
    for answer in answers:
        headers = answer.headers
        assert headers["x-frame-options"] == "DENY", answer.url
        assert headers["x-content-type-options"] == "nosniff", answer.url
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin", answer.url
        csp = _directives(headers["content-security-policy"])
        assert csp["script-src"] == "'self'", answer.url
        assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'", answer.url
        assert "unsafe-inline" not in csp["default-src"] + csp["script-src"] + csp["style-src"], answer.url


def test_admin_pages_have_no_inline_scripts(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    for path in ("/admin", "/admin/login"):
        html = client.get(path).text
        # Every <script> tag loads a file: inline code would be blocked by the CSP anyway.
        for tag in html.split("<script")[1:]:
            assert "src=" in tag.split(">", 1)[0]


def test_json_post_without_csrf_token_is_refused_and_changes_nothing(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    answer = client.post("/admin/api/coupons", json={"code": "NOTOKEN"})
    assert answer.status_code == 403 and "CSRF token is missing" in answer.json()["message"]
    assert client.get("/admin/api/coupons").json()["coupons"] == []


def test_json_post_with_a_wrong_csrf_token_is_refused_and_changes_nothing(
    admin: tuple[TestClient, str],
) -> None:
    client, token = admin
    answer = client.post("/admin/api/coupons", json={"code": "WRONG"}, headers={"X-CSRF-Token": token + "x"})
    assert answer.status_code == 403 and "does not match" in answer.json()["message"]
    assert client.get("/admin/api/coupons").json()["coupons"] == []


def test_json_post_with_the_right_csrf_token_goes_through(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    answer = client.post("/admin/api/coupons", json={"code": "RIGHT10"}, headers={"X-CSRF-Token": token})
    assert answer.status_code == 201
    assert [c["code"] for c in client.get("/admin/api/coupons").json()["coupons"]] == ["RIGHT10"]


def test_a_token_from_another_session_is_refused(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    other_token = log_in(TestClient(client.app))  # another browser on the same app
    answer = client.post("/admin/api/coupons", json={"code": "STOLEN"}, headers={"X-CSRF-Token": other_token})
    assert answer.status_code == 403
    assert client.get("/admin/api/coupons").json()["coupons"] == []


def test_form_logout_with_a_wrong_token_keeps_the_session(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    answer = client.post("/admin/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert answer.status_code == 403
    assert client.get("/admin/api/templates").status_code == 200


def test_login_form_without_token_is_refused(app_client: TestClient) -> None:
    from tests.integration.admin_support import PASSWORD

    app_client.get("/admin/login")
    answer = app_client.post("/admin/login", data={"password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 403
    assert app_client.get("/admin/api/templates").status_code == 401


def test_csrf_does_not_apply_outside_the_admin(app_client: TestClient) -> None:
    # The public API is not cookie-authenticated, so it needs no token (and must not demand one).
    answer = app_client.post("/api/coupons/validate", json={"code": "ANY"})
    assert answer.status_code != 403
