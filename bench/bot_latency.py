"""Benchmark: Telegram `/promo` latency, webhook POST → photo arriving at the Bot API.

Everything runs on loopback: the fake Bot API (`tests/fakes/bot_api.py`), the web app served by
uvicorn with the promo bot on, a migrated SQLite database (or `--database-url`), and a Prefect
API (a temporary test server, or `PREFECT_API_URL` when `--prefect-api` is given).

Variants, measured in the same run on the same fake server and the same uvicorn setup:
- `bare`: a bare python-telegram-bot handler behind a bare Starlette webhook that makes the same
  photo (same template, same code, the same Telegram JPEG, `telegram_photo`) and sends it — no
  database, no validation, no quota, no event. This is the baseline.
- `promo`: the real web app and promo bot: secret check, user touched in the database, the promo
  step list (`flows.render_promo.make_promo`: per-user quota counted, attempt recorded while the
  coupon is validated and the template loaded, rendered, photo sent, attempt settled, Prefect
  event emitted to the Prefect API).

For each: 200 commands one at a time, then 200 with 20 in flight (each command from its own user,
as 20 concurrent users would send them). Prints p50/p95 ms, `ratio: X` (promo p50 / bare p50, one
at a time), `ratio_20_users: X` (the same with 20 in flight) and `errors_20_users:`. It also times
the `render-promo` flow against the plain `make_promo` in-process, to show Prefect's per-run cost.

Run: `.venv/bin/python bench/bot_latency.py [--commands 200] [--concurrency 20]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import Application, CommandHandler, ContextTypes  # noqa: E402

from bots.registry import find_bot, webhook_secret  # noqa: E402
from promostack.config import Settings  # noqa: E402
from promostack.coupons import LocalRegistry  # noqa: E402
from promostack.db.engine import make_engine, make_session_factory  # noqa: E402
from promostack.db.migrate import upgrade  # noqa: E402
from promostack.render.telegram import telegram_photo  # noqa: E402
from promostack.storage import build_store  # noqa: E402
from promostack.templates.store import TemplateStore, load_template_dir  # noqa: E402
from tests.fakes.bot_api import BotApiCall, FakeBotApi, message_update  # noqa: E402
from tests.fakes.ports import free_port  # noqa: E402

TOKEN = "700900:bench-token"
SLUG = "summer-sale"
CODE = "WELCOME10"
DEMO = Path(__file__).resolve().parents[1] / "promostack" / "templates" / "demo"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Run:
    """Latencies (ms) and failures of one batch of commands."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    failures: list[str] = field(default_factory=list)

    def p(self, q: float) -> float:
        """The q-quantile latency in ms (nan when nothing arrived)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- servers -------------------------------------------------------------------------------------


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:  # startup runs the lifespan (bots start); nothing to await here
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def bare_app(settings: Settings) -> Starlette:
    """The baseline: a bare webhook and a bare /promo handler doing the same render and send."""
    meta, background = load_template_dir(DEMO / SLUG)
    coupon_area = meta.coupon_area
    assert coupon_area is not None
    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(settings.telegram_api_base + "/bot")
        .updater(None)
        .concurrent_updates(64)
        .build()
    )

    async def promo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        code = context.args[0].upper()
        image = await asyncio.to_thread(telegram_photo, meta, background, {coupon_area.id: code})
        await context.bot.send_photo(update.effective_chat.id, image, caption=f"{code} — {meta.name}")

    application.add_handler(CommandHandler("promo", promo))

    async def webhook(request: Request) -> Response:
        await application.update_queue.put(Update.de_json(await request.json(), application.bot))
        return Response(status_code=200)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with application:
            await application.start()
            yield
            await application.stop()

    return Starlette(routes=[Route("/telegram/promo/webhook", webhook, methods=["POST"])], lifespan=lifespan)


# --- the load --------------------------------------------------------------------------------------


async def drive(
    api: FakeBotApi, url: str, secret: str, commands: int, concurrency: int, users: Iterator[int]
) -> Run:
    """Send `commands` /promo updates, `concurrency` in flight, each from a new user; time each photo."""
    loop = asyncio.get_running_loop()
    waiting: dict[int, asyncio.Future[BotApiCall]] = {}

    def arrived(call: BotApiCall) -> None:  # the fake's server thread
        future = waiting.get(call.params.get("chat_id"))  # type: ignore[arg-type]
        if future is not None and call.method in {"sendPhoto", "sendMessage"}:
            loop.call_soon_threadsafe(lambda: future.done() or future.set_result(call))

    run = Run()
    gate = asyncio.Semaphore(concurrency)
    remove = api.add_listener(arrived)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def one(user: int) -> None:
            async with gate:
                waiting[user] = loop.create_future()
                started = time.monotonic()
                update = message_update(
                    f"/promo {CODE} {SLUG}", user_id=user, username=None, first_name="Bench"
                )
                response = await client.post(url, json=update, headers={SECRET_HEADER: secret})
                try:
                    if response.status_code != 200:
                        raise RuntimeError(f"webhook answered {response.status_code}")
                    call = await asyncio.wait_for(waiting[user], 60)
                    if call.method != "sendPhoto" or not call.ok:
                        raise RuntimeError(f"{call.method} {call.status}")
                    run.latencies.append((call.at - started) * 1000)
                except (RuntimeError, TimeoutError) as exc:
                    run.errors += 1
                    run.failures.append(str(exc) or type(exc).__name__)

        await asyncio.gather(*(one(next(users)) for _ in range(commands)))
    remove()
    return run


async def flow_overhead(settings: Settings, rounds: int) -> tuple[float, float]:
    """Median ms of the render_promo flow and of the plain make_promo, same request, in-process."""
    from flows.render_promo import make_promo, render_promo
    from promostack.promo import PromoRequest
    from promostack.runtime import build_runtime, install_runtime

    runtime = build_runtime(settings)
    request = PromoRequest(template_slug=SLUG, coupon_code=CODE, channel="cli", user_ref="bench")
    timings: dict[str, list[float]] = {"flow": [], "plain": []}
    with install_runtime(runtime):
        for _ in range(3):  # warm caches and Prefect's flow registration
            await render_promo(request)
        for _ in range(rounds):
            for name, call in (
                ("plain", lambda: make_promo(runtime, request)),
                ("flow", lambda: render_promo(request)),
            ):
                started = time.perf_counter()
                await call()
                timings[name].append((time.perf_counter() - started) * 1000)
    runtime.close()
    return statistics.median(timings["flow"]), statistics.median(timings["plain"])


# --- setup and report ----------------------------------------------------------------------------


def prepare(data_dir: Path, api: FakeBotApi, database_url: str | None) -> Settings:
    """Settings for the run, with the database migrated, the template stored and the coupon added."""
    url = database_url or f"sqlite:///{data_dir / 'bench.db'}"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=data_dir,
        database_url=url,
        telegram_bot_token=TOKEN,
        telegram_api_base=api.api_base,
        coupon_validator="local",
    )
    upgrade(url)
    meta, image = load_template_dir(DEMO / SLUG)
    TemplateStore(build_store(settings)).save(meta, image)
    engine = make_engine(url)
    registry = LocalRegistry(make_session_factory(engine))
    if not any(c.code == CODE for c in registry.list()):
        registry.add(CODE, discount=10)
    engine.dispose()
    return settings


async def measure(settings: Settings, api: FakeBotApi, commands: int, concurrency: int) -> dict[str, Run]:
    """Each variant's runs, one at a time and concurrently, interleaved on the same fake Bot API.

    Both apps run at once and take turns (command by command one at a time, batch by batch
    concurrently), so a change in the machine's load during the run hits every variant alike.
    """
    from webapp.app import create_app

    secret = webhook_secret(settings, find_bot(settings, "promo"))
    apps = {"bare": bare_app(settings), "promo": create_app(settings)}
    keys = {"bare": "", "promo": secret}
    results = {f"{name}/{c}": Run() for c in (1, concurrency) for name in apps}
    users = iter(range(1_000_000, 10_000_000))
    with serve(apps["bare"]) as bare, serve(apps["promo"]) as promo:
        urls = {name: base + "/telegram/promo/webhook" for name, base in (("bare", bare), ("promo", promo))}

        async def turn(name: str, count: int, in_flight: int, into: Run | None) -> None:
            run = await drive(api, urls[name], keys[name], count, in_flight, users)
            if into is not None:
                into.latencies += run.latencies
                into.errors += run.errors
                into.failures += run.failures

        order = list(apps)
        n = len(order)
        for name in order:  # warm-up: imports, caches, connections
            await turn(name, 10, 1, None)
        for i in range(commands):
            for name in order[i % n :] + order[: i % n]:
                await turn(name, 1, 1, results[f"{name}/1"])
        batch = concurrency * 2
        for i in range(0, commands, batch):
            for name in order[(i // batch) % n :] + order[: (i // batch) % n]:
                await turn(name, min(batch, commands - i), concurrency, results[f"{name}/{concurrency}"])
    return results


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument(
        "--prefect-api", action="store_true", help="use PREFECT_API_URL instead of a test server"
    )
    args = parser.parse_args()

    import logging

    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, FakeBotApi() as api, _prefect(args.prefect_api):
        settings = prepare(Path(tmp), api, args.database_url)
        results = asyncio.run(measure(settings, api, args.commands, args.concurrency))
        flow_ms, plain_ms = asyncio.run(flow_overhead(settings, 30))

    print(
        f"machine: {platform.platform()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"database: {'sqlite (temporary)' if not args.database_url else args.database_url.split('@')[-1]}")
    print(f"{'variant':<12}{'p50 ms':>10}{'p95 ms':>10}{'errors':>8}{'n':>6}")
    for name, run in results.items():
        print(f"{name:<12}{run.p(0.5):>10.1f}{run.p(0.95):>10.1f}{run.errors:>8}{len(run.latencies):>6}")
    print(
        f"flow in-process: render_promo flow p50 {flow_ms:.1f} ms, plain make_promo p50 {plain_ms:.1f} ms, "
        f"Prefect overhead {flow_ms - plain_ms:.1f} ms per run"
    )
    c = args.concurrency
    ratio = results["promo/1"].p(0.5) / results["bare/1"].p(0.5)
    ratio_c = results[f"promo/{c}"].p(0.5) / results[f"bare/{c}"].p(0.5)
    print(f"ratio: {ratio:.2f}   (promo p50 / bare p50, one command at a time; target <= 1.5)")
    print(f"ratio_{c}_users: {ratio_c:.2f}   (the same with {c} commands in flight; target <= 1.5)")
    for name, run in results.items():
        if run.failures:
            print(f"{name} failures: {sorted(set(run.failures))}")
    print(f"errors_{c}_users: {results[f'promo/{c}'].errors}   (target 0)")


@contextmanager
def _prefect(use_configured: bool) -> Iterator[None]:
    if use_configured:
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        prefect_test_harness(server_startup_timeout=90),
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield


if __name__ == "__main__":
    main()
