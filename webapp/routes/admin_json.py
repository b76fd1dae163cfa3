"""The admin JSON API's small vocabulary over the app's one error dialect and body reader.

Errors are `{"error": <kind>, "message": <sentence>, "field"?: ..., ...details}` like everywhere
(`webapp.errors`); a template that fails the schema also lists `"fields": [{"field", "message"}]`,
naming each field as `text_areas.0.box.w` (`template` for the meta as a whole), so the
dashboard can point at what to fix: `schema_error` is that refusal, for a route to raise. Routes
raise and let the app's handlers answer; `error()` is for answers with extra details.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.responses import JSONResponse
from starlette.requests import Request

from webapp.bodies import read_json, read_json_object
from webapp.errors import WebError, error_body, schema_fields

MAX_JSON_BODY = 256 * 1024


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    """A JSON error answer in the app's dialect: the kind follows the status, `extra` are details."""
    field = extra.pop("field", None)
    kind = WebError(status, message).kind
    return JSONResponse(error_body(kind, message, field, **extra), status_code=status)


def schema_error(exc: ValidationError) -> WebError:
    """The 422 to raise for a template the schema refused, naming every field (`fields`)."""
    fields = schema_fields(exc, whole="template")
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return WebError(422, f"the template is not valid: {summary}", fields=fields)


async def json_body(request: Request) -> Any:
    """The request's JSON body (at most MAX_JSON_BODY bytes, counted as it arrives)."""
    return await read_json(request, MAX_JSON_BODY)


async def json_object_body(request: Request) -> dict[str, Any]:
    """The request's JSON body, which must be an object (400 `malformed_body` like every route)."""
    return await read_json_object(request, MAX_JSON_BODY)
