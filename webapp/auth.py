"""Admin authentication: the password check (argon2) and the failed-log-in rate limit.

The password is never kept in plain text past start-up: `ADMIN_PASSWORD` is hashed once with
argon2id when the app starts, or taken as-is when it already is an argon2 hash (`$argon2id$…`),
and every attempt is verified against that hash (argon2's comparison runs in constant time).
Failed attempts are rows of `login_attempts`, so every web instance behind a load balancer
counts the same ones and the app itself keeps no state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import wraps
from math import ceil
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import SecretStr
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from promostack.db.engine import session_scope
from promostack.db.models import LoginAttempt
from webapp.context import runtime

ARGON2_PREFIX = "$argon2"
AUTH_SESSION_KEY = "admin_auth_at"


class PasswordCheck:
    """Verifies candidate passwords against the configured admin password's argon2 hash."""

    def __init__(self, configured: SecretStr | None, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        value = configured.get_secret_value() if configured is not None else ""
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


@dataclass(frozen=True)
class LoginLimiter:
    """Counts failed log-ins per client IP in a sliding window, in the database."""

    sessions: sessionmaker[Session]
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)

    def retry_after(self, client: str, now: datetime | None = None) -> int | None:
        """Seconds until `client` may try again, or None when it may try now."""
        now = now or datetime.now(timezone.utc)
        since = now - self.window
        with session_scope(self.sessions) as session:
            count, oldest = session.execute(
                select(func.count(LoginAttempt.id), func.min(LoginAttempt.attempted_at)).where(
                    LoginAttempt.client == client, LoginAttempt.attempted_at > since
                )
            ).one()
        if count < self.max_failures or oldest is None:
            return None
        # SQLite hands back naive datetimes; every time we store is UTC.
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=timezone.utc)
        return max(1, ceil((oldest + self.window - now).total_seconds()))

    def record_failure(self, client: str, now: datetime | None = None) -> None:
        """Remember one failed attempt by `client`, and forget attempts older than the window."""
        now = now or datetime.now(timezone.utc)
        with session_scope(self.sessions) as session:
            session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at <= now - self.window))
            session.add(LoginAttempt(client=client[:64], attempted_at=now))

    def clear(self, client: str) -> None:
        """Forget `client`'s failed attempts (after it logs in)."""
        with session_scope(self.sessions) as session:
            session.execute(delete(LoginAttempt).where(LoginAttempt.client == client))


def log_in(session: dict[str, Any], now: datetime | None = None) -> None:
    """Mark the cookie session as an admin's, from `now`."""
    session[AUTH_SESSION_KEY] = int((now or datetime.now(timezone.utc)).timestamp())


def log_out(session: dict[str, Any]) -> None:
    """Forget everything the session held."""
    session.clear()


def is_admin(session: dict[str, Any], max_age_s: int, now: datetime | None = None) -> bool:
    """True when the session logged in less than `max_age_s` seconds ago."""
    logged_in_at = session.get(AUTH_SESSION_KEY)
    if not isinstance(logged_in_at, int):
        return False
    age = (now or datetime.now(timezone.utc)).timestamp() - logged_in_at
    return 0 <= age < max_age_s


# --- guarding routes ------------------------------------------------------------------------

Endpoint = Callable[[Request], Awaitable[Response]]
LOGIN_PATH = "/admin/login"


def _logged_in(request: Request) -> bool:
    return is_admin(request.session, runtime(request).settings.session_max_age_s)


def admin_page(endpoint: Endpoint) -> Endpoint:
    """`endpoint`, but a visitor who is not logged in is redirected to the log-in page."""

    @wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if not _logged_in(request):
            return RedirectResponse(LOGIN_PATH, status_code=303)
        return await endpoint(request)

    return guarded


def admin_api(endpoint: Endpoint) -> Endpoint:
    """`endpoint`, but a caller who is not logged in gets 401 JSON."""

    @wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if not _logged_in(request):
            return JSONResponse({"error": "not logged in: log in at /admin/login"}, status_code=401)
        return await endpoint(request)

    return guarded


@asynccontextmanager
async def admin_auth(app: Starlette) -> AsyncIterator[None]:
    """Hash the admin password and set up the log-in limiter for the app's lifetime."""
    rt = app.state.runtime
    # argon2 hashing takes tens of milliseconds: off the event loop.
    app.state.admin_password = await run_in_threadpool(PasswordCheck, rt.settings.admin_password)
    app.state.login_limiter = LoginLimiter(rt.sessions)
    yield
