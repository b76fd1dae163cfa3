"""Admin authentication: the password check (argon2), the log-in limits, and sessions that end.

The password is never kept in plain text past start-up: `ADMIN_PASSWORD` is hashed once with
argon2id when the app starts, or taken as-is when it already is an argon2 hash (`$argon2id$…`),
and every attempt is verified against that hash (argon2's comparison runs in constant time).

Log-in attempts are counted with the shared rate limiter (`runtime.limiter`: Redis or the
database) *before* the password is checked, atomically, so parallel guesses cannot outrun the
limit: at most `LOGIN_LIMIT_PER_ADDRESS` attempts per address and `LOGIN_LIMIT_PER_ACCOUNT` for
the account across all addresses per window. Windows end on their own: nobody is locked out for good.

Sessions stay signed cookies, with two server-side checks on every request: the session's id
must not be marked ended (log-out marks it, in `runtime.marks`), and the cookie must carry the
fingerprint of the current password (changing `ADMIN_PASSWORD` ends every session).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from functools import wraps
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from promostack.errors import RateLimited
from promostack.config import Settings
from promostack.limits import Limit
from promostack.runtime import Runtime
from webapp.context import runtime
from webapp.errors import NotLoggedIn
from webapp.security import session_secret

ARGON2_PREFIX = "$argon2"
AUTH_SESSION_KEY = "admin_auth_at"
SESSION_ID_KEY = "sid"
PASSWORD_KEY = "pw"


def login_limits(settings: Settings) -> tuple[Limit, Limit]:
    """The log-in limits per address and for the account (`LOGIN_LIMIT_*`). Attempts, not
    failures: each is counted before the password is checked. The account's limit is slow enough
    to stop a spread-out guesser, and its window ends, so an attack delays the owner by minutes,
    never for good."""
    window = settings.login_limit_window_s
    return Limit(settings.login_limit_per_address, window), Limit(settings.login_limit_per_account, window)


class PasswordCheck:
    """Verifies candidate passwords against the configured admin password's argon2 hash."""

    def __init__(self, configured: SecretStr | None, secret: str = "", hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        value = configured.get_secret_value() if configured is not None else ""
        # Sessions carry this: a changed ADMIN_PASSWORD no longer matches, so they end. Keyed
        # with the session secret, since a cookie's content is readable (signed, not encrypted).
        self.fingerprint = hmac.new(secret.encode(), b"admin-password:" + value.encode(), hashlib.sha256).hexdigest()[:24]
        if not value:
            self.hash: str | None = None
        elif value.startswith(ARGON2_PREFIX):
            try:
                self.hasher.check_needs_rehash(value)  # parses it: a broken hash fails here, at start-up
            except InvalidHashError as exc:
                raise ValueError("ADMIN_PASSWORD starts with $argon2 but is not a valid argon2 hash") from exc
            self.hash = value
        else:
            self.hash = self.hasher.hash(value)

    @property
    def enabled(self) -> bool:
        """True when an admin password is configured (log-in is disabled otherwise)."""
        return self.hash is not None

    def verify(self, candidate: str) -> bool:
        """True when `candidate` is the admin password."""
        if self.hash is None or not candidate:
            return False
        try:
            return self.hasher.verify(self.hash, candidate)
        except (VerificationError, InvalidHashError):
            return False


def count_login_attempt(rt: Runtime, address: str) -> None:
    """Nothing when this log-in attempt from `address` may be checked; `RateLimited` when the
    address or the account has had its attempts for the window. Counted first, so it holds under
    any concurrency."""
    per_address, per_account = login_limits(rt.settings)
    for key, limit in ((f"login:address:{address}", per_address), ("login:account:admin", per_account)):
        verdict = rt.limiter.hit(key, limit)
        if not verdict.allowed:
            raise RateLimited(verdict.retry_after_s)


def log_in(session: dict[str, Any], check: PasswordCheck, now: datetime | None = None) -> None:
    """Start an admin session in `session` (a fresh id, the password's fingerprint, the time)."""
    session.clear()
    session[AUTH_SESSION_KEY] = int((now or datetime.now(timezone.utc)).timestamp())
    session[SESSION_ID_KEY] = secrets.token_urlsafe(18)
    session[PASSWORD_KEY] = check.fingerprint


def log_out(rt: Runtime, session: dict[str, Any]) -> None:
    """End the session for good (a copy of the cookie no longer works) and forget what it held."""
    sid = session.get(SESSION_ID_KEY)
    if isinstance(sid, str) and sid:
        rt.marks.claim(_ended(sid), rt.settings.session_max_age_s + 60)
    session.clear()


def _ended(sid: str) -> str:
    return f"session-ended:{sid[:64]}"


def is_admin(session: dict[str, Any], max_age_s: int, now: datetime | None = None) -> bool:
    """True when the session logged in less than `max_age_s` seconds ago (the cookie alone:
    `logged_in` also asks the server whether the session has ended)."""
    logged_in_at = session.get(AUTH_SESSION_KEY)
    if not isinstance(logged_in_at, int):
        return False
    age = (now or datetime.now(timezone.utc)).timestamp() - logged_in_at
    return 0 <= age < max_age_s


async def logged_in(request: Request) -> bool:
    """True when `request` carries a live admin session: recent, of the current password, not ended."""
    rt = runtime(request)
    session = request.session
    check: PasswordCheck = request.app.state.admin_password
    if not check.enabled or not is_admin(session, rt.settings.session_max_age_s):
        return False
    sid, fingerprint = session.get(SESSION_ID_KEY), session.get(PASSWORD_KEY)
    if not (isinstance(sid, str) and isinstance(fingerprint, str) and hmac.compare_digest(fingerprint, check.fingerprint)):
        return False
    return not await run_in_threadpool(rt.marks.is_set, _ended(sid))


# --- guarding routes ------------------------------------------------------------------------

Endpoint = Callable[[Request], Awaitable[Response]]
LOGIN_PATH = "/admin/login"


def admin_page(endpoint: Endpoint) -> Endpoint:
    """`endpoint`, but a visitor who is not logged in is redirected to the log-in page."""

    @wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if not await logged_in(request):
            return RedirectResponse(LOGIN_PATH, status_code=303)
        return await endpoint(request)

    return guarded


def admin_api(endpoint: Endpoint) -> Endpoint:
    """`endpoint`, but a caller who is not logged in gets 401 JSON (`NotLoggedIn`)."""

    @wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if not await logged_in(request):
            raise NotLoggedIn()
        return await endpoint(request)

    return guarded


@asynccontextmanager
async def admin_auth(app: Starlette) -> AsyncIterator[None]:
    """Hash the admin password once for the app's lifetime."""
    rt = app.state.runtime
    # argon2 hashing takes tens of milliseconds: off the event loop.
    app.state.admin_password = await run_in_threadpool(
        PasswordCheck, rt.settings.admin_password, session_secret(rt.settings)
    )
    yield
