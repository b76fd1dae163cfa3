"""The admin dashboard: log-in and log-out, the dashboard shell, and its JSON API (`admin_api`).

The shell is one page (`/admin`) whose vanilla JS routes between the products' pages by the URL
hash and talks to `/admin/api/`. Pages redirect a visitor without a session to `/admin/login`;
the API answers 401 JSON. The password check and the rate limiter are built once at start-up
(a lifespan hook), so the configured password is hashed before the first request.
"""

from __future__ import annotations


from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from webapp.auth import LoginLimiter, PasswordCheck, admin_page, is_admin, log_in, log_out
from webapp.context import client_ip, runtime
from webapp.rendering import templates
from webapp.routes import admin_api
from webapp.security import csrf_token


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
    if is_admin(request.session, runtime(request).settings.session_max_age_s):
        return RedirectResponse("/admin", status_code=303)
    return _login_page(request)


async def login_submit(request: Request) -> Response:
    """Check the password: log in and go to the dashboard, or say why not."""
    check: PasswordCheck = request.app.state.admin_password
    if not check.enabled:
        return _login_page(request, status=403)
    limiter: LoginLimiter = request.app.state.login_limiter
    client = client_ip(request)
    wait = await run_in_threadpool(limiter.retry_after, client)
    if wait is not None:
        minutes = max(1, round(wait / 60))
        message = f"Too many failed attempts from your address. Try again in about {minutes} minute(s)."
        return _login_page(request, status=429, error=message, headers={"Retry-After": str(wait)})
    form = await request.form()
    password = form.get("password")
    if not isinstance(password, str) or not await run_in_threadpool(check.verify, password):
        await run_in_threadpool(limiter.record_failure, client)
        return _login_page(request, status=401, error="That password is not right.")
    await run_in_threadpool(limiter.clear, client)
    # A fresh session (and CSRF token) at log-in, so a token planted before it is worthless.
    request.session.clear()
    log_in(request.session)
    csrf_token(request.session)
    return RedirectResponse("/admin", status_code=303)


async def logout(request: Request) -> Response:
    """Forget the session and go back to the log-in page."""
    log_out(request.session)
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
