"""Benchmark: the public JSON API under load, against baselines measured in the same run.

A real uvicorn server (one worker, in its own process) serves the real app on loopback with a
migrated SQLite database, a local store holding the demo templates, a local coupon, and a
Prefect API (a temporary test server, or `PREFECT_API_URL` with `--prefect-api`). An httpx async
client drives it with bounded concurrency and a bounded request count:

- `GET /api/templates` against the baseline `GET /bench/constant`, a bare Starlette route in the
  same server returning a constant JSON list (same middleware, no store read).
- `POST /api/render` (PNG, the promo step list: per-IP quota counted, attempt recorded, coupon
  check, template load, render, attempt settled, Prefect event) against the baseline of plain
  in-process promos — `flows.render_promo.make_promo` called back to back in this process, same
  template, texts and format, no HTTP — taking turns with the API one request at a time, so both
  see the same machine load; and the bare `render_template` call rate in one process.
  The server's per-IP render limit is raised to 1 000 000 a minute: still counted on every
  request (its cost is measured), never reached.

Prints requests per second, p50/p99 latency in ms, errors, and the ratios to the baselines:
`render_api_ratio:` = `POST /api/render` throughput one at a time / plain in-process promo
throughput (target >= 0.8).
Run: `.venv/bin/python bench/web.py [--requests 1000] [--renders 120] [--concurrency 8]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# The project's packages are imported inside functions, once the checkout is on the path.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROUNDS = 3
TEMPLATE = "summer-sale"
CODE = "BENCH10"
TEXTS = {"headline": "Summer sale 30% off", "subline": "On every plan, this week only"}


@dataclass
class Run:
    """The latencies (ms) and errors of one load run."""

    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        """How many requests failed."""
        return sum(self.failures.values())

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        """The q-quantile of the latencies in ms (nearest rank)."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] if ordered else float("nan")

    def add(self, other: Run) -> None:
        """Fold `other`'s requests into this run."""
        self.seconds += other.seconds
        self.latencies += other.latencies
        for outcome, count in other.failures.items():
            self.failures[outcome] = self.failures.get(outcome, 0) + count

    def line(self) -> str:
        """One printed row."""
        return (
            f"{self.name:<28} {self.rps:8.1f} req/s   p50 {self.p(0.50):7.1f} ms   p99 {self.p(0.99):7.1f} ms"
            f"   n={len(self.latencies)} errors={self.errors}" + (f" {self.failures}" if self.failures else "")
        )


# --- the server process ------------------------------------------------------------------------


def serve(port: int, data_dir: Path) -> None:
    """Run in the child: the real app plus the bench-only constant route, on uvicorn."""
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from promostack.config import Settings
    from webapp.app import create_app

    settings = Settings(_env_file=None, data_dir=data_dir, render_limit_per_ip=1_000_000)  # type: ignore[call-arg]
    app = create_app(settings)
    constant = [{"slug": f"template-{i}", "name": f"Template {i}"} for i in range(3)]

    async def bench_constant(request: Request) -> Response:
        return JSONResponse({"templates": constant})

    app.router.routes.insert(0, Route("/bench/constant", bench_constant))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")


def prepare(data_dir: Path) -> None:
    """Migrate the database, store the demo templates, add the bench coupon."""
    from promostack.config import Settings
    from promostack.coupons import LocalRegistry
    from promostack.db.migrate import upgrade
    from promostack.runtime import build_runtime
    from promostack.templates.demo import DEMO_DIR
    from promostack.templates.store import TemplateStore, load_template_dir

    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    upgrade(settings.sqlalchemy_url)
    runtime = build_runtime(settings)
    store = TemplateStore(runtime.store)
    for folder in sorted(DEMO_DIR.iterdir()):
        if (folder / "meta.json").is_file():
            store.save(*load_template_dir(folder))
    LocalRegistry(runtime.sessions).add(CODE, discount=10)
    runtime.close()


@contextmanager
def server_process(data_dir: Path, prefect_api: str) -> Iterator[str]:
    """The server in its own process; yields its base URL once it answers."""
    from tests.fakes.ports import free_port

    port = free_port()
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--data-dir", str(data_dir)], env=env, cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/healthz", child, 60)
        yield url
    finally:
        child.terminate()
        child.wait(timeout=30)


@contextmanager
def prefect_api(given: str | None) -> Iterator[str]:
    """`given`; else a temporary Prefect server on a fresh Postgres database when the local
    Postgres answers (as production runs it: on SQLite, Prefect's server answers concurrent runs
    with 503s that its client retries for up to ~30 s); else Prefect's SQLite test server."""
    if given:
        yield given
        return
    admin_url = os.environ.get("PROMOSTACK_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
    try:
        with postgres_prefect_server(admin_url) as url:
            yield url
            return
    except PostgresUnavailable as exc:
        print(f"(Postgres unavailable for Prefect's server: {exc}; using Prefect's SQLite test server)")
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())


class PostgresUnavailable(Exception):
    """The local Postgres cannot host a Prefect database."""


@contextmanager
def postgres_prefect_server(admin_url: str) -> Iterator[str]:
    """`prefect server start` on a fresh database of the Postgres at `admin_url`, dropped after."""
    import uuid

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from promostack.db.engine import make_engine
    from tests.fakes.ports import free_port

    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    name = f"prefect_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any connection failure means "no Postgres here"
        admin.dispose()
        raise PostgresUnavailable(str(exc).splitlines()[0]) from exc
    db_url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=name)
    port = free_port()
    home = tempfile.mkdtemp(prefix="bench-prefect-")
    env = {
        **os.environ,
        "PREFECT_API_DATABASE_CONNECTION_URL": db_url.render_as_string(hide_password=False),
        "PREFECT_HOME": home,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        wait_until_up(f"{url}/health", server, 120)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def wait_until_up(url: str, process: subprocess.Popen, timeout_s: float) -> None:
    """Return once `url` answers 200; RuntimeError when `process` dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up")
        time.sleep(0.2)  # polling another process's port: there is no event to wait on


# --- load ----------------------------------------------------------------------------------------


async def load(name: str, url: str, requests: int, concurrency: int, body: dict | None = None) -> Run:
    """`requests` requests (GET, or POST of `body`) with at most `concurrency` in flight."""
    run = Run(name)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                try:
                    answer = await (client.post(url, json=body) if body is not None else client.get(url))
                    outcome = "ok" if answer.status_code == 200 else f"HTTP {answer.status_code}"
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                if outcome == "ok":
                    run.latencies.append((time.perf_counter() - started) * 1000)
                else:
                    run.failures[outcome] = run.failures.get(outcome, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        run.seconds = time.perf_counter() - started
    return run


def bare_render_rate(data_dir: Path, renders: int) -> Run:
    """The baseline: `render_template` called back to back in this process."""
    from promostack.config import Settings
    from promostack.render import render_template
    from promostack.storage import build_store
    from promostack.templates.store import TemplateStore

    store = TemplateStore(build_store(Settings(_env_file=None, data_dir=data_dir)))  # type: ignore[call-arg]
    meta = store.get(TEMPLATE)
    background = store.image(TEMPLATE, meta)
    texts = {**TEXTS, meta.coupon_area.id: CODE}
    run = Run("render_template (in-process)")
    started = time.perf_counter()
    for _ in range(renders):
        t0 = time.perf_counter()
        render_template(meta, background, texts)
        run.latencies.append((time.perf_counter() - t0) * 1000)
    run.seconds = time.perf_counter() - started
    return run


def plain_promo_rate(runtime: object, renders: int) -> Run:
    """The same promo as the API makes, through `make_promo` in this process: no HTTP."""
    from flows.render_promo import make_promo
    from promostack.promo import PromoRequest

    request = PromoRequest(template_slug=TEMPLATE, coupon_code=CODE, texts=TEXTS, channel="api")
    run = Run("make_promo (in-process)")

    async def all_of_them() -> None:
        for _ in range(renders):
            t0 = time.perf_counter()
            await make_promo(runtime, request)  # type: ignore[arg-type]
            run.latencies.append((time.perf_counter() - t0) * 1000)

    started = time.perf_counter()
    asyncio.run(all_of_them())
    run.seconds = time.perf_counter() - started
    return run


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="GET requests per variant")
    parser.add_argument("--renders", type=int, default=120, help="render requests (and bare renders)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--prefect-api", default=None, help="use this Prefect API instead of a test server")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.data_dir)
        return

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"loopback, one uvicorn worker, concurrency {args.concurrency}\n")
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp, prefect_api(args.prefect_api) as api:
        data_dir = Path(tmp)
        prepare(data_dir)
        with server_process(data_dir, api) as url:
            render_body = {"template": TEMPLATE, "code": CODE, "texts": TEXTS, "format": "png"}
            # Warm up: imports, caches, the first flow run's registration.
            asyncio.run(load("warm-up", f"{url}/api/templates", 50, args.concurrency))
            asyncio.run(load("warm-up", f"{url}/api/render", 5, 1, render_body))
            # Alternate the two, each first in every other round, so neither gains from its turn.
            constant, listing = Run("GET /bench/constant (base)"), Run("GET /api/templates")
            pair = [(constant, "/bench/constant"), (listing, "/api/templates")]
            for round_ in range(ROUNDS * 2):
                for run, path in pair if round_ % 2 == 0 else pair[::-1]:
                    run.add(asyncio.run(load(run.name, f"{url}{path}", args.requests // (ROUNDS * 2), args.concurrency)))
            # The API one at a time and plain in-process promos take turns, each first every other round.
            from promostack.config import Settings
            from promostack.runtime import build_runtime

            runtime = build_runtime(Settings(_env_file=None, data_dir=data_dir))  # type: ignore[call-arg]
            plain_promo_rate(runtime, 3)  # warm its caches too
            render_1, plain = Run("POST /api/render (1 at a time)"), Run("make_promo (in-process)")
            per_round = max(1, args.renders // (ROUNDS * 2))
            for round_ in range(ROUNDS * 2):
                turns = [
                    lambda: render_1.add(asyncio.run(load(render_1.name, f"{url}/api/render", per_round, 1, render_body))),
                    lambda: plain.add(plain_promo_rate(runtime, per_round)),
                ]
                for turn in turns if round_ % 2 == 0 else turns[::-1]:
                    turn()
            runtime.close()
            render_n = asyncio.run(
                load("POST /api/render", f"{url}/api/render", args.renders, args.concurrency, render_body)
            )
        bare = bare_render_rate(data_dir, args.renders)
    for run in (constant, listing, bare, plain, render_1, render_n):
        print(run.line())
    print()
    print(f"ratio GET /api/templates / constant route (req/s): {listing.rps / constant.rps:.2f}")
    print(f"ratio POST /api/render / bare render_template (req/s): {render_n.rps / bare.rps:.2f}")
    print(
        f"render_api_ratio: {render_1.rps / plain.rps:.2f}   (POST /api/render one at a time / make_promo "
        "in-process, req/s, taking turns in the same run; target >= 0.8)"
    )
    print(
        f"render API overhead, one at a time: p50 {render_1.p(0.5) - statistics.median(bare.latencies):.0f} ms "
        "over the bare render (HTTP, quota, coupon check, event); "
        f"{render_1.p(0.5) - plain.p(0.5):.0f} ms over make_promo (HTTP)"
    )


if __name__ == "__main__":
    main()
