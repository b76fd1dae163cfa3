"""Reading Stripe with the official `stripe` client: list pages by cursor, back off on rate limits.

The client's own retries cover connection errors, 409 and 5xx; it does not retry a plain
429 (only when Stripe says `Stripe-Should-Retry: true`), so a page refused by the rate limiter
is asked again here, after a growing pause, from the same cursor. When the pauses run out
the error is a `DependencyError`; the caller keeps the cursor of the last page it stored, so
the retry resumes there instead of starting over. List endpoints only: the Search API lags
behind writes by up to a minute, so it is never used to reconcile.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import stripe

from promostack.billing.objects import JsonObject
from promostack.config import Settings
from promostack.errors import DependencyError, InvalidInput

#: Pauses (seconds) before asking a rate-limited page again; Stripe allows 100 req/s live, 25 in test mode.
RATE_LIMIT_PAUSES = (1.0, 2.0, 4.0, 8.0, 16.0)
PAGE_SIZE = 100

#: What each listed resource expands, so a page carries what the mirror needs.
EXPAND = {
    "subscriptions": ["data.discounts", "data.items.data.discounts"],
    "invoices": ["data.payments"],
}


@dataclass(frozen=True)
class Page:
    """One list page: its objects as plain dicts, and whether more follow."""

    objects: list[JsonObject]
    has_more: bool

    @property
    def last_id(self) -> str | None:
        """The cursor for the next page (the last object's id)."""
        return self.objects[-1]["id"] if self.objects else None


class StripeReader:
    """Reads Stripe's list and retrieve endpoints for the mirror."""

    def __init__(
        self,
        settings: Settings,
        pauses: Sequence[float] = RATE_LIMIT_PAUSES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if settings.stripe_secret_key is None:
            raise InvalidInput("STRIPE_SECRET_KEY is not set: Stripe is not configured")
        bases: dict[str, str] = {"api": settings.stripe_api_base} if settings.stripe_api_base else {}
        self.client = stripe.StripeClient(
            settings.stripe_secret_key.get_secret_value(),
            base_addresses=bases,  # type: ignore[arg-type]
            max_network_retries=2,
        )
        self.pauses = tuple(pauses)
        self.sleep = sleep
        self.rate_limited = 0  # 429 answers met so far (shown in the reconcile report)

    def _call(self, request: Callable[[], Any], what: str) -> Any:
        for pause in (*self.pauses, None):
            try:
                return request()
            except stripe.RateLimitError as exc:
                self.rate_limited += 1
                if pause is None:
                    raise DependencyError(f"Stripe kept rate-limiting {what}: {exc.user_message}") from exc
                self.sleep(pause)
            except (stripe.AuthenticationError, stripe.PermissionError) as exc:
                raise InvalidInput(f"Stripe refused STRIPE_SECRET_KEY for {what}: {exc.user_message}") from exc
            except (stripe.APIConnectionError, stripe.APIError) as exc:
                raise DependencyError(f"Stripe failed on {what}: {exc.user_message}") from exc
        raise AssertionError("unreachable")

    def _service(self, resource: str) -> Any:
        try:
            return getattr(self.client.v1, resource)
        except AttributeError:
            raise InvalidInput(f"Stripe has no list of {resource!r}") from None

    def page(self, resource: str, params: dict[str, Any], starting_after: str | None) -> Page:
        """One page of `resource` (newest first) after the object `starting_after`."""
        query = {"limit": PAGE_SIZE, **params}
        if resource in EXPAND:
            query["expand"] = EXPAND[resource]
        if starting_after:
            query["starting_after"] = starting_after
        service = self._service(resource)
        listed = self._call(lambda: service.list(params=query), f"the {resource} list")
        return Page([obj.to_dict() for obj in listed.data], bool(listed.has_more))

    def pages(self, resource: str, params: dict[str, Any], starting_after: str | None = None) -> Iterator[Page]:
        """Every page of `resource` from the cursor `starting_after` (None: from the newest)."""
        while True:
            page = self.page(resource, params, starting_after)
            yield page
            if not page.has_more or page.last_id is None:
                return
            starting_after = page.last_id

    def subscription(self, subscription_id: str) -> JsonObject:
        """A subscription with its discounts (and its items' discounts) expanded."""
        service = self.client.v1.subscriptions
        found = self._call(
            lambda: service.retrieve(subscription_id, params={"expand": ["discounts", "items.data.discounts"]}),
            f"subscription {subscription_id}",
        )
        return found.to_dict()
