"""Both object stores behave the same: the local folder and S3 over HTTP (moto's server)."""

import os
from pathlib import Path

import pytest

from promostack.config import Settings
from promostack.storage import LocalStore, ObjectNotFound, S3Store, StorageError, build_store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    settings: Settings = request.getfixturevalue("s3_settings")
    store = build_store(settings)
    assert isinstance(store, S3Store)
    return store


def test_put_then_get_returns_the_same_bytes(store) -> None:
    store.put("templates/gold/meta.json", b'{"slug": "gold"}', content_type="application/json")
    assert store.get("templates/gold/meta.json") == b'{"slug": "gold"}'
    assert store.exists("templates/gold/meta.json")


def test_put_replaces_an_existing_object(store) -> None:
    store.put("a/b.txt", b"one")
    store.put("a/b.txt", b"two")
    assert store.get("a/b.txt") == b"two"


def test_list_is_sorted_and_filtered_by_prefix(store) -> None:
    for key in ("templates/b/meta.json", "templates/a/meta.json", "renders/x.png"):
        store.put(key, b"x")
    assert [info.key for info in store.list("templates/")] == ["templates/a/meta.json", "templates/b/meta.json"]
    assert store.list("templates/")[0].size == 1


def test_missing_object_raises_object_not_found(store) -> None:
    with pytest.raises(ObjectNotFound):
        store.get("templates/nope/meta.json")
    assert not store.exists("templates/nope/meta.json")


def test_delete_removes_and_is_idempotent(store) -> None:
    store.put("x/y.bin", b"1")
    store.delete("x/y.bin")
    store.delete("x/y.bin")
    assert not store.exists("x/y.bin")


@pytest.mark.parametrize("key", ["../etc/passwd", "a/../../b", "/abs", "a//b", "", "a/./b", "sp ace", "a\\b"])
def test_unsafe_keys_are_refused_and_nothing_is_written(store, key: str, tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        store.put(key, b"x")
    assert not (tmp_path / "etc").exists()


def test_local_store_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    store.put("renders/one.png", b"png")
    assert sorted(p.name for p in (tmp_path / "store" / "renders").iterdir()) == ["one.png"]


def test_a_write_killed_midway_leaves_nothing_that_looks_like_an_object(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    folder = tmp_path / "store" / "renders"

    class Killed(BaseException):
        pass

    real_fdopen = os.fdopen

    def dying_fdopen(fd, mode):
        handle = real_fdopen(fd, mode)
        handle.write(b"half")
        handle.flush()
        raise Killed  # the process dies here; a SIGKILL would skip the clean-up too, so keep the file

    store.put("renders/keep.png", b"png")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fdopen", dying_fdopen)
        patch.setattr(Path, "unlink", lambda self, missing_ok=False: None)  # as if killed: no clean-up
        with pytest.raises(Killed):
            store.put("renders/cut.png", b"png")
    leftovers = [p.name for p in folder.iterdir() if p.name != "keep.png"]
    assert len(leftovers) == 1 and leftovers[0].endswith(".partial")
    assert sorted(folder.glob("*.png")) == [folder / "keep.png"]
    assert [info.key for info in store.list("renders/")] == ["renders/keep.png"]


def test_s3_urls_use_the_cdn_base_when_given() -> None:
    store = S3Store("promo", endpoint_url="https://fra1.digitaloceanspaces.com", cdn_base_url="https://cdn.example.com/")
    assert store.url("renders/a.png") == "https://cdn.example.com/renders/a.png"
    plain = S3Store("promo", endpoint_url="https://fra1.digitaloceanspaces.com", region="fra1")
    assert plain.url("renders/a.png") == "https://fra1.digitaloceanspaces.com/promo/renders/a.png"


def test_an_unreachable_s3_endpoint_is_a_storage_error(tmp_path: Path) -> None:
    from tests.fakes.ports import free_port

    store = S3Store(
        "promo", endpoint_url=f"http://127.0.0.1:{free_port()}", region="us-east-1", access_key="k", secret_key="s"
    )
    store.client.meta.config.retries = {"max_attempts": 1}
    with pytest.raises(StorageError, match="cannot read"):
        store.get("templates/index.json")
