"""Benchmark: broadcasts against a local fake Bot API (real python-telegram-bot over HTTP).

The fake Bot API (`tests/fakes/bot_api.py`) runs in this process and records every call; the
broadcast runs in a child process (`python bench/broadcast.py --send ID`, the `run_broadcast` step
list without a Prefect server), so scenario (c) can `kill -9` it. The database is a fresh
Postgres database when 127.0.0.1:5432 answers (else SQLite); the shared limiter is Redis when
127.0.0.1:6379 answers (else the database) — both printed.

- baseline: what this machine's fake server + client can carry at all: 2 000 `send_message` calls
  with the same number in flight, no database, no pacing (`baseline_per_s:`).
- (a) 2 000 recipients at the default 25/s: `rate_ratio:` = achieved / configured (target ≥ 0.95).
- (b) 20 000 recipients on the paid lane at 500/s, 5 % of them blocked, random 429s (retry_after
  1 s): `duplicates:`, `lost:`, `blocked_marked:` (vs `blocked_injected:`) and `achieved_per_s:`.
- (c) the same, the sending process killed with SIGKILL at about half, then re-run (it waits for
  the dead run's lease to lapse): `duplicates:`, `lost:`, `unknown:` (≤ `in_flight:`).

Definitions: achieved rate = messages delivered / (last delivery − first delivery), from the fake
server's clock; duplicates = deliveries to a chat beyond its first; lost = snapshot rows left
pending/sending at the end, plus rows marked sent that the server never delivered.

Run: `.venv/bin/python bench/broadcast.py [--small 2000] [--large 20000] [--paid-rate 500]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select, text  # noqa: E402

from promostack.broadcasts import control  # noqa: E402
from promostack.broadcasts.compose import Draft  # noqa: E402
from promostack.config import Settings  # noqa: E402
from promostack.db.broadcasts import BroadcastRecipient  # noqa: E402
from promostack.db.engine import make_engine, make_session_factory, session_scope  # noqa: E402
from promostack.db.migrate import upgrade  # noqa: E402
from promostack.db.models import BotUser, utcnow  # noqa: E402
from tests.fakes.bot_api import FakeBotApi  # noqa: E402

TOKEN = "777:bench-broadcast"
PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"
IN_FLIGHT = 8
FLOOD_PROBABILITY = 0.0003


def _database(tmp: Path) -> tuple[str, str, object]:
    """(url, kind, cleanup) of a fresh migrated database."""
    admin = make_engine(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    name = f"promostack_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:  # noqa: BLE001 - no Postgres: SQLite it is
        url = f"sqlite:///{tmp / 'bench.db'}"
        upgrade(url)
        return url, "sqlite", lambda: None
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return url, "postgres", drop


def _redis() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
        return REDIS
    except Exception:  # noqa: BLE001 - no Redis: the database limiter
        return None


def _env(db_url: str, api: FakeBotApi, redis_url: str | None, rate: float, paid_rate: float, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "BROADCAST_"))}
    env |= {
        "DATABASE_URL": db_url, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": api.api_base,
        "BROADCAST_RATE_PER_S": str(rate), "BROADCAST_PAID_RATE_PER_S": str(paid_rate),
        "BROADCAST_IN_FLIGHT": str(IN_FLIGHT), "DATA_DIR": str(tmp), "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def _seed(sessions, first_id: int, count: int, language: str) -> list[int]:  # type: ignore[no-untyped-def]
    """The ids of `count` new active users; each scenario's users share a language, and its
    broadcast filters on it, so scenarios never reach each other's users."""
    ids = list(range(first_id, first_id + count))
    now = utcnow()
    with session_scope(sessions) as session:
        session.execute(
            insert(BotUser),
            [
                {"bot": "promo", "telegram_id": i, "status": "active", "first_seen": now, "last_seen": now, "language_code": language}
                for i in ids
            ],
        )
    return ids


def _new_broadcast(sessions, paid: bool, language: str) -> int:  # type: ignore[no-untyped-def]
    draft = Draft(bot="promo", text="<b>Bench</b> broadcast", paid=paid, language=language)
    broadcast_id = control.create(sessions, draft, created_by="bench")
    control.apply(sessions, broadcast_id, "start")
    return broadcast_id


def _send_process(broadcast_id: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, __file__, "--send", str(broadcast_id)], env=env, cwd=str(Path(__file__).parents[1]))


def _delivered(api: FakeBotApi, chats: set[int]) -> tuple[Counter[int], list[float]]:
    calls = [c for c in api.calls_of("sendMessage") if int(c.params["chat_id"]) in chats]
    return Counter(int(c.params["chat_id"]) for c in calls), sorted(c.at for c in calls)


def _rate(times: list[float]) -> float:
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


def _audit(sessions, api: FakeBotApi, broadcast_id: int, chats: set[int]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    per_chat, times = _delivered(api, chats)
    with session_scope(sessions) as session:
        rows = session.execute(
            select(BroadcastRecipient.chat_id, BroadcastRecipient.state).where(BroadcastRecipient.broadcast_id == broadcast_id)
        ).all()
        blocked_users = session.scalar(
            select(text("count(*)")).select_from(BotUser).where(BotUser.status == "blocked", BotUser.telegram_id.in_(chats))
        )
    states = Counter(state for _, state in rows)
    unfinished = states["pending"] + states["sending"]
    sent_not_delivered = sum(1 for chat, state in rows if state == "sent" and per_chat[chat] == 0)
    return {
        "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
        "lost": unfinished + sent_not_delivered,
        "sent": states["sent"],
        "blocked_rows": states["blocked"],
        "blocked_users": int(blocked_users or 0),
        "unknown": states["unknown"],
        "failed": states["failed"],
        "achieved_per_s": _rate(times),
    }


async def _baseline(api: FakeBotApi, count: int) -> float:
    """Messages per second the fake server and client carry with `IN_FLIGHT` in flight, unpaced."""
    from telegram import Bot
    from telegram.request import HTTPXRequest

    bot = Bot(TOKEN, base_url=api.base_url, request=HTTPXRequest(connection_pool_size=IN_FLIGHT + 4))
    await bot.initialize()
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(chat: int) -> None:
        async with gate:
            await bot.send_message(chat, "<b>baseline</b>", parse_mode="HTML")

    started = time.perf_counter()
    await asyncio.gather(*(one(9_000_000 + i) for i in range(count)))
    elapsed = time.perf_counter() - started
    await bot.shutdown()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--send", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--large", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--paid-rate", type=float, default=500.0)
    parser.add_argument("--only", default="abc", help="the scenarios to run, e.g. a or bc")
    args = parser.parse_args()
    if args.send is not None:
        _child(args.send)
        return

    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    db_url, db_kind, drop = _database(tmp)
    redis_url = _redis()
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, python {platform.python_version()}; "
        f"database: {db_kind}; shared limiter: {'redis' if redis_url else 'database'}; in_flight: {IN_FLIGHT}"
    )
    try:
        with FakeBotApi() as api:
            print(f"baseline_per_s: {asyncio.run(_baseline(api, args.small)):.0f}  (unpaced send_message, {IN_FLIGHT} in flight, no database)")
            env = _env(db_url, api, redis_url, args.rate, args.paid_rate, tmp)
            rng = random.Random(7)
            if "a" in args.only:
                _default_lane(api, sessions, env, args)
            if "b" in args.only:
                _paid_lane(api, sessions, env, args, rng)
            if "c" in args.only:
                _killed_and_resumed(api, sessions, env, args, rng)
    finally:
        engine.dispose()
        drop()


def _default_lane(api: FakeBotApi, sessions, env: dict[str, str], args: argparse.Namespace) -> None:  # type: ignore[no-untyped-def]
    """(a) `args.small` recipients at the default rate."""
    chats = set(_seed(sessions, 1, args.small, "aa"))
    broadcast_id = _new_broadcast(sessions, paid=False, language="aa")
    _send_process(broadcast_id, env).wait()
    audit = _audit(sessions, api, broadcast_id, chats)
    print(f"rate_ratio: {audit['achieved_per_s'] / args.rate:.3f}  (a: {args.small} recipients, "
          f"achieved {audit['achieved_per_s']:.2f}/s of {args.rate:g}/s; duplicates {audit['duplicates']}, lost {audit['lost']})")


def _paid_lane(api: FakeBotApi, sessions, env: dict[str, str], args: argparse.Namespace, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    """(b) `args.large` recipients on the paid lane, 5 % blocked, random 429s."""
    chats = set(_seed(sessions, 100_000, args.large, "bb"))
    blocked = set(rng.sample(sorted(chats), args.large // 20))
    for chat in blocked:
        api.block_chat(chat)
    api.flood_randomly(FLOOD_PROBABILITY, retry_after=1, seed=11)
    broadcast_id = _new_broadcast(sessions, paid=True, language="bb")
    floods_before = len([c for c in api.calls if c.status == 429])
    _send_process(broadcast_id, env).wait()
    audit = _audit(sessions, api, broadcast_id, chats)
    floods = len([c for c in api.calls if c.status == 429]) - floods_before
    print(f"duplicates: {audit['duplicates']}")
    print(f"lost: {audit['lost']}")
    print(f"blocked_marked: {audit['blocked_users']}  (blocked_injected: {len(blocked)}, rows blocked {audit['blocked_rows']})")
    print(f"achieved_per_s: {audit['achieved_per_s']:.0f}  (b: {args.large} recipients at {args.paid_rate:g}/s, "
          f"{floods} random 429s each holding the run 1 s; unknown {audit['unknown']}, failed {audit['failed']})")


def _killed_and_resumed(api: FakeBotApi, sessions, env: dict[str, str], args: argparse.Namespace, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    """(c) as (b), the sending process killed with SIGKILL at about half, then run again."""
    chats = set(_seed(sessions, 200_000, args.large, "cc"))
    for chat in rng.sample(sorted(chats), args.large // 20):
        api.block_chat(chat)
    broadcast_id = _new_broadcast(sessions, paid=True, language="cc")
    child = _send_process(broadcast_id, env)
    while len(_delivered(api, chats)[1]) < args.large // 2 and child.poll() is None:
        time.sleep(0.05)
    if child.poll() is not None:
        raise SystemExit(f"(c): the sending process ended (exit {child.returncode}) before it could be killed at half")
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    killed_at = len(_delivered(api, chats)[1])
    resumed = time.perf_counter()
    _send_process(broadcast_id, env).wait()
    audit = _audit(sessions, api, broadcast_id, chats)
    print(f"duplicates: {audit['duplicates']}  (c)")
    print(f"lost: {audit['lost']}  (c)")
    print(f"unknown: {audit['unknown']}  (c: in_flight limit {IN_FLIGHT}; killed after {killed_at} deliveries, "
          f"resume took {time.perf_counter() - resumed:.1f} s including the wait for the dead run's lease)")


def _child(broadcast_id: int) -> None:
    from flows.broadcast import run_broadcast
    from promostack.runtime import build_runtime

    runtime = build_runtime(Settings())
    try:
        asyncio.run(run_broadcast(runtime, broadcast_id))
    finally:
        runtime.close()


if __name__ == "__main__":
    main()
