"""The local coupon registry on SQLite and Postgres: what a user typing a code is told."""

from datetime import datetime, timedelta, timezone

import pytest

from promostack.coupons import CouponExists, CouponNotFound, LocalRegistry, build_validator
from promostack.errors import InvalidInput
from tests.conftest import make_settings


@pytest.fixture
def registry(sessions) -> LocalRegistry:
    return LocalRegistry(sessions)


def test_added_code_is_valid_whatever_the_case_and_spacing(registry) -> None:
    registry.add("welcome10", discount=10)
    check = registry.validate("  Welcome10 ")
    assert check.valid and check.code == "WELCOME10" and check.discount == 10


def test_unknown_code_is_invalid_and_says_so(registry) -> None:
    check = registry.validate("NOPE")
    assert not check.valid and "not a known coupon" in check.reason


def test_expired_code_is_invalid_with_its_date(registry) -> None:
    registry.add("OLD", expires_at=datetime(2020, 1, 2, tzinfo=timezone.utc))
    check = registry.validate("old")
    assert not check.valid and "expired on 2020-01-02" in check.reason


def test_code_expiring_tomorrow_is_still_valid(registry) -> None:
    registry.add("SOON", expires_at=datetime.now(timezone.utc) + timedelta(days=1))
    assert registry.validate("SOON").valid


def test_deactivated_code_is_invalid(registry) -> None:
    registry.add("GOLD25", discount=25)
    registry.deactivate("gold25")
    check = registry.validate("GOLD25")
    assert not check.valid and "no longer active" in check.reason


def test_a_reactivated_code_is_valid_again(registry) -> None:
    registry.add("AGAIN10", discount=10)
    registry.deactivate("AGAIN10")
    assert registry.reactivate("again10").active
    assert registry.validate("AGAIN10").valid


def test_uses_are_counted_until_max_uses_then_refused(registry) -> None:
    registry.add("TWICE", max_uses=2)
    assert registry.record_use("twice") and registry.record_use("TWICE")
    assert not registry.record_use("TWICE")
    assert [c.usage_count for c in registry.list() if c.code == "TWICE"] == [2]
    assert "used up" in registry.validate("TWICE").reason


def test_adding_a_code_twice_is_refused_and_keeps_the_first(registry) -> None:
    registry.add("DUP", discount=5)
    with pytest.raises(CouponExists, match="DUP already exists"):
        registry.add("dup", discount=50)
    assert [c.discount for c in registry.list()] == [5]


def test_malformed_code_is_refused_without_touching_the_database(registry) -> None:
    with pytest.raises(InvalidInput, match="letters, digits"):
        registry.add("no spaces please")
    assert registry.list() == []
    assert not registry.validate("a/b").valid


def test_bad_discount_is_refused(registry) -> None:
    with pytest.raises(InvalidInput, match="discount must be"):
        registry.add("BIG", discount=150)
    assert registry.list() == []


def test_deactivating_an_unknown_code_says_not_found(registry) -> None:
    with pytest.raises(CouponNotFound):
        registry.deactivate("GHOST")


def test_validator_is_the_local_registry_without_a_funderpro_product(tmp_path, sessions) -> None:
    validator = build_validator(make_settings(tmp_path), sessions)
    assert isinstance(validator, LocalRegistry)
