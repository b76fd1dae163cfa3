"""How the admin JSON API answers errors and reads bodies.

Errors are JSON `{"error": <message>}` plus any details (`"field"`, or `"fields": [{"field",
"message"}]` when a template fails the schema, naming each field as `text_areas.0.box.w`), so
the dashboard can point at what to fix.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from promostack.errors import InvalidInput

MAX_JSON_BODY = 256 * 1024


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    """A JSON error answer: the message, plus `extra` details."""
    return JSONResponse({"error": message, **extra}, status_code=status)


def schema_error(exc: ValidationError) -> JSONResponse:
    """422 naming every field the template schema refused."""
    fields = [
        {
            "field": ".".join(str(p) for p in e["loc"]) or "template",
            "message": e["msg"].removeprefix("Value error, "),
        }
        for e in exc.errors()
    ]
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return error(422, f"the template is not valid: {summary}", fields=fields)


async def json_body(request: Request) -> Any:
    """The request's JSON body; InvalidInput saying what is wrong with it."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_JSON_BODY:
        raise InvalidInput(f"the body is over {MAX_JSON_BODY} bytes")
    raw = await request.body()
    if len(raw) > MAX_JSON_BODY:
        raise InvalidInput(f"the body is over {MAX_JSON_BODY} bytes")
    try:
        return json.loads(raw)
    except ValueError:
        raise InvalidInput("the body is not valid JSON") from None
