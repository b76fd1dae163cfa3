"""Third-party quotas that span machines, as Prefect global concurrency limits.

`deployments/setup.py` creates the limits named here; code running inside a flow run takes its
slots, so every worker on every machine shares one budget:

- `twelve-data`: a rate limit (8 a minute, Twelve Data's free plan); `fetch_candles` takes a slot
  before each live request;
- `funderpro-api`: requests in flight at once to FunderPro's discount API; a bulk render's or a
  promo flow's coupon checks each hold a slot while they wait for the answer.

Only flow runs use them: the web app's and the bot's fast path stays off the Prefect API, and
FunderPro's own answers (429, 5xx) still reach them as `CouponServiceUnavailable`. A limit that
was never created (set-up not run, the test harness) lets everything through (Prefect's
non-strict default), and a disabled one too.
"""

from __future__ import annotations

from prefect.concurrency.asyncio import rate_limit
from prefect.concurrency.sync import concurrency

from promostack.coupons import CouponCheck, CouponValidator
from promostack.runtime import Runtime

TWELVE_DATA = "twelve-data"
FUNDERPRO_API = "funderpro-api"


class SharedQuotaValidator:
    """A coupon validator whose every check holds one slot of the `funderpro-api` limit."""

    def __init__(self, inner: CouponValidator, limit: str = FUNDERPRO_API) -> None:
        self.inner, self.limit = inner, limit

    def validate(self, code: str) -> CouponCheck:
        """The inner validator's verdict, asked once a slot of the shared limit is free."""
        with concurrency(self.limit, occupy=1):
            return self.inner.validate(code)


def flow_validator(runtime: Runtime) -> CouponValidator:
    """The runtime's validator for use inside a flow run: FunderPro's checks share the limit."""
    if runtime.settings.coupon_backend == "funderpro":
        return SharedQuotaValidator(runtime.validator)
    return runtime.validator


async def twelve_data_slot() -> None:
    """Nothing; returns once the shared Twelve Data rate limit lets one more request go."""
    await rate_limit(TWELVE_DATA)
