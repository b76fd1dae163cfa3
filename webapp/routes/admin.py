"""The admin dashboard: log-in and log-out, the dashboard shell, and its JSON API (`admin_api`).

The shell is one page (`/admin`) whose vanilla JS routes between the products' pages by the URL
hash and talks to `/admin/api/`. Pages redirect a visitor without a session to `/admin/login`;
the API answers 401 JSON. The password check is built once at start-up (a lifespan hook), so the
configured password is hashed before the first request; log-in limits and session ends are in
`webapp.auth`.
"""

from __future__ import annotations

import math

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from promostack.errors import RateLimited
from webapp.auth import PasswordCheck, admin_page, count_login_attempt, log_in, log_out, logged_in
from webapp.bodies import read_form
from webapp.context import client_ip, runtime
from webapp.rendering import templates
from webapp.routes import admin_api
from webapp.security import csrf_token

# The log-in form is a password and a CSRF token.
MAX_LOGIN_FORM_BYTES = 8 * 1024


def _login_page(
    request: Request, status: int = 200, error: str = "", headers: dict[str, str] | None = None
) -> Response:
    check: PasswordCheck = request.app.state.admin_password
    context = {"enabled": check.enabled, "error": error, "csrf_token": csrf_token(request.session)}
    return templates.TemplateResponse(
        request, "admin/login.html", context, status_code=status, headers=headers
    )


async def login_form(request: Request) -> Response:
    """The log-in page (or, with no ADMIN_PASSWORD, a page saying how to set one)."""
    if await logged_in(request):
        return RedirectResponse("/admin", status_code=303)
    return _login_page(request)


async def login_submit(request: Request) -> Response:
    """Check the password: log in and go to the dashboard, or say why not.

    The attempt is counted before the password is checked (see `webapp.auth`), so a burst of
    parallel guesses gets no more checks than the limit.
    """
    check: PasswordCheck = request.app.state.admin_password
    if not check.enabled:
        return _login_page(request, status=403)
    try:
        await run_in_threadpool(count_login_attempt, runtime(request), client_ip(request))
    except RateLimited as exc:
        wait = max(1, math.ceil(exc.retry_after_s))
        message = f"Too many log-in attempts. Try again in about {max(1, round(wait / 60))} minute(s)."
        return _login_page(request, status=429, error=message, headers={"Retry-After": str(wait)})
    form = await read_form(request, MAX_LOGIN_FORM_BYTES, max_files=0, max_fields=5)
    password = form.get("password")
    if not isinstance(password, str) or not await run_in_threadpool(check.verify, password):
        return _login_page(request, status=401, error="That password is not right.")
    # A fresh session (and CSRF token) at log-in, so a token planted before it is worthless.
    log_in(request.session, check)
    csrf_token(request.session)
    return RedirectResponse("/admin", status_code=303)


async def logout(request: Request) -> Response:
    """End the session (server-side too: a copied cookie stops working) and go back to the log-in page."""
    await run_in_threadpool(log_out, runtime(request), request.session)
    return RedirectResponse("/admin/login", status_code=303)


@admin_page
async def shell(request: Request) -> Response:
    """The dashboard shell: both sidebars and the page area the JS fills in."""
    settings = runtime(request).settings
    context = {
        "csrf_token": csrf_token(request.session),
        "prefect_ui_url": settings.prefect_ui_url.rstrip("/"),
    }
    return templates.TemplateResponse(request, "admin/shell.html", context)


def routes() -> list[BaseRoute]:
    """The admin routes: pages under /admin, the JSON API under /admin/api/."""
    return [
        Route("/admin", shell, name="admin"),
        Route("/admin/", shell, name="admin_slash"),
        Route("/admin/login", login_form, methods=["GET"], name="admin_login"),
        Route("/admin/login", login_submit, methods=["POST"]),
        Route("/admin/logout", logout, methods=["POST"], name="admin_logout"),
        *admin_api.routes(),
    ]
