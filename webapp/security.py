"""Middleware: security headers on every response, signed session cookies, CSRF on the admin.

Outermost first: `SecurityHeaders` (so even a 403 from the CSRF check carries the headers; every
answer under `/admin` — pages, JSON, the log-in page — also gets `Cache-Control: no-store`),
Starlette's `SessionMiddleware` (a stateless HMAC-signed cookie; a forged or tampered cookie is
just an empty session), then `CSRFProtect`, which refuses any state-changing request under
`/admin` whose token does not match the one kept in the session. Its refusals use the app's one
error dialect (`webapp.errors`) and the one body reader (`webapp.bodies`).
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from promostack.config import Settings
from webapp.bodies import read_receive, replay
from webapp.errors import WebError, error_body, wants_html

SESSION_COOKIE = "promostack_session"
CSRF_SESSION_KEY = "csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
CSRF_PREFIX = "/admin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# A urlencoded admin form is a few fields; anything bigger is not one of ours.
MAX_FORM_BYTES = 64 * 1024
SECRET_FILE = "session_secret"


def session_secret(settings: Settings) -> str:
    """The key that signs session cookies: `SESSION_SECRET`, else one kept under `data_dir`.

    The generated key is written once (mode 0600) so restarts keep people logged in; several
    web instances must share `SESSION_SECRET` instead, since each would generate its own.
    """
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    path = Path(settings.data_dir) / SECRET_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: if two processes start together, one writes and both then read the same key.
    try:
        with open(path, "x", encoding="utf-8", opener=_open_private) as handle:
            handle.write(key)
    except FileExistsError:
        pass
    return path.read_text(encoding="utf-8").strip()


def _open_private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def csrf_token(session: dict[str, object]) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return token


def uses_https(settings: Settings) -> bool:
    """True when the app is served over https (cookies then get the Secure flag, HSTS is sent)."""
    return settings.base_url.lower().startswith("https://")


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy(settings: Settings) -> str:
    """The CSP header: scripts only from our origin, no framing, images also from the store."""
    store_origins = sorted(
        {o for o in (_origin(settings.spaces_cdn_base_url), _origin(settings.spaces_endpoint_url)) if o}
    )
    if settings.spaces_bucket and not settings.spaces_endpoint_url and settings.spaces_access_key:
        store_origins.append(f"https://{settings.spaces_region}.digitaloceanspaces.com")
    extra = "".join(f" {o}" for o in store_origins)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # <style> elements only from files; style="" attributes are allowed because pages
            # set aspect ratios from template sizes, and attributes cannot run code.
            "style-src 'self'",
            "style-src-attr 'unsafe-inline'",
            f"img-src 'self' data: blob:{extra}",
            f"font-src 'self' data:{extra}",
            f"connect-src 'self'{extra}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeaders:
    """Adds the security headers to every HTTP response that does not set its own."""

    def __init__(self, app: ASGIApp, csp: str, hsts: bool) -> None:
        self.app = app
        self.headers = {
            "content-security-policy": csp,
            "x-frame-options": "DENY",
            "x-content-type-options": "nosniff",
            "referrer-policy": "strict-origin-when-cross-origin",
            "permissions-policy": "camera=(), microphone=(), geolocation=()",
            "cross-origin-opener-policy": "same-origin",
        }
        if hsts:
            self.headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = _under(scope["path"], CSRF_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
                # Admin answers hold what only the admin may see: no cache (shared or not) keeps them.
                if private and "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class SignedSessions(SessionMiddleware):
    """Starlette's cookie sessions, configured from settings when the app first serves.

    Built lazily (Starlette builds the stack on the first request), so importing the app never
    writes a generated key to disk.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        super().__init__(
            app,
            secret_key=session_secret(settings),
            session_cookie=SESSION_COOKIE,
            max_age=settings.session_max_age_s,
            same_site="lax",
            https_only=uses_https(settings),
        )


class CSRFProtect:
    """Refuses state-changing `/admin` requests whose CSRF token does not match the session's.

    The token comes in the `X-CSRF-Token` header (the dashboard's JS) or, for urlencoded forms,
    the `csrf_token` field. A refused request never reaches a route, so nothing changes.
    """

    def __init__(self, app: ASGIApp, prefix: str = CSRF_PREFIX) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or not _under(scope["path"], self.prefix)
        ):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        expected = connection.session.get(CSRF_SESSION_KEY)
        sent = connection.headers.get(CSRF_HEADER)
        body: bytes | None = None
        if sent is None and connection.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            try:
                body = await read_receive(receive, connection.headers.get("content-length"), MAX_FORM_BYTES)
            except WebError as exc:
                await _refuse(scope, exc)(scope, receive, send)
                return
            sent = (parse_qs(body.decode("latin-1")).get(CSRF_FIELD) or [None])[0]
        if not (isinstance(expected, str) and sent and hmac.compare_digest(expected, sent)):
            reason = "The CSRF token is missing" if not sent else "The CSRF token does not match this session"
            refusal = WebError(403, f"{reason}: reload the page and try again.", kind="csrf_refused")
            await _refuse(scope, refusal)(scope, receive, send)
            return
        await self.app(scope, receive if body is None else replay(body), send)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _refuse(scope: Scope, refusal: WebError) -> Response:
    """The refusal in the app's dialect; a browser's form gets the sentence as text (this runs
    before routing, where the HTML error page cannot be drawn)."""
    if wants_html(Request(scope)):
        return PlainTextResponse(refusal.user_message, status_code=refusal.status)
    return JSONResponse(error_body(refusal.kind, refusal.user_message, refusal.field), status_code=refusal.status)


def middleware(settings: Settings) -> list[Middleware]:
    """The middleware stack, outermost first."""
    https = uses_https(settings)
    return [
        Middleware(SecurityHeaders, csp=content_security_policy(settings), hsts=https),
        Middleware(SignedSessions, settings=settings),
        Middleware(CSRFProtect),
    ]
