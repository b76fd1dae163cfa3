"""Campaign overlays in object storage, where templates live too.

Each overlay is stored under a key that names its content (`campaigns/<slug>/overlay-<shape>-
<sha256[:16]>.png`), so a replaced overlay is a new key: browsers and the decoded-image cache can
keep an old key forever, and a half-finished replacement never mixes two files under one name.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from cachetools import LRUCache
from PIL import Image

from promostack.campaigns.photos import check_overlay
from promostack.campaigns.schema import Shape
from promostack.storage import ObjectStore


@dataclass(frozen=True)
class StoredOverlay:
    """Where one shape's overlay is stored, and its content hash."""

    key: str
    sha256: str

    def as_json(self) -> dict[str, str]:
        """What the campaign row keeps for the shape."""
        return {"key": self.key, "sha256": self.sha256}


class OverlayStore:
    """Puts checked overlays into the store and hands back decoded ones (a few kept decoded)."""

    def __init__(self, store: ObjectStore, cache_size: int = 16) -> None:
        self.store = store
        self._decoded: LRUCache[str, Image.Image] = LRUCache(maxsize=cache_size)
        self._lock = threading.Lock()

    def put(self, slug: str, shape: Shape, data: bytes) -> StoredOverlay:
        """The stored overlay, after `check_overlay` accepted `data` (BadOverlay otherwise)."""
        image = check_overlay(data, shape)
        digest = hashlib.sha256(data).hexdigest()
        key = f"campaigns/{slug}/overlay-{shape}-{digest[:16]}.png"
        self.store.put(key, data, content_type="image/png")
        with self._lock:
            self._decoded[key] = image
        return StoredOverlay(key, digest)

    def raw(self, key: str) -> bytes:
        """The stored PNG."""
        return self.store.get(key)

    def decoded(self, key: str, shape: Shape) -> Image.Image:
        """The overlay under `key` as RGBA (checked again: the store is not trusted blindly)."""
        with self._lock:
            image = self._decoded.get(key)
        if image is None:
            image = check_overlay(self.store.get(key), shape)
            with self._lock:
                self._decoded[key] = image
        return image

    def delete(self, key: str) -> None:
        """Remove a stored overlay (absent is fine)."""
        self.store.delete(key)
        with self._lock:
            self._decoded.pop(key, None)
