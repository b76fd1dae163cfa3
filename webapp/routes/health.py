"""Operations endpoints: `/readyz` (can this process serve?) and `/metrics` (Prometheus).

`/healthz` (the process answers at all) lives with the public routes. `/readyz` checks, side by
side with a short time-out each, the database, object storage, the Prefect API and every bot's
webhook side (its Application started, which needs Telegram to have answered `getMe`):

- 200 `{"status": "ready"}` when all pass;
- 200 `{"status": "degraded"}` when only the Prefect API or a bot fails — pages, the API and the
  other bots still work, and pulling every web process out of the load balancer for a Prefect
  restart would turn a delay of background jobs into an outage;
- 503 `{"status": "unready"}` when the database or storage fails: nothing useful can be served.

Each check reports `ok`, `ms` and a `detail` an operator can act on.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bots.lifecycle import BotUnavailable, LiveBot
from promostack.runtime import Runtime
from webapp.context import runtime
from webapp.errors import WebError
from webapp.metrics import Metrics

CHECK_TIMEOUT_S = 3.0
REQUIRED = ("database", "storage")
DEFAULT_PREFECT_API = "http://127.0.0.1:4200/api"


async def _check(work: Callable[[], Awaitable[str]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(work(), CHECK_TIMEOUT_S)
        ok = True
    except TimeoutError:
        ok, detail = False, f"no answer within {CHECK_TIMEOUT_S:.0f} s"
    except Exception as exc:  # a readiness check reports every failure instead of raising
        ok, detail = False, f"{type(exc).__name__}: {exc}"[:300]
    return {"ok": ok, "ms": round((time.perf_counter() - started) * 1000, 1), "detail": detail}


def _database(rt: Runtime) -> Callable[[], Awaitable[str]]:
    def probe() -> str:
        with rt.engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return f"schema {version}"

    return lambda: asyncio.to_thread(probe)


def _storage(rt: Runtime) -> Callable[[], Awaitable[str]]:
    def probe() -> str:
        rt.store.list("templates/index")
        return "reachable"

    return lambda: asyncio.to_thread(probe)


def _prefect(api: str) -> Callable[[], Awaitable[str]]:
    async def probe() -> str:
        async with httpx.AsyncClient(timeout=CHECK_TIMEOUT_S) as client:
            answer = await client.get(f"{api.rstrip('/')}/health")
        if answer.status_code != 200:
            raise RuntimeError(f"{api} answered HTTP {answer.status_code}")
        return f"{api} healthy"

    return probe


def _bot(bot: LiveBot) -> Callable[[], Awaitable[str]]:
    async def probe() -> str:
        try:
            await bot.ready()
        except BotUnavailable as exc:
            raise RuntimeError(str(exc)) from exc
        return f"started, webhook {bot.entry.webhook_path}"

    return probe


async def readyz(request: Request) -> Response:
    """Whether this process can serve, with each dependency's check (see the module docstring)."""
    rt = runtime(request)
    bots: dict[str, LiveBot] = getattr(request.app.state, "bots", {})
    probes: dict[str, Callable[[], Awaitable[str]]] = {
        "database": _database(rt),
        "storage": _storage(rt),
        "prefect_api": _prefect(rt.settings.prefect_api_url or DEFAULT_PREFECT_API),
        **{f"bot:{bot_id}": _bot(bot) for bot_id, bot in bots.items()},
    }
    results = await asyncio.gather(*(_check(probe) for probe in probes.values()))
    checks = dict(zip(probes, results))
    if not all(checks[name]["ok"] for name in REQUIRED):
        status, code = "unready", 503
    elif not all(check["ok"] for check in checks.values()):
        status, code = "degraded", 200
    else:
        status, code = "ready", 200
    return JSONResponse({"status": status, "checks": checks}, status_code=code, headers={"Cache-Control": "no-store"})


async def metrics(request: Request) -> Response:
    """The Prometheus exposition of this app's metrics (text format 0.0.4)."""
    token = runtime(request).settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, f"Bearer {token.get_secret_value()}".encode()):
            raise WebError(401, "Metrics need the bearer token (METRICS_TOKEN).")
    registry: Metrics = request.app.state.metrics
    registry.watch(runtime(request).sessions)
    body = await asyncio.to_thread(generate_latest, registry.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def routes() -> list[BaseRoute]:
    """The readiness and metrics routes."""
    return [
        Route("/readyz", readyz, name="readyz"),
        Route("/metrics", metrics, name="metrics"),
    ]
