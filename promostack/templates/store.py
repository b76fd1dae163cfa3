"""The template store: templates kept in object storage, with backups and a rebuilt index.

Layout (the same on the local folder, S3, and the local mirror):

    templates/index.json                               gallery, rebuilt from the metas
    templates/<slug>/meta.json                         one template
    templates/<slug>/<image>                           its background image
    templates/<slug>/backups/meta-<UTC stamp>.json     every meta.json that was replaced
    templates/<slug>/deleted.json                      left by a delete, for the template sync

A save backs up the old meta first, then writes the image, then the meta, then the index, so a
crash part-way leaves either the old template or the new one readable, never a meta pointing
at a missing image.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from cachetools import LRUCache
from pydantic import BaseModel, ValidationError

from promostack.errors import InvalidInput, NotFound
from promostack.storage import ObjectNotFound, ObjectStore, StorageError, check_key, content_type_of
from promostack.templates.background import Refit, read_background, refit_areas
from promostack.templates.schema import TemplateIndex, TemplateMeta, TemplateSummary, check_slug

PREFIX = "templates/"
INDEX_KEY = "templates/index.json"


class TemplateNotFound(NotFound):
    """No template with that slug."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"no template {slug!r}")
        self.slug = slug


class InvalidTemplate(InvalidInput):
    """A meta.json or template image that cannot be accepted; the message names the field."""


class TemplateExists(InvalidInput):
    """A new template's slug is taken: the caller chooses another (409)."""

    kind = "conflict"
    status = 409
    field = "slug"

    def __init__(self, slug: str) -> None:
        super().__init__(f"a template {slug!r} already exists: choose another slug")
        self.slug = slug


class TemplateChanged(InvalidInput):
    """The template was saved by someone else since the caller read it (its version moved on; 409)."""

    kind = "conflict"
    status = 409

    def __init__(self, slug: str, expected: int, current: int) -> None:
        super().__init__(
            f"template {slug!r} changed since you opened it (version {expected}, now {current}): "
            "reload it and try again"
        )
        self.current = current


class ImageReplacement(BaseModel):
    """A template after its background was replaced, and how its areas were carried over."""

    template: TemplateMeta
    refit: Refit


def meta_key(slug: str) -> str:
    """The storage key of `slug`'s meta.json."""
    return f"{PREFIX}{slug}/meta.json"


def tombstone_key(slug: str) -> str:
    """The storage key of the marker a delete leaves for `slug`."""
    return f"{PREFIX}{slug}/deleted.json"


def describe_validation_error(exc: ValidationError) -> str:
    """A one-line message naming each bad field by its path, like `text_areas.0.box.w: ...`."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "meta"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def parse_meta(data: bytes | str | dict[str, object]) -> TemplateMeta:
    """The `TemplateMeta` in `data` (JSON text or a dict); `InvalidTemplate` naming the field."""
    try:
        if isinstance(data, dict):
            return TemplateMeta.model_validate(data)
        return TemplateMeta.model_validate_json(data)
    except ValidationError as exc:
        raise InvalidTemplate(f"invalid template meta: {describe_validation_error(exc)}") from None


def load_template_dir(folder: Path) -> tuple[TemplateMeta, bytes]:
    """The meta and image of a template folder (`meta.json` plus the image its `image_key` names)."""
    meta_path = Path(folder) / "meta.json"
    if not meta_path.is_file():
        raise InvalidTemplate(f"{folder} has no meta.json")
    meta = parse_meta(meta_path.read_bytes())
    image_path = Path(folder) / meta.image_key.rsplit("/", 1)[-1]
    if not image_path.is_file():
        raise InvalidTemplate(f"image_key: {image_path.name} is not in {folder}")
    return meta, image_path.read_bytes()


def _safe_key(key: str) -> bool:
    try:
        check_key(key)
    except StorageError:
        return False
    return True


def _stamp(moment: datetime) -> str:
    # Microseconds keep two saves in the same second from overwriting each other's backup.
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


class TemplateStore:
    """Templates in one `ObjectStore`; parsed metas and images are cached per content/version."""

    def __init__(self, store: ObjectStore, *, image_cache_size: int = 32) -> None:
        self.store = store
        self._lock = threading.Lock()
        # Metas are keyed by a digest of their bytes, images by (slug, version, updated_at, key):
        # a save always bumps version and updated_at, so a stale entry is never returned.
        self._metas: LRUCache[str, TemplateMeta] = LRUCache(maxsize=512)
        self._images: LRUCache[tuple[str, int, str, str], bytes] = LRUCache(maxsize=image_cache_size)

    # --- reading ---------------------------------------------------------------------------

    def get(self, slug: str) -> TemplateMeta:
        """The meta of template `slug`; `TemplateNotFound` when there is none."""
        slug = self._slug(slug)
        try:
            raw = self.store.get(meta_key(slug))
        except ObjectNotFound:
            raise TemplateNotFound(slug) from None
        digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
        with self._lock:
            cached = self._metas.get(digest)
        if cached is not None:
            return cached
        meta = parse_meta(raw)
        if meta.slug != slug:
            raise InvalidTemplate(f"slug: {meta_key(slug)} says its slug is {meta.slug!r}")
        with self._lock:
            self._metas[digest] = meta
        return meta

    def image(self, slug: str, meta: TemplateMeta | None = None) -> bytes:
        """The background image bytes of template `slug` (of `meta` when given)."""
        meta = meta or self.get(slug)
        cache_key = (meta.slug, meta.version, meta.updated_at.isoformat(), meta.image_key)
        with self._lock:
            cached = self._images.get(cache_key)
        if cached is not None:
            return cached
        try:
            data = self.store.get(meta.image_key)
        except ObjectNotFound:
            raise TemplateNotFound(meta.slug) from None
        with self._lock:
            self._images[cache_key] = data
        return data

    def exists(self, slug: str) -> bool:
        """Whether template `slug` has a meta.json."""
        return self.store.exists(meta_key(self._slug(slug)))

    def slugs(self) -> list[str]:
        """Every slug with a meta.json, sorted."""
        found = set()
        for info in self.store.list(PREFIX):
            parts = info.key.split("/")
            if len(parts) == 3 and parts[2] == "meta.json":
                found.add(parts[1])
        return sorted(found)

    def scan(self) -> tuple[dict[str, TemplateMeta], dict[str, str]]:
        """Every readable meta by slug, and every unreadable one with the reason."""
        good: dict[str, TemplateMeta] = {}
        broken: dict[str, str] = {}
        for slug in self.slugs():
            try:
                good[slug] = self.get(slug)
            except (InvalidInput, NotFound) as exc:
                broken[slug] = str(exc)
        return good, broken

    def index(self) -> TemplateIndex:
        """The gallery index; built from the metas (not written) when index.json is missing."""
        try:
            raw = self.store.get(INDEX_KEY)
        except ObjectNotFound:
            return self._build_index()
        try:
            return TemplateIndex.model_validate_json(raw)
        except ValidationError:
            # A damaged index is derived data: rebuild rather than fail every gallery request.
            return self.rebuild_index()

    def visible(self, channel: Literal["web", "telegram"]) -> list[TemplateSummary]:
        """The templates shown on `channel`, by name."""
        entries = [t for t in self.index().templates if getattr(t.visibility, channel)]
        return sorted(entries, key=lambda t: (t.name.lower(), t.slug))

    def backups(self, slug: str) -> list[str]:
        """The keys of `slug`'s meta backups, oldest first."""
        slug = self._slug(slug)
        return [info.key for info in self.store.list(f"{PREFIX}{slug}/backups/")]

    # --- writing ---------------------------------------------------------------------------

    def save(
        self, meta: TemplateMeta, image: bytes | None = None, *, keep_version: bool = False, rebuild: bool = True
    ) -> TemplateMeta:
        """The stored meta after saving `meta` (and `image`, when given) as a new version.

        The version is bumped past the stored one and `updated_at` set to now, unless
        `keep_version` (the template sync copies a template with its own version and time).
        `rebuild=False` leaves index.json to the caller (a sync rebuilds it once at the end).
        """
        meta = parse_meta(meta.model_dump(mode="json"))
        slug = meta.slug
        expected_prefix = f"{PREFIX}{slug}/"
        image_name = meta.image_key[len(expected_prefix) :]
        if (
            not meta.image_key.startswith(expected_prefix)
            or "/" in image_name
            or image_name == "meta.json"
            or not _safe_key(meta.image_key)
        ):
            raise InvalidTemplate(
                f"image_key: must be {expected_prefix}<file name> with letters, digits, '.', '_' or '-', "
                f"got {meta.image_key!r}"
            )
        if image is not None:
            self._check_image(meta, image)
        elif not self.store.exists(meta.image_key):
            raise InvalidTemplate(f"image_key: no image stored at {meta.image_key!r}; upload one")

        old = self._current(slug)
        now = datetime.now(timezone.utc)
        if not keep_version:
            meta = meta.model_copy(
                update={
                    "version": (old.version + 1) if old else 1,
                    "created_at": old.created_at if old else now,
                    "updated_at": now,
                }
            )
        old_raw = self._raw_meta(slug)
        if old_raw is not None:
            # The backup goes first: if anything below fails, the previous meta is recoverable.
            self.store.put(f"{PREFIX}{slug}/backups/meta-{_stamp(now)}.json", old_raw, "application/json")
        if image is not None:
            self.store.put(meta.image_key, image, content_type_of(meta.image_key))
        self.store.put(meta_key(slug), meta.model_dump_json(indent=2).encode(), "application/json")
        if old_raw is None:
            self.store.delete(tombstone_key(slug))  # saved again after a delete: no longer deleted
        if rebuild:
            self.rebuild_index()
        return meta

    def replace_image(
        self, slug: str, image: bytes, *, expected_version: int | None = None
    ) -> ImageReplacement:
        """The template saved with `image` as its new background, its areas refitted to its size.

        The upload is checked first (`read_background`); a bad one raises and changes nothing.
        The image goes under a new key (`background-<UTC stamp>.<ext>`) and the previous one
        stays, so every meta backup still restores with the picture it was drawn on.
        `expected_version`, when given, refuses (`TemplateChanged`) a template saved since.
        """
        current = self.get(slug)
        if expected_version is not None and expected_version != current.version:
            raise TemplateChanged(current.slug, expected_version, current.version)
        background = read_background(image)
        refitted, refit = refit_areas(current, background.width, background.height)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        key = f"{PREFIX}{current.slug}/background-{stamp}{background.suffix}"
        refitted = refitted.model_copy(update={"image_key": key})
        saved = self.save(refitted, background.data)
        return ImageReplacement(template=saved, refit=refit)

    def delete(self, slug: str) -> None:
        """Remove template `slug`: its backups stay, plus one of its meta and a deletion marker.

        The marker (`templates/<slug>/deleted.json`) tells the template sync the template was
        deleted here, rather than never copied here; a later save of the slug removes it.
        """
        slug = self._slug(slug)
        old_raw = self._raw_meta(slug)
        if old_raw is None:
            raise TemplateNotFound(slug)
        now = datetime.now(timezone.utc)
        self.store.put(f"{PREFIX}{slug}/backups/meta-{_stamp(now)}.json", old_raw, "application/json")
        # The marker goes before the removal: a crash in between leaves a template that still
        # exists (and can be deleted again), never a deleted one without its marker.
        marker = json.dumps({"slug": slug, "deleted_at": now.isoformat()}).encode()
        self.store.put(tombstone_key(slug), marker, "application/json")
        self.store.delete(meta_key(slug))
        for info in self.store.list(f"{PREFIX}{slug}/"):
            if "/backups/" not in info.key and info.key != tombstone_key(slug):
                self.store.delete(info.key)
        self.rebuild_index()

    def deletions(self) -> dict[str, datetime]:
        """When each deleted (and not saved since) template was deleted, by slug."""
        found: dict[str, datetime] = {}
        for info in self.store.list(PREFIX):
            parts = info.key.split("/")
            if len(parts) == 3 and parts[2] == "deleted.json":
                try:
                    found[parts[1]] = datetime.fromisoformat(json.loads(self.store.get(info.key))["deleted_at"])
                except (ValueError, KeyError, TypeError):
                    continue  # an unreadable marker is ignored: the template then counts as absent
        return found

    def rebuild_index(self) -> TemplateIndex:
        """The index rebuilt from every readable meta, written to index.json."""
        index = self._build_index()
        self.store.put(INDEX_KEY, index.model_dump_json(indent=2).encode(), "application/json")
        return index

    # --- internals -------------------------------------------------------------------------

    def _build_index(self) -> TemplateIndex:
        metas, _broken = self.scan()
        return TemplateIndex(templates=[TemplateSummary.of(m) for m in metas.values()])

    def _current(self, slug: str) -> TemplateMeta | None:
        try:
            return self.get(slug)
        except TemplateNotFound:
            return None
        except InvalidTemplate:
            # A broken stored meta can be replaced; it is still backed up by `save`.
            return None

    def _raw_meta(self, slug: str) -> bytes | None:
        try:
            return self.store.get(meta_key(slug))
        except ObjectNotFound:
            return None

    @staticmethod
    def _slug(slug: str) -> str:
        try:
            return check_slug(slug)
        except ValueError as exc:
            raise InvalidTemplate(f"slug {slug!r}: {exc}", field="slug") from None

    @staticmethod
    def _check_image(meta: TemplateMeta, image: bytes) -> None:
        from promostack.render import open_image

        # open_image raises BadImage (an InvalidInput) for anything too big or undecodable.
        picture = open_image(image)
        if tuple(picture.size) != (meta.width, meta.height):
            raise InvalidTemplate(
                f"image: it is {picture.size[0]}x{picture.size[1]} but width/height say "
                f"{meta.width}x{meta.height}"
            )
