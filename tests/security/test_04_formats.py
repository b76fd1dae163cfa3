"""Formats: values that pass a `$`-anchored check with a trailing newline."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient

from promostack.coupons.check import malformed
from promostack.storage import StorageError
from promostack.storage.base import check_key
from promostack.templates.schema import TemplateMeta, check_slug
from tests.security.conftest import Instance


def _meta(**area: object) -> dict[str, object]:
    return {
        "slug": "plain", "name": "Plain", "image_key": "templates/plain/background.png", "width": 100, "height": 100,
        "text_areas": [{"id": "code", "source": "coupon", "box": {"x": 0, "y": 0, "w": 100, "h": 100}, **area}],
    }


@pytest.mark.parametrize("area", [{"color": "#ffffff\n"}, {"stroke_color": "#000000\n"}, {"font": "Inter-Bold\n"}, {"id": "code\n"}])
def test_a_template_value_with_a_trailing_newline_is_refused(area: dict[str, object]) -> None:
    TemplateMeta.model_validate(_meta())  # the control: the same template without the newline
    with pytest.raises(ValidationError):
        TemplateMeta.model_validate(_meta(**area))


def test_a_slug_storage_key_or_coupon_code_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(ValueError):
        check_slug("black-friday\n")
    with pytest.raises(StorageError):
        check_key("templates/black-friday/meta.json\n")
    assert malformed("WELCOME10\n") is not None


def test_the_admin_cannot_save_a_colour_with_a_trailing_newline(instance: Instance) -> None:
    with instance.client() as client:
        token = _login(client)
        meta = client.get("/admin/api/templates/black-friday").json()
        meta["text_areas"][0]["color"] = "#ffffff\n"
        answer = client.put("/admin/api/templates/black-friday", json=meta, headers={"X-CSRF-Token": token})
        assert answer.status_code == 422 and "colour" in answer.json()["message"]
        assert client.get("/admin/api/templates/black-friday").json()["text_areas"][0]["color"] != "#ffffff\n"


def test_a_public_slug_with_a_trailing_newline_is_not_found(site: TestClient) -> None:
    assert site.get("/api/templates/black-friday").status_code == 200
    assert site.get("/api/templates/black-friday%0A").status_code == 404


def _login(client: TestClient) -> str:
    from tests.integration.admin_support import log_in

    return log_in(client)
