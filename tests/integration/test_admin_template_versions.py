"""A template's version history over the admin API: every save's backup listed newest first,
one read for a preview, and restored as the next version (refused when the template moved on)."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.integration.admin_support import admin, app_client  # noqa: F401 (fixtures)
from tests.integration.test_admin_templates import png, store_of, upload


def saved_with_name(client: TestClient, token: str, slug: str, name: str) -> dict:
    meta = client.get(f"/admin/api/templates/{slug}").json()
    answer = client.put(f"/admin/api/templates/{slug}", json={**meta, "name": name}, headers={"X-CSRF-Token": token})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_every_save_is_listed_newest_first_and_an_older_one_restores_as_the_next_version(
    admin: tuple[TestClient, str],
) -> None:
    client, token = admin
    slug = upload(client, token, png()).json()["slug"]
    saved_with_name(client, token, slug, "Second name")
    saved_with_name(client, token, slug, "Third name")

    listed = client.get(f"/admin/api/templates/{slug}/versions").json()
    assert listed["current"] == 3
    assert [(v["version"], v["name"]) for v in listed["versions"]] == [(2, "Second name"), (1, "Spring Sale")]
    oldest = listed["versions"][-1]["id"]
    assert client.get(f"/admin/api/templates/{slug}/versions/{oldest}").json()["name"] == "Spring Sale"
    image = client.get(f"/admin/api/templates/{slug}/versions/{oldest}/image")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"

    restored = client.post(
        f"/admin/api/templates/{slug}/versions/{oldest}/restore", json={"version": 3}, headers={"X-CSRF-Token": token}
    )
    assert restored.status_code == 200, restored.text
    assert (restored.json()["name"], restored.json()["version"]) == ("Spring Sale", 4)
    assert store_of(client).get(slug).name == "Spring Sale"
    # The restore backed up what it replaced, so it can itself be undone.
    assert client.get(f"/admin/api/templates/{slug}/versions").json()["versions"][0]["name"] == "Third name"


def test_restoring_over_a_newer_version_is_refused_and_changes_nothing(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    slug = upload(client, token, png()).json()["slug"]
    saved_with_name(client, token, slug, "Edited elsewhere")
    oldest = client.get(f"/admin/api/templates/{slug}/versions").json()["versions"][-1]["id"]
    stale = client.post(
        f"/admin/api/templates/{slug}/versions/{oldest}/restore", json={"version": 1}, headers={"X-CSRF-Token": token}
    )
    assert stale.status_code == 409 and "reload" in stale.json()["message"]
    assert stale.json()["error"] == "conflict"
    assert store_of(client).get(slug).name == "Edited elsewhere"


def test_restoring_without_the_version_in_view_is_422_naming_it_and_changes_nothing(
    admin: tuple[TestClient, str],
) -> None:
    client, token = admin
    slug = upload(client, token, png()).json()["slug"]
    saved_with_name(client, token, slug, "Second name")
    oldest = client.get(f"/admin/api/templates/{slug}/versions").json()["versions"][-1]["id"]
    restore = f"/admin/api/templates/{slug}/versions/{oldest}/restore"
    answer = client.post(restore, json={}, headers={"X-CSRF-Token": token})
    assert answer.status_code == 422, answer.text
    assert (answer.json()["error"], answer.json()["field"]) == ("invalid_input", "version")
    assert (store_of(client).get(slug).version, store_of(client).get(slug).name) == (2, "Second name")


def test_a_version_whose_background_is_gone_is_404_to_view_and_409_to_restore(
    admin: tuple[TestClient, str],
) -> None:
    client, token = admin
    slug = upload(client, token, png()).json()["slug"]
    replaced = client.put(
        f"/admin/api/templates/{slug}/image",
        files={"image": ("new.png", png(600, 400, "#ff8800"), "image/png")},
        headers={"X-CSRF-Token": token},
    )
    assert replaced.status_code == 200, replaced.text
    client.app.state.runtime.store.delete(f"templates/{slug}/background.png")  # the first upload's image
    oldest = client.get(f"/admin/api/templates/{slug}/versions").json()["versions"][-1]["id"]

    image = client.get(f"/admin/api/templates/{slug}/versions/{oldest}/image")
    assert image.status_code == 404 and "no longer stored" in image.json()["message"]
    restore = client.post(
        f"/admin/api/templates/{slug}/versions/{oldest}/restore",
        json={"version": 2},
        headers={"X-CSRF-Token": token},
    )
    assert restore.status_code == 409 and restore.json()["error"] == "conflict", restore.text
    assert "cannot be restored" in restore.json()["message"]
    assert store_of(client).get(slug).version == 2


def test_unknown_versions_and_templates_are_404_and_restore_needs_the_csrf_token(
    admin: tuple[TestClient, str],
) -> None:
    client, token = admin
    slug = upload(client, token, png()).json()["slug"]
    saved_with_name(client, token, slug, "Once more")
    unknown = client.get("/admin/api/templates/nope/versions")
    assert unknown.status_code == 404 and unknown.json()["error"] == "template_not_found"
    malformed = client.get("/admin/api/templates/No_Such/versions")
    assert malformed.status_code == 422 and malformed.json()["field"] == "slug"
    assert client.get(f"/admin/api/templates/{slug}/versions/20200101T000000Z").status_code == 404
    assert client.get(f"/admin/api/templates/{slug}/versions/..%2Fmeta").status_code == 404
    oldest = client.get(f"/admin/api/templates/{slug}/versions").json()["versions"][-1]["id"]
    assert client.post(f"/admin/api/templates/{slug}/versions/{oldest}/restore", json={"version": 2}).status_code == 403
    assert store_of(client).get(slug).version == 2
