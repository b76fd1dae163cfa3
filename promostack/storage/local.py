"""The embedded store: a folder on disk, written atomically, never escaped."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from promostack.storage.base import ObjectInfo, ObjectNotFound, StorageError, check_key


PARTIAL_PREFIX = ".tmp-"
PARTIAL_SUFFIX = ".partial"


def _is_partial(path: Path) -> bool:
    return path.name.startswith(PARTIAL_PREFIX) and path.name.endswith(PARTIAL_SUFFIX)


class LocalStore:
    """Objects as files under `root`; a write goes to a temporary file and is renamed into place.

    The temporary file is named `.tmp-<name>.<random>.partial`, so a writer killed mid-write leaves
    nothing that looks like an object (no `*.png` in the folder) and `list` never shows it.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        # check_key already forbids "..", this guards against symlinks pointing outside.
        if self.root not in path.parents:
            raise StorageError(f"invalid storage key {key!r}: outside the store")
        return path

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(f"no object {key!r} in {self.root}") from None
        except OSError as exc:
            raise StorageError(f"cannot read {key!r}: {exc}") from exc

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(
                dir=path.parent, prefix=f"{PARTIAL_PREFIX}{path.name}.", suffix=PARTIAL_SUFFIX
            )
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(f"cannot write {key!r}: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot delete {key!r}: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        for path in self.root.rglob("*"):
            if not path.is_file() or _is_partial(path):
                continue
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix):
                stat = path.stat()
                modified = datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc)
                found.append(ObjectInfo(key=key, size=stat.st_size, modified=modified))
        return sorted(found, key=lambda info: info.key)

    def url(self, key: str) -> str:
        return self._path(key).as_uri()
