"""The web's one error dialect: the errors only the web raises, and the handlers that answer all.

Every error a route lets fly is answered here (registered once, in `create_app`), so the public
JSON API, the admin API, the campaign endpoints and the webhooks all answer alike:

    {"error": <kind>, "message": <the user's sentence>, "field": <the input, if any>, ...details}

with the HTTP status the error class carries (`promostack.errors`). HTML pages get an HTML page
with the same sentence instead. A route never catches an error just to answer it.
"""

from __future__ import annotations

import logging
import math
from http import HTTPStatus
from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from promostack.coupons import InvalidCoupon
from promostack.errors import DependencyError, PromoStackError, RateLimited
from promostack.render import BadImage, TextDoesNotFit
from promostack.templates.store import TemplateNotFound
from webapp.rendering import templates

log = logging.getLogger(__name__)

# Paths whose callers are programs: they always get JSON, whatever they accept.
JSON_PREFIXES = ("/api/", "/admin/api/", "/telegram/", "/stripe/")
SERVER_FAULT = "Something went wrong on our side. Please try again in a minute."
OUTAGE = "A service we depend on is unavailable right now; please try again in a minute."
_HTTP_KINDS = {
    400: "bad_request",
    401: "not_logged_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    503: "dependency_unavailable",
}


class WebError(PromoStackError):
    """A request refused at the web edge: its status and kind, the sentence, the field, details.

    The subclasses below name the common refusals; `WebError(409, "…")` covers the rest (the kind
    then follows the status: 409 → `conflict`).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.status = status  # type: ignore[misc]  # per instance: one class, many statuses
        self.kind = kind or _HTTP_KINDS.get(status, "error")  # type: ignore[misc]
        self.field = field
        self.headers = headers
        self.details = details


class BodyTooLarge(WebError):
    """The request body passed its route's cap (counted as it arrived)."""

    def __init__(self, limit: int, what: str = "request body", field: str | None = None) -> None:
        super().__init__(413, f"The {what} is too large: it is larger than the limit of {size_words(limit)}.", field=field)
        self.limit = limit


class MalformedBody(WebError):
    """The body is not what the route reads (not JSON, too deep, not an object, cut off…)."""

    def __init__(self, message: str, *, kind: str = "malformed_body", field: str | None = None) -> None:
        super().__init__(400, message, kind=kind, field=field)


class NotLoggedIn(WebError):
    """An admin API call without a live admin session."""

    def __init__(self) -> None:
        super().__init__(401, "You are not logged in (or your session has ended): log in at /admin/login.")


def size_words(limit: int) -> str:
    """`limit` bytes as people say it: 8 MiB, 16 KiB, 512 bytes."""
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MiB"
    if limit >= 1024:
        return f"{limit / 1024:g} KiB"
    return f"{limit} bytes"


# --- the answers -------------------------------------------------------------------------------


def wants_html(request: Request) -> bool:
    """True when the caller is a browser asking for a page (programs' paths always get JSON)."""
    if request.url.path.startswith(JSON_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_body(kind: str, message: str, field: str | None = None, **details: Any) -> dict[str, Any]:
    """The JSON of an error answer."""
    body: dict[str, Any] = {"error": kind, "message": message}
    if field:
        body["field"] = field
    body.update(details)
    return body


def answer(
    request: Request,
    status: int,
    kind: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **details: Any,
) -> Response:
    """The error answer in the caller's dialect: JSON, or an HTML page for a browser."""
    if wants_html(request):
        context = {"status": status, "message": message}
        return templates.TemplateResponse(request, "error.html", context, status_code=status, headers=headers)
    return JSONResponse(error_body(kind, message, field, **details), status_code=status, headers=headers)


# Where a domain error does not name its input itself, the web names it for the caller.
def _field(exc: PromoStackError) -> str | None:
    if exc.field:
        return exc.field
    if isinstance(exc, TextDoesNotFit):
        return f"texts.{exc.area_id}"
    if isinstance(exc, TemplateNotFound):
        return "template"
    if isinstance(exc, InvalidCoupon):
        return "code"
    if isinstance(exc, BadImage):
        # Uploads name their own field; a BadImage that reaches here is a render's logo.
        return "logo"
    return None


async def promostack_error(request: Request, exc: Exception) -> Response:
    """The answer to any `PromoStackError`: its status, kind, sentence and field."""
    assert isinstance(exc, PromoStackError)
    headers = dict(getattr(exc, "headers", None) or {})
    message = exc.user_message
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
    elif isinstance(exc, DependencyError) and exc.status >= 500 and not isinstance(exc, WebError):
        # The detail names our services: it goes to the log, and to the admin (who can fix it);
        # a public caller gets the sentence.
        log.warning("%s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        if message == str(exc) and not request.url.path.startswith("/admin/"):
            message = OUTAGE
    details = getattr(exc, "details", None) or {}
    return answer(request, exc.status, exc.kind, message, _field(exc), headers or None, **details)


def schema_fields(exc: ValidationError, whole: str = "body") -> list[dict[str, str]]:
    """Each field a model refused, named by its path (`text_areas.0.box.w`; `whole` for the model
    itself), with the reason."""
    return [
        {"field": ".".join(str(p) for p in e["loc"]) or whole, "message": e["msg"].removeprefix("Value error, ")}
        for e in exc.errors()
    ]


async def validation_error(request: Request, exc: Exception) -> Response:
    """422 naming every field a model refused (`fields`: [{"field", "message"}])."""
    assert isinstance(exc, ValidationError)
    fields = schema_fields(exc)
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    field = fields[0]["field"] if len(fields) == 1 else None
    return answer(request, 422, "invalid_input", f"Not valid: {summary}", field, fields=fields)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (unknown path, wrong method) in the same dialect."""
    assert isinstance(exc, HTTPException)
    message = exc.detail if exc.detail and exc.detail != _default_phrase(exc.status_code) else _sentence(exc.status_code)
    return answer(request, exc.status_code, _HTTP_KINDS.get(exc.status_code, "error"), message, headers=exc.headers)


async def server_fault(request: Request, exc: Exception) -> Response:
    """A bug's answer: a sentence, never the traceback (Starlette logs it after this answer)."""
    return answer(request, 500, "internal_error", SERVER_FAULT)


def _default_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _sentence(status: int) -> str:
    return {
        404: "There is nothing at this address.",
        405: "This address does not take that method.",
    }.get(status, _default_phrase(status) or "The request was refused.")


def exception_handlers() -> dict[Any, Any]:
    """The handlers `create_app` registers: one per family of error."""
    return {
        PromoStackError: promostack_error,
        ValidationError: validation_error,
        HTTPException: http_error,
        Exception: server_fault,
    }
