"""The manifest: which Parquet object holds each day of each dataset, swapped last by an export.

Objects are written aside under a name no reader knows yet (`<dataset>/day=<date>/<run>.parquet`),
then one `put` of the manifest makes a run's days visible together; objects it superseded are
deleted only after that. A crash at any point leaves the previous manifest and all its objects
readable. `version` grows by one on every publish, so query results can be cached per version.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import date, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from promostack.storage import LocalStore, ObjectNotFound, ObjectStore, StorageError

PREFIX = "analytics"
MANIFEST_KEY = f"{PREFIX}/manifest.json"
PROGRESS_KEY = f"{PREFIX}/progress.json"


class DayFile(BaseModel):
    """One published day of one dataset: its object, row count and largest source id."""

    key: str
    rows: int
    max_id: int | None = None


class Manifest(BaseModel):
    """Every published day of every dataset (raw tables and rollups)."""

    version: int = 0
    exported_at: datetime | None = None
    datasets: dict[str, dict[date, DayFile]] = Field(default_factory=dict)

    def days(self, dataset: str) -> dict[date, DayFile]:
        """The published days of `dataset` (empty when it was never exported)."""
        return self.datasets.get(dataset, {})

    def object_keys(self) -> set[str]:
        """Every object key the manifest refers to."""
        return {f.key for days in self.datasets.values() for f in days.values()}


def day_key(dataset: str, day: date, run: str) -> str:
    """Where a run writes one day of a dataset (hive-style `day=` folder)."""
    return f"{PREFIX}/{dataset}/day={day.isoformat()}/{run}.parquet"


def local_paths(store: ObjectStore, keys: list[str], cache_dir: Path) -> list[str]:
    """Local file paths of the objects `keys`: the local store's own files, or copies of S3 objects
    under `cache_dir` (keys are never reused, so a copy never goes stale)."""
    if isinstance(store, LocalStore):
        return [str(store.root / key) for key in keys]
    paths = []
    for key in keys:
        path = cache_dir / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".tmp-{os.getpid()}-{threading.get_ident()}-{path.name}")
            tmp.write_bytes(store.get(key))
            os.replace(tmp, path)
        paths.append(str(path))
    return paths


def read_manifest(store: ObjectStore) -> Manifest:
    """The published manifest, or an empty one before the first export."""
    try:
        raw = store.get(MANIFEST_KEY)
    except ObjectNotFound:
        return Manifest()
    try:
        return Manifest.model_validate_json(raw)
    except ValidationError as exc:
        raise StorageError(f"{MANIFEST_KEY} is not a valid manifest: {exc.error_count()} errors") from exc


def write_manifest(store: ObjectStore, manifest: Manifest) -> None:
    """Publish `manifest` (one atomic put)."""
    store.put(MANIFEST_KEY, manifest.model_dump_json().encode(), "application/json")


class ExportProgress(BaseModel):
    """How far the running (or last) export got, for the dashboard's progress bar."""

    state: str  # running | done | failed
    run: str
    started_at: datetime
    done: int = 0
    total: int = 0
    detail: str = ""


def read_progress(store: ObjectStore) -> ExportProgress | None:
    """The last export's progress, or None when no export has reported any."""
    try:
        return ExportProgress.model_validate(json.loads(store.get(PROGRESS_KEY)))
    except (ObjectNotFound, ValueError, ValidationError):
        return None


def write_progress(store: ObjectStore, progress: ExportProgress) -> None:
    """Record `progress` where the dashboard reads it."""
    store.put(PROGRESS_KEY, progress.model_dump_json().encode(), "application/json")
