"""The one way the web app reads a request body: capped, counted as the bytes arrive.

A declared `Content-Length` over the cap is refused before reading; a body that lies about its
length (or sends none, chunked) is cut off as soon as the count passes the cap, so no route
ever buffers or spools more than its cap. Every route that reads a body goes through here:
raw bytes (`read_body`, webhooks and photo uploads), JSON (`read_json`, `read_model`), forms
(`read_form`, multipart uploads included) and, for middleware, `read_receive`.

JSON is parsed defensively: nesting deeper than `MAX_JSON_DEPTH`, numbers longer than a few dozen
digits, `NaN`/`Infinity`, and anything else that is not plain JSON are a `MalformedBody` (400) with
the reason — never a 500.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message, Receive

from webapp.errors import BodyTooLarge, MalformedBody

MAX_JSON_DEPTH = 32
MAX_NUMBER_CHARS = 40

Model = TypeVar("Model", bound=BaseModel)


async def _collect(chunks: AsyncIterator[bytes], limit: int, what: str, field: str | None) -> bytes:
    """The chunks joined; BodyTooLarge the moment their count passes `limit`."""
    parts: list[bytes] = []
    size = 0
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit, what, field)
            parts.append(chunk)
    except ClientDisconnect:
        raise MalformedBody(f"The {what} was cut off; try again.", kind="cut_off", field=field) from None
    return b"".join(parts)


def _declared_too_large(content_length: str | None, limit: int) -> bool:
    return bool(content_length and content_length.isdigit() and int(content_length) > limit)


async def read_body(request: Request, limit: int, what: str = "request body", field: str | None = None) -> bytes:
    """The request body, at most `limit` bytes; BodyTooLarge past it, MalformedBody when cut off."""
    if _declared_too_large(request.headers.get("content-length"), limit):
        raise BodyTooLarge(limit, what, field)
    return await _collect(request.stream(), limit, what, field)


async def read_receive(receive: Receive, content_length: str | None, limit: int) -> bytes:
    """The body of an ASGI request read straight from `receive` (for middleware), capped alike."""
    if _declared_too_large(content_length, limit):
        raise BodyTooLarge(limit)

    async def chunks() -> AsyncIterator[bytes]:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            yield message.get("body", b"")
            if not message.get("more_body", False):
                return

    return await _collect(chunks(), limit, "request body", None)


def replay(body: bytes) -> Receive:
    """A `receive` that hands `body` (already read) to the app once, then reports a disconnect."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


# --- JSON ----------------------------------------------------------------------------------------


def _number(text: str, kind: type) -> Any:
    if len(text) > MAX_NUMBER_CHARS:
        raise MalformedBody(
            f"The body has a number of {len(text)} characters; numbers are at most {MAX_NUMBER_CHARS}.",
            kind="malformed_json",
        )
    value = kind(text)
    if kind is float and not math.isfinite(value):
        raise MalformedBody("The body has a number too large to use.", kind="malformed_json")
    return value


def _constant(name: str) -> Any:
    raise MalformedBody(f"The body has {name}, which is not a JSON number.", kind="malformed_json")


def _depth(data: Any) -> int:
    """How deep `data` nests (a scalar is 0), without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_JSON_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def parse_json(raw: bytes) -> Any:
    """`raw` as JSON; MalformedBody saying why when it is not plain, reasonably shaped JSON."""
    try:
        data = json.loads(
            raw,
            parse_int=lambda text: _number(text, int),
            parse_float=lambda text: _number(text, float),
            parse_constant=_constant,
        )
    except RecursionError:
        raise MalformedBody(f"The body nests deeper than {MAX_JSON_DEPTH} levels.", kind="malformed_json") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedBody(f"The body is not valid JSON: {exc}.", kind="malformed_json") from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise MalformedBody(f"The body nests deeper than {MAX_JSON_DEPTH} levels.", kind="malformed_json")
    return data


async def read_json(request: Request, limit: int) -> Any:
    """The JSON body, at most `limit` bytes (BodyTooLarge / MalformedBody otherwise)."""
    return parse_json(await read_body(request, limit))


async def read_json_object(request: Request, limit: int) -> dict[str, Any]:
    """The JSON body, which must be an object."""
    data = await read_json(request, limit)
    if not isinstance(data, dict):
        raise MalformedBody("The body must be a JSON object.")
    return data


async def read_model(request: Request, model: type[Model], limit: int) -> Model:
    """The JSON body validated as `model`; MalformedBody (400 `invalid_field`) naming the first wrong field."""
    data = await read_json_object(request, limit)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        message = {"missing": "is required", "extra_forbidden": "is not a known field"}.get(first["type"], first["msg"])
        raise MalformedBody(f"Field '{field}': {message}.", kind="invalid_field", field=field) from None


# --- forms ---------------------------------------------------------------------------------------


async def read_form(request: Request, limit: int, *, max_files: int = 1, max_fields: int = 20) -> FormData:
    """The urlencoded or multipart form, its whole body (files included) at most `limit` bytes.

    The body is read through the cap first and only then parsed, so a chunked upload without a
    length is refused before anything is spooled to disk past the cap.
    """
    body = await read_body(request, limit, "upload")
    return await Request(request.scope, replay(body)).form(max_files=max_files, max_fields=max_fields)
