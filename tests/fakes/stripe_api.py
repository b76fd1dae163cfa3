"""A fake Stripe API: a real HTTP server on loopback that the real `stripe` client talks to.

It speaks the shapes of API version 2026-10-28.endive for what PromoStack reads: list and
retrieve of subscriptions (items carry price, quantity and billing periods; `discounts` are
ids unless expanded, their coupon under `source.coupon`), invoices (subscription under
`parent.subscription_details`, `payments` only when expanded), refunds, products, prices and
customers. Lists are newest first with `limit`, `starting_after`, `has_more`, `created[gte]`
and subscriptions' `status` (canceled ones only with `status=all`). It checks the bearer key,
answers errors as Stripe does (`{"error": {"type", "message"}}`), and can be told to fail.

    with FakeStripe() as fake:                      # fake.base_url, fake.api_key
        fake.put(subscription("sub_1", "cus_1", [item("si_1", price("price_m", "prod_a", 1000))]))
        fake.fail_next(429, times=2)                # the next two requests are rate-limited
        fake.requests                               # (method, path, query) of every request

The signing helpers build webhook deliveries as Stripe does: `Stripe-Signature: t=<unix>,v1=<hex
HMAC-SHA256 of "<t>.<body>" keyed with the endpoint secret>`.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.json_http import JsonHandler, serve_in_thread, stop_server
from tests.fakes.ports import free_port

Json = dict[str, Any]
NOW = 1_790_000_000  # 2026-09-21: fixture objects are created around here unless told otherwise

_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "invalid_request_error",
                429: "rate_limit_error", 500: "api_error", 503: "api_error"}
_RESOURCES = {"subscriptions", "invoices", "refunds", "products", "prices", "customers"}


# --- object builders (current API shapes) ------------------------------------------------------


def product(id: str, name: str | None = None) -> Json:  # noqa: A002 - Stripe's field name
    """A product."""
    return {"id": id, "object": "product", "name": name or id, "active": True, "created": NOW}


def price(
    id: str,  # noqa: A002
    product_id: str,
    unit_amount: int | None,
    currency: str = "usd",
    interval: str = "month",
    interval_count: int = 1,
    usage_type: str = "licensed",
    tiers: list[Json] | None = None,
    tiers_mode: str | None = None,
) -> Json:
    """A recurring price (`tiers` make it tiered)."""
    return {
        "id": id,
        "object": "price",
        "active": True,
        "billing_scheme": "tiered" if tiers else "per_unit",
        "created": NOW,
        "currency": currency,
        "livemode": False,
        "nickname": None,
        "product": product_id,
        "recurring": {"interval": interval, "interval_count": interval_count, "meter": None,
                      "trial_period_days": None, "usage_type": usage_type},
        "tax_behavior": "exclusive",
        "tiers": tiers,
        "tiers_mode": tiers_mode,
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": None if unit_amount is None else str(unit_amount),
    }


def coupon(
    id: str,  # noqa: A002
    duration: str,
    percent_off: float | None = None,
    amount_off: int | None = None,
    currency: str | None = None,
    duration_in_months: int | None = None,
) -> Json:
    """A coupon: `duration` is forever, once or repeating."""
    return {"id": id, "object": "coupon", "duration": duration, "duration_in_months": duration_in_months,
            "percent_off": percent_off, "amount_off": amount_off, "currency": currency, "valid": True}


def discount(id: str, the_coupon: Json, subscription_id: str | None = None) -> Json:  # noqa: A002
    """A discount applying `the_coupon` (under `source.coupon`, as the current API nests it)."""
    return {"id": id, "object": "discount", "source": {"type": "coupon", "coupon": the_coupon},
            "start": NOW, "end": None, "subscription": subscription_id, "subscription_item": None,
            "customer": None, "invoice": None, "invoice_item": None, "promotion_code": None}


def item(id: str, the_price: Json, quantity: int = 1, discounts: list[Json] | None = None) -> Json:  # noqa: A002
    """A subscription item: its price, quantity and billing period."""
    return {"id": id, "object": "subscription_item", "created": NOW, "price": the_price,
            "quantity": quantity, "discounts": discounts or [], "metadata": {},
            "current_period_start": NOW, "current_period_end": NOW + 30 * 86400, "subscription": None}


def subscription(
    id: str,  # noqa: A002
    customer: str,
    items: list[Json],
    status: str = "active",
    currency: str | None = None,
    discounts: list[Json] | None = None,
    cancel_at_period_end: bool = False,
    created: int = NOW,
) -> Json:
    """A subscription with `items` (discounts kept expanded; the server hands out ids unless asked)."""
    for it in items:
        it["subscription"] = id
    return {
        "id": id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "currency": currency or items[0]["price"]["currency"],
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": created + 86400 if status == "canceled" else None,
        "ended_at": created + 86400 if status == "canceled" else None,
        "created": created,
        "start_date": created,
        "trial_start": created if status == "trialing" else None,
        "trial_end": created + 14 * 86400 if status == "trialing" else None,
        "discounts": discounts or [],
        "items": {"object": "list", "data": items, "has_more": False, "total_count": len(items),
                  "url": f"/v1/subscription_items?subscription={id}"},
        "livemode": False,
        "metadata": {},
    }


def invoice(
    id: str,  # noqa: A002
    customer: str,
    subscription_id: str | None,
    amount: int,
    currency: str = "usd",
    status: str = "paid",
    billing_reason: str = "subscription_cycle",
    created: int = NOW,
    attempt_count: int = 1,
    payment_intent: str | None = None,
) -> Json:
    """An invoice of `subscription_id` for `amount` (paid in full when `status` is paid)."""
    paid = status == "paid"
    parent = (
        {"type": "subscription_details", "quote_details": None,
         "subscription_details": {"subscription": subscription_id, "metadata": {}}}
        if subscription_id
        else None
    )
    payments = [{"id": f"inpay_{id}", "object": "invoice_payment", "status": "paid" if paid else "open",
                 "payment": {"type": "payment_intent", "payment_intent": payment_intent}}] if payment_intent else []
    return {
        "id": id,
        "object": "invoice",
        "customer": customer,
        "parent": parent,
        "status": status,
        "billing_reason": billing_reason,
        "currency": currency,
        "amount_due": amount,
        "amount_paid": amount if paid else 0,
        "amount_remaining": 0 if paid else amount,
        "total": amount,
        "attempt_count": attempt_count,
        "attempted": attempt_count > 0,
        "created": created,
        "status_transitions": {"finalized_at": created, "paid_at": created + 60 if paid else None,
                               "marked_uncollectible_at": None, "voided_at": None},
        "payments": {"object": "list", "data": payments, "has_more": False},
        "livemode": False,
    }


def refund(id: str, amount: int, currency: str = "usd", payment_intent: str | None = None, created: int = NOW) -> Json:  # noqa: A002
    """A succeeded refund."""
    return {"id": id, "object": "refund", "amount": amount, "currency": currency, "charge": f"ch_{id}",
            "payment_intent": payment_intent, "reason": "requested_by_customer", "status": "succeeded",
            "created": created}


def customer(id: str, email: str | None = None) -> Json:  # noqa: A002
    """A customer."""
    return {"id": id, "object": "customer", "email": email or f"{id}@example.com", "name": id, "created": NOW}


# --- webhook deliveries ------------------------------------------------------------------------


def event(id: str, type: str, obj: Json, created: int | None = None) -> Json:  # noqa: A002
    """An event as a webhook delivers it (a snapshot of `obj`, discounts as ids)."""
    return {"id": id, "object": "event", "api_version": "2026-10-28.endive", "created": created or int(time.time()),
            "data": {"object": _unexpanded(obj)}, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": type}


def signature_header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe sends with `payload`: t=…,v1=HMAC-SHA256 hex."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def _unexpanded(obj: Json, expand: set[str] | None = None, prefix: str = "") -> Json:
    """`obj` with discounts (and invoice payments) collapsed unless `expand` names them."""
    expand = expand or set()
    out = copy.deepcopy(obj)
    if out.get("object") == "subscription":
        if f"{prefix}discounts" not in expand:
            out["discounts"] = [d["id"] if isinstance(d, dict) else d for d in out["discounts"]]
        if f"{prefix}items.data.discounts" not in expand:
            for it in out["items"]["data"]:
                it["discounts"] = [d["id"] if isinstance(d, dict) else d for d in it["discounts"]]
    if out.get("object") == "invoice" and f"{prefix}payments" not in expand:
        out.pop("payments", None)
    return out


# --- the server --------------------------------------------------------------------------------


class FakeStripe:
    """The fake server; start it with `with` or `.start()`."""

    def __init__(self, api_key: str = "sk_test_fake") -> None:
        self.api_key = api_key
        self.objects: dict[str, dict[str, Json]] = {name: {} for name in _RESOURCES}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self._failures: list[tuple[int | None, str | None]] = []  # None: answer normally
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> FakeStripe:
        """Serve in a background thread."""
        self._server = serve_in_thread(self.port, _handler_for(self))
        return self

    def stop(self) -> None:
        """Stop serving."""
        stop_server(self._server)

    def put(self, *objs: Json) -> None:
        """Add or replace objects (their `object` field says which list they are in)."""
        with self._lock:
            for obj in objs:
                self.objects[obj["object"] + "s"][obj["id"]] = obj

    def fail_next(self, status: int, times: int = 1, path: str | None = None, after: int = 0) -> None:
        """Answer `times` requests (to paths starting with `path`, if given) with `status`,
        once `after` more such requests have been answered normally."""
        with self._lock:
            self._failures.extend([(None, path)] * after + [(status, path)] * times)

    def list_requests(self, resource: str) -> list[dict[str, Any]]:
        """The query of every list request of `resource`, in order."""
        return [q for m, p, q in self.requests if m == "GET" and p == f"/v1/{resource}"]

    def answer(self, method: str, path: str, query: dict[str, Any], auth: str) -> tuple[int, Json]:
        """(HTTP status, JSON body) for one request."""
        with self._lock:
            self.requests.append((method, path, query))
            for i, (status, prefix) in enumerate(self._failures):
                if prefix is None or path.startswith(prefix):
                    del self._failures[i]
                    if status is not None:
                        message = "Too many requests hit the API too quickly." if status == 429 else "Something went wrong."
                        return status, _error(status, message)
                    break
            if auth != f"Bearer {self.api_key}":
                return 401, _error(401, "Invalid API Key provided.")
            parts = path.strip("/").split("/")
            if method != "GET" or len(parts) not in (2, 3) or parts[0] != "v1" or parts[1] not in _RESOURCES:
                return 404, _error(404, f"Unrecognized request URL ({method}: {path}).")
            store = self.objects[parts[1]]
            expand = set(query.get("expand", []))
            if len(parts) == 3:
                found = store.get(parts[2])
                if found is None:
                    return 404, _error(404, f"No such {parts[1][:-1]}: '{parts[2]}'")
                return 200, _unexpanded(found, expand)
            return 200, self._list(parts[1], store, query, expand)

    def _list(self, resource: str, store: dict[str, Json], query: dict[str, Any], expand: set[str]) -> Json:
        rows = sorted(store.values(), key=lambda o: (o.get("created", 0), o["id"]), reverse=True)
        if resource == "subscriptions":
            wanted = query.get("status")
            if wanted != "all":
                rows = [r for r in rows if (r["status"] == wanted if wanted else r["status"] != "canceled")]
        gte = query.get("created", {}).get("gte")
        if gte is not None:
            rows = [r for r in rows if r.get("created", 0) >= int(gte)]
        after = query.get("starting_after")
        if after:
            ids = [r["id"] for r in rows]
            rows = rows[ids.index(after) + 1:] if after in ids else []
        limit = int(query.get("limit", 10))
        page = rows[:limit]
        return {"object": "list", "url": f"/v1/{resource}", "has_more": len(rows) > limit,
                "data": [_unexpanded(r, expand, "data.") for r in page]}


def _error(status: int, message: str) -> Json:
    return {"error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}}


def _query(raw: str) -> dict[str, Any]:
    """Stripe's form encoding back to values: `expand[0]=a` → lists, `created[gte]=1` → dicts."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        if "[" in key:
            name, sub = key[:-1].split("[", 1)
            if sub.isdigit() or sub == "":
                out.setdefault(name, []).append(value)
            else:
                out.setdefault(name, {})[sub] = value
        else:
            out[key] = value
    return out


def _handler_for(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            url = urlsplit(self.path)
            status, body = fake.answer("GET", url.path, _query(url.query), self.headers.get("Authorization", ""))
            self._send(status, body)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            status, body = fake.answer("POST", urlsplit(self.path).path, {}, self.headers.get("Authorization", ""))
            self._send(status, body)

    return Handler


def dumps(obj: Json) -> bytes:
    """A webhook body as Stripe sends it (JSON, UTF-8)."""
    return json.dumps(obj, indent=2).encode()
