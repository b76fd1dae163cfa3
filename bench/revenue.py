"""Benchmark: MRR over 100 000 subscriptions, and signed webhook deliveries on Postgres.

* `mrr_100k_subs_s` — target <= 1 s: MRR per currency (and per customer) of 100 000 mirrored
  subscriptions held in memory (1 to 3 items each, monthly/quarterly/yearly prices, quantities,
  forever/once coupons, 10 % trialing or canceled). Baseline `sum_unit_amounts_100k_s`: a bare
  loop summing unit_amount × quantity over the same items (no rules at all).
  Also `mrr_100k_subs_from_postgres_s`: the same, loading the mirror from Postgres first (what
  the snapshot and reconcile flows do), and `revenue_page_100k_subs_s`: the Revenue page's
  figures for the same book, which read the customer MRR ledger instead.
* `webhook_events_per_s` — target >= 200: signed `customer.subscription.*` deliveries POSTed to
  the real app under uvicorn (its own process, as in production) by 8 client threads over HTTP, 10 % of them duplicates, each
  verified, stored once and acknowledged; `webhook_events_applied_per_s` counts until every
  stored event is applied to the mirror (the work done after the answer). Baseline
  `rejected_deliveries_per_s`: the same deliveries with a wrong signature (body read and
  signature check, no database) on the same server.

`--webhook-only` skips the MRR figures (the mirror of 100 000 subscriptions is still loaded, so
the webhook runs against the same tables). The load average is printed at the start and the end.

Needs the Postgres of the tests (PROMOSTACK_TEST_PG, default postgres@127.0.0.1:5432/test); it
makes its own database and drops it. Run: `.venv/bin/python bench/revenue.py`.
"""

from __future__ import annotations

import os
import platform
import random
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from promostack.billing.dashboard import overview  # noqa: E402
from promostack.billing.mrr import NO_FILTER, Coupon, Item, Subscription, customer_mrr, mrr_totals  # noqa: E402
from promostack.billing.mirror import load_subscriptions  # noqa: E402
from promostack.db.engine import make_engine, make_session_factory  # noqa: E402
from promostack.db.migrate import upgrade  # noqa: E402
from promostack.db.revenue import CustomerMrr, StripeEvent, StripeSubscription, StripeSubscriptionItem  # noqa: E402
from bench.signals import median_s  # noqa: E402
from tests.fakes.ports import free_port  # noqa: E402
from tests.fakes.stripe_api import dumps, event, item, price, signature_header, subscription  # noqa: E402

PG_ADMIN_URL = os.environ.get("PROMOSTACK_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
SUBSCRIPTIONS = 100_000
CREATED = datetime(2026, 1, 1, tzinfo=timezone.utc)
DELIVERIES = 2_000
CLIENTS = 8
SECRET = "whsec_" + "bench"
PRICES = [("price_m", 1000, "month", 1), ("price_q", 6000, "month", 3), ("price_y", 24000, "year", 1), ("price_s", 500, "month", 1)]


def synthetic_subscriptions(n: int, seed: int = 7) -> list[Subscription]:
    """`n` subscriptions shaped like a real book of business (see the module docstring)."""
    rng = random.Random(seed)
    forever = Coupon("forever", percent_off=20)
    once = Coupon("once", amount_off=500, currency="usd")
    subs = []
    for i in range(n):
        items = tuple(
            Item(pid, "prod_a" if pid != "price_s" else "prod_b", amount, rng.randint(1, 5), interval, count)
            for pid, amount, interval, count in rng.sample(PRICES, rng.randint(1, 3))
        )
        status = rng.choices(["active", "past_due", "trialing", "canceled"], [85, 5, 5, 5])[0]
        coupons = (forever,) if i % 10 == 0 else (once,) if i % 10 == 1 else ()
        subs.append(Subscription(f"sub_{i}", f"cus_{i % (n * 9 // 10)}", status, "usd" if i % 5 else "eur", items, coupons))
    return subs


def bench_mrr(subs: list[Subscription]) -> tuple[float, float]:
    def rules() -> None:
        mrr_totals(subs)  # per customer, then per currency

    def bare() -> None:
        total = 0
        for sub in subs:
            for it in sub.items:
                total += (it.unit_amount or 0) * it.quantity

    return median_s(rules, 3), median_s(bare, 3)


def fill_postgres(url: str, subs: list[Subscription]) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(StripeSubscription),
            [
                {"id": s.id, "customer_id": s.customer_id, "status": s.status, "currency": s.currency,
                 "cancel_at_period_end": False, "created": CREATED, "source_ts": 1,
                 "discounts": [{"duration": c.duration, "percent_off": c.percent_off, "amount_off": c.amount_off,
                                "currency": c.currency} for c in s.coupons]}
                for s in subs
            ],
        )
        conn.execute(
            insert(StripeSubscriptionItem),
            [
                {"id": f"si_{s.id}_{j}", "subscription_id": s.id, "price_id": it.price_id, "product_id": it.product_id,
                 "quantity": it.quantity, "currency": s.currency, "unit_amount": it.unit_amount, "billing_scheme": "per_unit",
                 "interval": it.interval, "interval_count": it.interval_count, "usage_type": "licensed", "discounts": []}
                for s in subs
                for j, it in enumerate(s.items)
            ],
        )
    engine.dispose()


def bench_revenue_page(url: str, subs: list[Subscription]) -> float:
    """The Revenue page's figures (all products) with the ledger of `subs` in Postgres."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(CustomerMrr),
            [{"customer_id": c, "currency": cur, "mrr": v, "ever_paid": True, "updated_at": CREATED}
             for (c, cur), v in customer_mrr(subs).items()],
        )
    sessions = make_session_factory(engine)

    def run() -> None:
        with sessions() as session:
            overview(session, NO_FILTER, datetime.now(timezone.utc))

    seconds = median_s(run, 3)
    engine.dispose()
    return seconds


def bench_mrr_from_postgres(url: str) -> float:
    sessions = make_session_factory(make_engine(url))

    def run() -> None:
        with sessions() as session:
            mrr_totals(load_subscriptions(session))

    return median_s(run, 2)


def deliveries(count: int) -> list[bytes]:
    """`count` event bodies for distinct customers, 10 % of them repeating an earlier one."""
    bodies: list[bytes] = []
    for i in range(count):
        if i % 10 == 9:
            bodies.append(bodies[i - 5])
            continue
        sub = subscription(f"sub_b{i}", f"cus_b{i}", [item(f"si_b{i}", price("price_m", "prod_a", 1000), quantity=1 + i % 3)])
        bodies.append(dumps(event(f"evt_b{i}_{uuid.uuid4().hex[:6]}", "customer.subscription.created", sub)))
    return bodies


def expected_ledger(count: int) -> float:
    """The MRR of all the customers of `deliveries(count)` (each one subscription of 1000 × quantity)."""
    return float(sum(1000 * (1 + i % 3) for i in range(count) if i % 10 != 9))


def post_all(url: str, bodies: list[bytes], secret: str) -> tuple[float, list[int]]:
    def send(client: httpx.Client, body: bytes) -> int:
        headers = {"Stripe-Signature": signature_header(body, secret), "Content-Type": "application/json"}
        return client.post(url, content=body, headers=headers).status_code

    chunks = [bodies[i::CLIENTS] for i in range(CLIENTS)]

    def worker(chunk: list[bytes]) -> list[int]:
        with httpx.Client(timeout=30) as client:
            return [send(client, b) for b in chunk]

    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = [s for result in pool.map(worker, chunks) for s in result]
    return time.perf_counter() - start, statuses


def start_web(url: str, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    """The web app as production runs it: its own uvicorn process (the clients stay in this one)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "REDIS_URL")}
    env.update(DATABASE_URL=url, DATA_DIR=str(tmp), STRIPE_WEBHOOK_SECRET=SECRET)
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "webapp.app:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process, port
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the web app did not start")
        time.sleep(0.1)


def bench_webhook(url: str, tmp: Path) -> tuple[float, float, float]:
    process, port = start_web(url, tmp)
    endpoint = f"http://127.0.0.1:{port}/stripe/webhook"
    try:
        post_all(endpoint, deliveries(100), SECRET)  # warm-up: pools, imports
        bodies = deliveries(DELIVERIES)
        rejected_s, rejected = post_all(endpoint, bodies, "whsec_" + "wrong")
        assert set(rejected) == {400}, set(rejected)
        start = time.perf_counter()
        elapsed, statuses = post_all(endpoint, bodies, SECRET)
        assert set(statuses) == {200}, set(statuses)
        engine = make_engine(url)
        unique = len(set(bodies)) + 100 - 10  # plus the warm-up's unique events
        while True:
            with engine.connect() as conn:
                applied = conn.execute(select(func.count()).select_from(StripeEvent).where(StripeEvent.status == "processed")).scalar()
            if applied >= unique:
                break
            time.sleep(0.05)
        applied_s = time.perf_counter() - start
        with engine.connect() as conn:  # applied right: each event once, and every customer's MRR in the ledger
            retried = conn.execute(select(func.count()).select_from(StripeEvent).where(StripeEvent.attempts != 1)).scalar()
            ledger = conn.execute(select(func.sum(CustomerMrr.mrr)).where(CustomerMrr.customer_id.like("cus_b%"))).scalar()
        assert (retried, ledger) == (0, expected_ledger(DELIVERIES)), (retried, ledger)
        engine.dispose()
    finally:
        process.terminate()
        process.wait(30)
    return DELIVERIES / elapsed, DELIVERIES / applied_s, DELIVERIES / rejected_s


def main() -> None:
    webhook_only = "--webhook-only" in sys.argv[1:]
    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cpus, Python {platform.python_version()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    subs = synthetic_subscriptions(SUBSCRIPTIONS)
    if not webhook_only:
        mrr_s, bare_s = bench_mrr(subs)
        print(f"mrr_100k_subs_s: {mrr_s:.3f}")
        print(f"sum_unit_amounts_100k_s: {bare_s:.3f}")
        print("  how: median of 3 runs in one process; MRR per currency and per customer by the Stripe rules;")
        print("  baseline is a bare unit_amount × quantity sum over the same 100 000 subscriptions' items")

    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    name = f"promostack_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        fill_postgres(url, subs)
        if not webhook_only:
            print(f"mrr_100k_subs_from_postgres_s: {bench_mrr_from_postgres(url):.3f}")
            print("  how: median of 2 runs: load every mirrored subscription and item from Postgres, then MRR")
            print(f"revenue_page_100k_subs_s: {bench_revenue_page(url, subs):.3f}")
            print("  how: median of 3 runs of the Revenue page's figures (all products) from the customer MRR ledger")
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            accepted, applied, rejected = bench_webhook(url, Path(tmp))
        print(f"webhook_events_per_s: {accepted:.0f}")
        print(f"webhook_events_applied_per_s: {applied:.0f}")
        print(f"rejected_deliveries_per_s: {rejected:.0f}")
        print(f"  how: {DELIVERIES} signed deliveries (10 % duplicates) POSTed by {CLIENTS} threads over HTTP to")
        print("  uvicorn serving the real app on Postgres in its own process (the clients in this one);")
        print("  applied = until every stored event is processed;")
        print("  baseline = the same deliveries with a wrong signature (refused before the database);")
        print("  the target (>= 200) is for webhook_events_per_s; events are applied in batches behind the answers")
        print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
