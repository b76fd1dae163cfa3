"""Benchmark: what the admin dashboard's security costs, against baselines measured in the same run.

In one process, over httpx's ASGI transport (no network), the same trivial JSON route is served

- bare: a Starlette app with no middleware (the baseline);
- secured: behind `webapp.security.middleware` (security headers, signed session cookie, CSRF)
  and the `admin_api` guard, as an anonymous caller (401), a logged-in GET, and a logged-in POST
  carrying the CSRF header.

It also times one argon2id verification with the default parameters (what one log-in costs)
against a cheap hash. Prints microseconds per request, requests per second and the ratios.
Run: `.venv/bin/python bench/admin.py [--requests 3000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse, Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from promostack.config import Settings  # noqa: E402
from promostack.db.migrate import upgrade  # noqa: E402
from promostack.runtime import build_runtime  # noqa: E402
from webapp import security  # noqa: E402
from webapp.auth import admin_api, log_in  # noqa: E402


async def ping(request: Request) -> Response:
    """A constant answer: all the time measured is the stack around it."""
    return JSONResponse({"ok": True})


async def login(request: Request) -> Response:
    """Marks the session as an admin's (the benchmark's stand-in for the log-in form)."""
    log_in(request.session)
    return JSONResponse({"csrf": security.csrf_token(request.session)})


def bare_app() -> Starlette:
    return Starlette(routes=[Route("/admin/api/ping", ping, methods=["GET", "POST"])])


def secured_app(settings: Settings) -> Starlette:
    app = Starlette(
        routes=[
            Route("/admin/api/ping", admin_api(ping), methods=["GET", "POST"]),
            Route("/bench/login", login),
        ],
        middleware=security.middleware(settings),
    )
    app.state.runtime = build_runtime(settings)
    return app


async def timed(client: httpx.AsyncClient, method: str, url: str, n: int, status: int, **kw: object) -> float:
    """Microseconds per request over `n` sequential requests (each must answer `status`)."""
    for _ in range(50):  # warm-up
        await client.request(method, url, **kw)
    start = time.perf_counter()
    for _ in range(n):
        answer = await client.request(method, url, **kw)
        if answer.status_code != status:
            raise SystemExit(f"{method} {url} answered {answer.status_code}, expected {status}")
    return (time.perf_counter() - start) / n * 1e6


async def main(requests: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(db_url)
        settings = Settings(
            _env_file=None, data_dir=Path(tmp), database_url=db_url, session_secret="bench-secret"
        )  # type: ignore[call-arg]
        base = "http://bench"
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare_app()), base_url=base) as bare:
            baseline = await timed(bare, "GET", "/admin/api/ping", requests, 200)
        secured = secured_app(settings)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=secured), base_url=base) as client:
            anonymous = await timed(client, "GET", "/admin/api/ping", requests, 401)
            token = (await client.get("/bench/login")).json()["csrf"]
            logged_in = await timed(client, "GET", "/admin/api/ping", requests, 200)
            posted = await timed(
                client, "POST", "/admin/api/ping", requests, 200, headers={"X-CSRF-Token": token}
            )
        secured.state.runtime.close()

    def verify_ms(hasher: PasswordHasher, rounds: int) -> float:
        hashed = hasher.hash("correct horse battery staple")
        start = time.perf_counter()
        for _ in range(rounds):
            hasher.verify(hashed, "correct horse battery staple")
        return (time.perf_counter() - start) / rounds * 1e3

    default_ms = verify_ms(PasswordHasher(), 5)
    cheap_ms = verify_ms(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1), 50)

    print(
        f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"python {platform.python_version()}"
    )
    print(f"requests per case: {requests}, sequential, in-process ASGI (no network)")
    print(f"{'case':44} {'µs/req':>9} {'req/s':>9} {'× baseline':>11}")
    for name, micros in (
        ("baseline: bare route, no middleware", baseline),
        ("secured, anonymous (401 from the guard)", anonymous),
        ("secured, logged-in GET", logged_in),
        ("secured, logged-in POST with CSRF header", posted),
    ):
        print(f"{name:44} {micros:9.0f} {1e6 / micros:9.0f} {micros / baseline:11.2f}")
    print(f"argon2id verify, default parameters: {default_ms:.0f} ms per log-in attempt")
    print(
        f"argon2id verify, cheap test hash (t=1, m=1 MiB): {cheap_ms:.2f} ms "
        f"(× {default_ms / cheap_ms:.0f} cheaper)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    asyncio.run(main(parser.parse_args().requests))
