"""Coupons: enumerating codes by asking, fast, and by telling answers apart."""

from __future__ import annotations

from sqlalchemy import select
from starlette.testclient import TestClient

from promostack.db import GenerationEvent
from tests.integration.public_world import EXPIRED_CODE
from tests.security.conftest import Instance


def test_unknown_and_expired_codes_get_the_same_answer(site: TestClient) -> None:
    answers = {}
    for code in (EXPIRED_CODE, "NOSUCHCODE"):
        check = site.post("/api/coupons/validate", json={"code": code}).json()
        render = site.post("/api/render", json={"template": "black-friday", "code": code})
        answers[code] = (check["valid"], check["reason"].replace(code, "CODE"), render.status_code,
                         render.json()["message"].replace(code, "CODE"))
    assert answers[EXPIRED_CODE] == answers["NOSUCHCODE"] == (False, "CODE is not a valid coupon code.", 422,
                                                               "CODE is not a valid coupon code.")


def test_the_real_reason_stays_in_the_admins_records(instance: Instance, site: TestClient) -> None:
    site.post("/api/render", json={"template": "black-friday", "code": EXPIRED_CODE})
    with instance.runtime.sessions() as session:
        [event] = session.scalars(select(GenerationEvent)).all()
    assert "expired" in (event.error or "")


def test_checking_codes_quickly_from_one_address_is_stopped_with_retry_after(instance: Instance) -> None:
    limit = instance.settings.coupon_check_limit_per_ip
    with instance.client() as client:
        answers = [client.post("/api/coupons/validate", json={"code": f"GUESS{n}"}) for n in range(limit + 1)]
    # The control: another address is not held up by this one.
    with instance.client("192.0.2.50") as other:
        assert other.post("/api/coupons/validate", json={"code": "GUESS"}).status_code == 200
    assert [a.status_code for a in answers[:limit]] == [200] * limit
    assert answers[-1].status_code == 429 and answers[-1].json()["error"] == "rate_limited"
    assert 0 < int(answers[-1].headers["retry-after"]) <= instance.settings.coupon_check_limit_window_s
