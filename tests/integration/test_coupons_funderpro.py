"""The FunderPro client against a real local HTTP server speaking the discount API."""

from collections.abc import Iterator

import pytest

from promostack.coupons import CouponServiceUnavailable, FunderProClient, build_validator
from tests.conftest import make_settings
from tests.fakes.funderpro import FakeFunderPro, run_fake_funderpro


@pytest.fixture
def fake() -> Iterator[FakeFunderPro]:
    codes = {
        "WELCOME10": (True, None, 10.0),
        "OLD5": (False, "expired", None),
    }
    with run_fake_funderpro(FakeFunderPro(product_id="prod-1", codes=codes)) as server:
        yield server


@pytest.fixture
def client(fake) -> Iterator[FunderProClient]:
    client = FunderProClient(fake.base_url, "prod-1", timeout_s=0.5, cache_ttl_s=60)
    yield client
    client.close()


def test_valid_code_carries_its_discount(client) -> None:
    check = client.validate(" welcome10 ")
    assert check.valid and check.code == "WELCOME10" and check.discount == 10.0


def test_expired_code_is_invalid_with_a_readable_reason(client) -> None:
    check = client.validate("OLD5")
    assert not check.valid and check.reason == "OLD5 has expired."


def test_unknown_code_is_invalid(client) -> None:
    check = client.validate("NOSUCH")
    assert not check.valid and "not a known coupon" in check.reason


def test_code_for_another_product_is_invalid(fake) -> None:
    client = FunderProClient(fake.base_url, "prod-2", timeout_s=0.5)
    assert client.validate("WELCOME10").reason == "WELCOME10 does not apply to this product."


def test_second_check_of_a_code_is_answered_from_the_cache(client, fake) -> None:
    client.validate("WELCOME10")
    client.validate("welcome10")
    client.validate("NOSUCH")
    client.validate("NOSUCH")
    assert fake.requests == 2


@pytest.mark.parametrize("mode", ["5xx", "429", "garbage"])
def test_outage_is_unavailable_not_invalid(client, fake, mode) -> None:
    fake.mode = mode
    with pytest.raises(CouponServiceUnavailable):
        client.validate("WELCOME10")


def test_outage_is_not_cached(client, fake) -> None:
    fake.mode = "5xx"
    with pytest.raises(CouponServiceUnavailable):
        client.validate("WELCOME10")
    fake.mode = "ok"
    assert client.validate("WELCOME10").valid
    assert fake.requests == 2


def test_slow_service_times_out_as_unavailable(client, fake) -> None:
    fake.mode = "slow"
    with pytest.raises(CouponServiceUnavailable, match="in time"):
        client.validate("WELCOME10")


def test_unreachable_service_is_unavailable(fake) -> None:
    from tests.fakes.ports import free_port

    client = FunderProClient(f"http://127.0.0.1:{free_port()}", "prod-1", timeout_s=0.5)
    with pytest.raises(CouponServiceUnavailable, match="unreachable"):
        client.validate("WELCOME10")


def test_malformed_code_is_refused_without_asking(client, fake) -> None:
    assert not client.validate("DROP TABLE").valid
    assert fake.requests == 0


def test_settings_with_a_product_id_choose_funderpro(tmp_path, fake) -> None:
    settings = make_settings(tmp_path, funderpro_product_id="prod-1", funderpro_api_base=fake.base_url)
    validator = build_validator(settings, sessions=None)  # type: ignore[arg-type]
    assert isinstance(validator, FunderProClient)
    assert validator.validate("WELCOME10").valid
