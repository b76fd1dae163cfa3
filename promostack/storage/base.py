"""The storage interface, its errors, and the key rules both backends share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from promostack.errors import DependencyError, NotFound

# Keys are slash-separated segments of safe characters: no "..", no leading slash, no
# backslashes or control characters, so a key can never escape a local root or surprise a URL.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._=-]{0,127}")

# The one content-type table: what an object is served and stored as, by its key's extension.
CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
    "parquet": "application/vnd.apache.parquet",
}
UNKNOWN_CONTENT_TYPE = "application/octet-stream"


def content_type_of(key: str) -> str:
    """The content type of the object at `key`, by its extension (octet-stream when unknown)."""
    name = key.rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return CONTENT_TYPES.get(extension, UNKNOWN_CONTENT_TYPE)


class StorageError(DependencyError):
    """The store failed: unreachable, refused, or asked for an invalid key."""


class ObjectNotFound(StorageError, NotFound):
    """No object under that key: a 404 and never retried, though the store's family is outages."""

    kind = "not_found"
    status = 404


@dataclass(frozen=True)
class ObjectInfo:
    """What a listing knows of one object."""

    key: str
    size: int
    modified: datetime


def check_key(key: str) -> str:
    """The key itself when it is safe; otherwise a `StorageError` naming the bad key."""
    segments = key.split("/")
    if not key or len(key) > 512 or not all(_SEGMENT.fullmatch(s) and s not in {".", ".."} for s in segments):
        raise StorageError(f"invalid storage key {key!r}: use letters, digits, '.', '_', '-', '=' and '/'")
    if any(".." in s for s in segments):
        raise StorageError(f"invalid storage key {key!r}: '..' is not allowed")
    return key


class ObjectStore(Protocol):
    """What every backend offers. Keys are checked with `check_key`."""

    def get(self, key: str) -> bytes:
        """The object's bytes; `ObjectNotFound` when absent."""
        ...

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Store `data` under `key`, replacing any object there, atomically."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; absent objects are not an error."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""
        ...

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        """Every object whose key starts with `prefix`, sorted by key."""
        ...

    def url(self, key: str) -> str:
        """A URL a browser can fetch the object from (CDN, endpoint, or a file:// path)."""
        ...
