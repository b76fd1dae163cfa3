"""The production topology of `bench/cluster.py` on one machine: every role its own process —
Postgres and Redis databases, Prefect API replicas, the services process, workers, web processes —
and the process-tree helpers its kill phase needs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
PG = "postgres@127.0.0.1:5432"
# Prefect's messaging streams have fixed names: two benches on one Redis database (CI and a
# developer, two engineers) read each other's events and flush each other's streams, and both
# hang. Each run claims an empty database of these with an owner key, and empties it at the end.
REDIS_DBS = range(1, 16)
REDIS_OWNER = "promostack-bench:owner"
POOL = "promostack-process"

from tests.fakes.ports import free_port  # noqa: E402


class Cluster:
    """The processes of the topology, their logs under `home/logs`, stopped on exit."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.tag = uuid.uuid4().hex[:8]
        self.app_db = f"bench_app_{self.tag}"
        self.prefect_db = f"bench_prefect_{self.tag}"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        (home / "logs").mkdir(parents=True)
        self.api_urls: list[str] = []
        self.redis_db: int | None = None
        # Workers are pinned round-robin to the CPUs this bench may use: each its own share.
        self.cpus = sorted(os.sched_getaffinity(0))
        self.affinity: dict[str, set[int]] = {}
        self.sized_for: dict[str, int] = {}

    # --- environments --------------------------------------------------------------------------

    def app_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DATABASE_URL"))}
        env.update(
            DATABASE_URL=f"postgresql://{PG}/{self.app_db}",
            DATA_DIR=str(self.home / "data"),
            COUPON_VALIDATOR="local",
            PYTHONPATH=str(ROOT),
            PREFECT_HOME=str(self.home / "prefect-home"),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
        )
        return env

    def server_env(self) -> dict[str, str]:
        env = self.app_env()
        env.update(
            PREFECT_API_DATABASE_CONNECTION_URL=f"postgresql+asyncpg://{PG}/{self.prefect_db}",
            PREFECT_API_DATABASE_MIGRATE_ON_START="false",
            PREFECT_MESSAGING_BROKER="prefect_redis.messaging",
            PREFECT_MESSAGING_CACHE="prefect_redis.messaging",
            PREFECT_SERVER_EVENTS_CAUSAL_ORDERING="prefect_redis.ordering",
            PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE="prefect_redis.lease_storage",
            PREFECT_REDIS_MESSAGING_HOST="127.0.0.1",
            PREFECT_REDIS_MESSAGING_PORT="6379",
            PREFECT_REDIS_MESSAGING_DB=str(self.redis_db),
            PREFECT_SERVER_DOCKET_NAME=f"bench-{self.tag}",
            PREFECT_SERVER_DOCKET_URL=f"redis://127.0.0.1:6379/{self.redis_db}",
        )
        return env

    # --- processes -----------------------------------------------------------------------------

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.home / "logs" / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        return process

    def run(self, name: str, args: list[str], env: dict[str, str]) -> None:
        process = self.spawn(name, args, env)
        if process.wait(timeout=600) != 0:
            raise SystemExit(f"{name} failed; see {self.home / 'logs' / (name + '.log')}")

    def kill_machine(self, name: str) -> None:
        """SIGKILL the process `name` and every process it started (flow runs get sessions of
        their own, so a process group is not enough): what a machine dying does to them."""
        process = self.processes.pop(name)
        for pid in [process.pid, *descendants(process.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait(timeout=60)

    def kill_group(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes[name]
        for signum in (sig, signal.SIGKILL):
            try:
                os.killpg(process.pid, signum)
            except ProcessLookupError:
                return
            try:
                process.wait(timeout=20)
                return
            except subprocess.TimeoutExpired:
                continue

    def wait_http(self, url: str, name: str, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise SystemExit(f"{name} exited while starting; see its log under {self.home / 'logs'}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"{name} did not answer {url} within {timeout_s:.0f} s")

    # --- the topology --------------------------------------------------------------------------

    def create_databases(self) -> None:
        admin = create_engine(f"postgresql+psycopg2://{PG}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.app_db}"'))
            conn.execute(text(f'CREATE DATABASE "{self.prefect_db}"'))
        admin.dispose()
        self.redis_db = claim_redis_db(self.tag)

    def drop_databases(self) -> None:
        admin = create_engine(f"postgresql+psycopg2://{PG}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in (self.app_db, self.prefect_db):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        if self.redis_db is not None:
            import redis

            db = redis.Redis(host="127.0.0.1", port=6379, db=self.redis_db)
            if db.get(REDIS_OWNER) == self.tag.encode():
                db.flushdb()

    def start(self, workers: int = 3, webs: int = 2) -> None:
        self.create_databases()
        # Migrations once, before any replica starts.
        self.run("migrate-app", [str(BIN / "python"), "-m", "cli.main", "db", "upgrade"], self.app_env())
        self.run("migrate-prefect", [str(BIN / "prefect"), "server", "database", "upgrade", "-y"], self.server_env())
        for i in (1, 2):  # one at a time: simultaneous starts race on block registration
            port = free_port()
            name = f"prefect-api-{i}"
            self.spawn(name, [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port),
                              "--no-services"], self.server_env())
            self.api_urls.append(f"http://127.0.0.1:{port}/api")
            self.wait_http(f"{self.api_urls[-1]}/health", name)
        self.spawn("prefect-services", [str(BIN / "prefect"), "server", "services", "start"], self.server_env())
        os.environ["PREFECT_API_URL"] = self.api_urls[0]
        self.run("setup", [str(BIN / "python"), "-m", "deployments.setup"], self.worker_env(0))
        asyncio.run(register_deployments())
        for i in range(workers):
            self.start_worker(f"worker-{i + 1}", {self.cpus[i % len(self.cpus)]}, i)
        for i in range(webs):
            port = free_port()
            env = {**self.worker_env(i), "WEB_HOST": "127.0.0.1", "WEB_PORT": str(port), "LOG_LEVEL": "WARNING"}
            self.spawn(f"web-{i + 1}", [str(BIN / "python"), "-m", "deployments.web"], env)
            self.wait_http(f"http://127.0.0.1:{port}/readyz", f"web-{i + 1}")
        for i in range(workers):
            self.wait_worker_online(f"worker-{i + 1}")

    def start_worker(self, name: str, cpus: set[int] | None, i: int, sized_for: int | None = None) -> None:
        """A worker as production starts one (`python -m deployments.worker`: its `--limit` and its
        parts' render threads follow the CPUs it may use), pinned to `cpus` the way a machine of
        that many cores would have them, or left to the OS scheduler (`cpus` None) and sized for
        `sized_for` CPUs (`WORKER_CPUS`, as several workers sharing one box are)."""
        self.affinity[name] = cpus or set()
        env = self.worker_env(i)
        if sized_for is not None:
            env["WORKER_CPUS"] = str(sized_for)
            self.sized_for[name] = sized_for
        pin = ["taskset", "-c", ",".join(map(str, sorted(cpus)))] if cpus else []
        self.spawn(name, [*pin, str(BIN / "python"), "-m", "deployments.worker", "--name", f"bench-{name}"], env)

    def wait_worker_online(self, name: str, timeout_s: float = 120) -> None:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.objects import WorkerStatus

        deadline = time.monotonic() + timeout_s
        with get_client(sync_client=True) as client:
            while time.monotonic() < deadline:
                if any(w.name == f"bench-{name}" and w.status == WorkerStatus.ONLINE
                       for w in client.read_workers_for_work_pool(POOL)):
                    return
                if self.processes[name].poll() is not None:
                    raise SystemExit(f"{name} exited while starting; see its log under {self.home / 'logs'}")
                time.sleep(0.5)
        raise SystemExit(f"{name} was not online in the pool within {timeout_s:.0f} s")

    def worker_env(self, i: int) -> dict[str, str]:
        env = self.app_env()
        env.update(PREFECT_API_URL=self.api_urls[i % len(self.api_urls)])
        return env

    def stop(self) -> None:
        # Whole process groups: a worker's flow-run processes go with it.
        for name in reversed(list(self.processes)):
            if name.startswith("worker-"):
                self.kill_machine(name)
            else:
                self.kill_group(name, signal.SIGTERM)


async def register_deployments() -> None:
    """The probe and the bulk deployments on the pool (no schedules run in the bench)."""
    from prefect.flows import load_flow_from_entrypoint

    entries = [
        ("bench/cluster_probe.py:cluster_probe", "cluster-probe", "default", ["idempotent"]),
        ("flows/bulk_render.py:bulk_render", "bulk-render", "renders", ["render", "idempotent"]),
        ("flows/bulk_render_part.py:bulk_render_part", "bulk-render-part", "renders", ["render", "idempotent"]),
    ]
    for entrypoint, name, queue, tags in entries:
        path, func = entrypoint.split(":")
        flow = load_flow_from_entrypoint(f"{ROOT / path}:{func}", use_placeholder_flow=False)
        deployment = await flow.ato_deployment(
            name=name, tags=tags, work_queue_name=queue, job_variables={"working_dir": str(ROOT)}
        )
        await deployment.aapply(work_pool_name=POOL)


def claim_redis_db(tag: str) -> int:
    """The number of an empty Redis database, now marked as this run's (for 2 h at most)."""
    import redis

    for number in REDIS_DBS:
        db = redis.Redis(host="127.0.0.1", port=6379, db=number)
        if db.dbsize() == 0 and db.set(REDIS_OWNER, tag, nx=True, ex=7200):
            return number
    raise SystemExit(f"no empty Redis database among {REDIS_DBS.start}-{REDIS_DBS.stop - 1} on 127.0.0.1:6379 "
                     "(a bench killed with SIGKILL leaves its own: `redis-cli -n <db> flushdb`)")


def pid_of(infrastructure_pid: str | None) -> int | None:
    # The process worker records the flow run's pid (older workers: "<hostname>:<pid>").
    tail = (infrastructure_pid or "").rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def descendants(root: int) -> set[int]:
    """The pids of every living process below `root` (from /proc's parent links)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found
