"""POST /api/coupons/validate: the verdict on a code, clear 400/413 answers for bad bodies, and a
503 that says so when the validation service (FunderPro, a real local fake here) is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import make_settings
from tests.fakes.funderpro import FakeFunderPro, run_fake_funderpro
from tests.integration.public_world import EXPIRED_CODE, VALID_CODE, PublicWorld, world  # noqa: F401


def test_valid_code_gives_its_discount(world: PublicWorld) -> None:
    answer = world.client.post("/api/coupons/validate", json={"code": VALID_CODE.lower()})
    assert answer.status_code == 200
    assert answer.json() == {"valid": True, "code": VALID_CODE, "reason": f"{VALID_CODE} is valid.", "discount": 10.0}


def test_expired_and_unknown_codes_are_invalid_with_a_reason(world: PublicWorld) -> None:
    for code in (EXPIRED_CODE, "NOPE123"):
        body = world.client.post("/api/coupons/validate", json={"code": code}).json()
        assert body["valid"] is False
        assert code in body["reason"]


def test_malformed_json_is_400(world: PublicWorld) -> None:
    answer = world.client.post(
        "/api/coupons/validate", content=b'{"code": ', headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "malformed_json"


def test_missing_or_wrong_field_is_400_naming_it(world: PublicWorld) -> None:
    missing = world.client.post("/api/coupons/validate", json={"coupon": "X"})
    assert missing.status_code == 400 and missing.json()["field"] in {"code", "coupon"}
    wrong_type = world.client.post("/api/coupons/validate", json={"code": 12})
    assert wrong_type.status_code == 400 and wrong_type.json()["field"] == "code"
    not_object = world.client.post("/api/coupons/validate", json=["WELCOME10"])
    assert not_object.status_code == 400


def test_oversized_body_is_413(world: PublicWorld) -> None:
    answer = world.client.post("/api/coupons/validate", json={"code": "A" * 100_000})
    assert answer.status_code == 413
    assert "larger than" in answer.json()["message"]


def test_oversized_body_without_a_length_is_cut_off_at_the_limit(world: PublicWorld) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"code": "'
        for _ in range(64):
            yield b"A" * 1024
        yield b'"}'

    # A generator body goes out chunked, with no Content-Length to refuse it by.
    answer = world.client.post("/api/coupons/validate", content=chunks(), headers={"content-type": "application/json"})
    assert answer.status_code == 413


@pytest.fixture
def funderpro() -> Iterator[FakeFunderPro]:
    """The fake FunderPro API knowing one valid code for product prod-1."""
    with run_fake_funderpro(FakeFunderPro(codes={"FP20": (True, None, 20.0)})) as fake:
        yield fake


@pytest.fixture
def funderpro_client(tmp_path: Path, sqlite_url: str, funderpro: FakeFunderPro) -> Iterator[TestClient]:
    """A client on an app that validates coupons with the fake FunderPro."""
    from webapp.app import create_app

    settings = make_settings(
        tmp_path,
        database_url=sqlite_url,
        coupon_validator="funderpro",
        funderpro_product_id=funderpro.product_id,
        funderpro_api_base=funderpro.base_url,
        funderpro_timeout_s=1.0,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_funderpro_code_is_validated_through_its_api(funderpro_client: TestClient) -> None:
    body = funderpro_client.post("/api/coupons/validate", json={"code": "fp20"}).json()
    assert body["valid"] is True and body["discount"] == 20.0


@pytest.mark.parametrize("mode", ["5xx", "garbage"])
def test_validation_outage_is_503_with_a_clear_message(
    funderpro_client: TestClient, funderpro: FakeFunderPro, mode: str
) -> None:
    funderpro.mode = mode  # type: ignore[assignment]
    answer = funderpro_client.post("/api/coupons/validate", json={"code": "FP20"})
    assert answer.status_code == 503
    assert answer.json()["error"] == "coupon_service_unavailable"
    assert "try again" in answer.json()["message"]
    # An outage is never an answer: once FunderPro is back, the same code is valid.
    funderpro.mode = "ok"
    assert funderpro_client.post("/api/coupons/validate", json={"code": "FP20"}).json()["valid"] is True
