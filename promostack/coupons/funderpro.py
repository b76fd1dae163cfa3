"""The FunderPro discount-code client.

FunderPro publishes no public API reference for discount codes (nothing was found when this was
written), so this client assumes the following shape; `tests/fakes/funderpro.py` speaks it:

    GET {FUNDERPRO_API_BASE}/discounts/validate?code=<CODE>&product_id=<FUNDERPRO_PRODUCT_ID>

    200 {"code": "WELCOME10", "valid": true,  "discount_percent": 10.0}
    200 {"code": "OLD5",      "valid": false, "reason": "expired"}
    404                                   the code is unknown
    400 / 422                             the code was refused as malformed

"Valid" means FunderPro answered 200 with `"valid": true` for our product: the code exists,
is active and applies to `FUNDERPRO_PRODUCT_ID`. 200 with `valid: false`, 404, 400 and 422
are answers ("invalid", with a reason a user can read) and are cached for
`FUNDERPRO_CACHE_TTL_S`. Everything else — no connection, a time-out, 429, any 5xx, a body
that is not the JSON above — is an outage: `CouponServiceUnavailable`, never "invalid", and
never cached, so the next request asks again.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
from cachetools import TTLCache

from promostack.coupons.check import CouponCheck, CouponServiceUnavailable, malformed, normalise_code

# FunderPro's own reasons, in words a user can act on.
_REASONS = {
    "expired": "{code} has expired.",
    "inactive": "{code} is no longer active.",
    "used_up": "{code} has been used up.",
    "wrong_product": "{code} does not apply to this product.",
}


class FunderProClient:
    """Validates codes against FunderPro, caching answers (not outages) for `cache_ttl_s`."""

    def __init__(
        self,
        api_base: str,
        product_id: str,
        *,
        timeout_s: float = 5.0,
        cache_ttl_s: float = 300.0,
    ) -> None:
        self.product_id = product_id
        self.http = httpx.Client(
            base_url=api_base.rstrip("/"),
            timeout=httpx.Timeout(timeout_s),
            headers={"Accept": "application/json", "User-Agent": "promostack"},
        )
        self._cache: TTLCache[str, CouponCheck] = TTLCache(maxsize=4096, ttl=cache_ttl_s)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def validate(self, code: str) -> CouponCheck:
        """FunderPro's verdict on `code`; `CouponServiceUnavailable` when it cannot answer."""
        code = normalise_code(code)
        refusal = malformed(code)
        if refusal:
            return refusal
        with self._lock:
            cached = self._cache.get(code)
        if cached is not None:
            return cached
        check = self._ask(code)
        with self._lock:
            self._cache[code] = check
        return check

    def _ask(self, code: str) -> CouponCheck:
        try:
            response = self.http.get("/discounts/validate", params={"code": code, "product_id": self.product_id})
        except httpx.TimeoutException as exc:
            raise CouponServiceUnavailable(f"FunderPro did not answer in time: {exc.__class__.__name__}") from exc
        except httpx.HTTPError as exc:
            raise CouponServiceUnavailable(f"FunderPro is unreachable: {exc.__class__.__name__}") from exc
        if response.status_code == 404:
            return CouponCheck(False, code, f"{code} is not a known coupon code.")
        if response.status_code in (400, 422):
            return CouponCheck(False, code, f"{code} is not a valid coupon code.")
        if response.status_code != 200:
            raise CouponServiceUnavailable(f"FunderPro answered HTTP {response.status_code}")
        return self._read(code, response)

    @staticmethod
    def _read(code: str, response: httpx.Response) -> CouponCheck:
        try:
            body: Any = response.json()
        except ValueError:
            raise CouponServiceUnavailable("FunderPro answered with a body that is not JSON") from None
        valid = body.get("valid") if isinstance(body, dict) else None
        if not isinstance(valid, bool):
            raise CouponServiceUnavailable("FunderPro's answer has no 'valid' flag")
        if valid:
            discount = body.get("discount_percent")
            if discount is not None and not isinstance(discount, (int, float)):
                raise CouponServiceUnavailable("FunderPro's 'discount_percent' is not a number")
            return CouponCheck(True, code, f"{code} is valid.", float(discount) if discount is not None else None)
        reason = str(body.get("reason") or "")
        template = _REASONS.get(reason, "{code} is not valid.")
        return CouponCheck(False, code, template.format(code=code))
