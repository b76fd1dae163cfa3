"""The production topology on one machine, every role its own process, and what survives a kill.

Builds: Postgres (fresh app and Prefect databases on 127.0.0.1:5432) + Redis (127.0.0.1:6379,
one database number for Prefect's messaging), 2 Prefect API replicas (`--no-services`, started one
at a time), 1 `prefect server services start`, `python -m deployments.setup` (pool, queues,
limits, the zombie and re-run automations), 3 process workers (spread over the replicas, flow
heartbeats every 30 s) and 2 web processes (`python -m deployments.web`). Then:

1. a bulk render of `--codes` codes (fanned out into `bulk-render-part` child runs) on 3 workers;
2. `--runs` runs of the `cluster-probe` test deployment (bench/cluster_probe.py: waits, then
   marks its key done — or duplicate), and `kill -9` of one worker's whole process group (the
   worker and the flow runs it started: a machine dying) while it runs some of them;
3. the same size of bulk render (other codes) on 1 worker — the baseline of `bulk_scale`.

Prints `runs_submitted`, `completed` (probe runs Completed at the end), `duplicates` (keys
completed twice), `lost` (keys never completed), `crashed_detected_s` (kill → the last of the
killed worker's runs marked Crashed, from the runs' state history) and `bulk_scale` (codes per
second on 3 workers over 1 worker) with the CPU count.

Run: `.venv/bin/python bench/cluster.py [--runs 60] [--codes 5000] [--part-size 1000]`;
`--smoke` is the CI size (4 runs, 0 codes: no bulk phases).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
PG = "postgres@127.0.0.1:5432"
REDIS_DB = 11
POOL = "promostack-process"


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
            PREFECT_REDIS_MESSAGING_DB=str(REDIS_DB),
            PREFECT_SERVER_DOCKET_NAME=f"bench-{self.tag}",
            PREFECT_SERVER_DOCKET_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
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
        for pid in [process.pid, *_descendants(process.pid)]:
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
        import redis

        redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()

    def drop_databases(self) -> None:
        admin = create_engine(f"postgresql+psycopg2://{PG}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in (self.app_db, self.prefect_db):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    def start(self, workers: int = 3, webs: int = 2) -> None:
        self.create_databases()
        # Migrations once, before any replica starts.
        self.run("migrate-app", [str(BIN / "python"), "-m", "cli.main", "db", "upgrade"], self.app_env())
        self.run("migrate-prefect", [str(BIN / "prefect"), "server", "database", "upgrade", "-y"], self.server_env())
        for i in (1, 2):  # one at a time: simultaneous starts race on block registration
            port = _free_port()
            name = f"prefect-api-{i}"
            self.spawn(name, [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port),
                              "--no-services"], self.server_env())
            self.api_urls.append(f"http://127.0.0.1:{port}/api")
            self.wait_http(f"{self.api_urls[-1]}/health", name)
        self.spawn("prefect-services", [str(BIN / "prefect"), "server", "services", "start"], self.server_env())
        os.environ["PREFECT_API_URL"] = self.api_urls[0]
        self.run("setup", [str(BIN / "python"), "-m", "deployments.setup"], self.worker_env(0))
        asyncio.run(_register_deployments())
        for i in range(workers):
            self.spawn(f"worker-{i + 1}", [str(BIN / "prefect"), "worker", "start", "--pool", POOL,
                                            "--name", f"bench-worker-{i + 1}", "--limit", "4"], self.worker_env(i))
        for i in range(webs):
            port = _free_port()
            env = {**self.worker_env(i), "WEB_HOST": "127.0.0.1", "WEB_PORT": str(port), "LOG_LEVEL": "WARNING"}
            self.spawn(f"web-{i + 1}", [str(BIN / "python"), "-m", "deployments.web"], env)
            self.wait_http(f"http://127.0.0.1:{port}/readyz", f"web-{i + 1}")

    def worker_env(self, i: int) -> dict[str, str]:
        env = self.app_env()
        env.update(PREFECT_API_URL=self.api_urls[i % len(self.api_urls)], PREFECT_FLOWS_HEARTBEAT_FREQUENCY="30")
        return env

    def stop(self) -> None:
        # Whole process groups: a worker's flow-run processes go with it.
        for name in reversed(list(self.processes)):
            if name.startswith("worker-"):
                self.kill_machine(name)
            else:
                self.kill_group(name, signal.SIGTERM)


async def _register_deployments() -> None:
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


# --- phases ----------------------------------------------------------------------------------------


def seed_bulk(cluster: Cluster, codes: list[str]) -> str:
    """The CSV of `codes`, each made a valid coupon, with the demo template in the store."""
    from promostack.config import Settings
    from promostack.db.models import Coupon
    from promostack.storage import build_store
    from promostack.templates.demo import DEMO_DIR
    from promostack.templates.store import TemplateStore, load_template_dir

    settings = Settings(_env_file=None, data_dir=cluster.home / "data")  # type: ignore[call-arg]
    TemplateStore(build_store(settings)).save(*load_template_dir(DEMO_DIR / "welcome-offer"))
    engine = create_engine(f"postgresql+psycopg2://{PG}/{cluster.app_db}")
    with engine.begin() as conn:
        conn.execute(insert(Coupon), [{"code": code, "active": True, "usage_count": 0} for code in codes])
    engine.dispose()
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["code"])
    writer.writerows([code] for code in codes)
    return table.getvalue()


def timed_bulk(csv_text: str, job_id: str, part_size: int) -> float:
    """Seconds from submitting the bulk render to its Completed state."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    started = time.monotonic()
    run = run_deployment(
        "bulk-render/bulk-render",
        parameters={"template_slug": "welcome-offer", "csv_text": csv_text, "job_id": job_id, "workers": 2,
                    "fmt": "jpeg", "split_above": part_size, "part_size": part_size},
        timeout=0,
    )
    with get_client(sync_client=True) as client:
        while True:
            state = client.read_flow_run(run.id).state
            if state is not None and state.is_final():
                if not state.is_completed():
                    raise SystemExit(f"bulk render {job_id} ended {state.name}: {state.message}")
                return time.monotonic() - started
            time.sleep(1)


def probe_runs(cluster: Cluster, runs: int, seconds: float) -> dict[str, float | int]:
    """Submit the probes, kill -9 a worker running some, and count what came out."""
    from prefect.client.orchestration import SyncPrefectClient, get_client
    from prefect.client.schemas.objects import StateType

    marks = cluster.home / "marks"
    keys = [f"probe-{i:03d}" for i in range(runs)]
    ids = []
    for i, key in enumerate(keys):  # spread over both API replicas
        with SyncPrefectClient(cluster.api_urls[i % 2]) as client:
            deployment = client.read_deployment_by_name("cluster-probe/cluster-probe")
            ids.append(client.create_flow_run_from_deployment(
                deployment.id, parameters={"key": key, "marks_dir": str(marks), "seconds": seconds}
            ).id)
    workers = {process.pid: name for name, process in cluster.processes.items() if name.startswith("worker-")}
    victim: str | None = None
    killed_runs: list[uuid.UUID] = []
    with get_client(sync_client=True) as client:
        deadline = time.monotonic() + 600
        while not killed_runs:  # the first worker seen running a probe is the one that dies
            for run_id in ids:
                run = client.read_flow_run(run_id)
                pid = _pid_of(run.infrastructure_pid)
                if not pid or run.state_type != StateType.RUNNING:
                    continue
                owner = next((workers[w] for w in workers if pid in _descendants(w)), None)
                if owner is not None and victim in (None, owner):
                    victim = owner
                    killed_runs.append(run_id)
            if time.monotonic() > deadline:
                raise SystemExit("no worker was seen running a probe")
            time.sleep(0.5)
        killed_at = time.time()
        assert victim is not None
        cluster.kill_machine(victim)
        print(f"(killed {victim} with SIGKILL while it ran {len(killed_runs)} probe run(s))", flush=True)
        deadline = time.monotonic() + 900
        while True:
            states = [client.read_flow_run(run_id).state for run_id in ids]
            if all(state is not None and state.is_final() and not state.is_crashed() for state in states):
                break
            if time.monotonic() > deadline:
                break
            time.sleep(2)
        completed = sum(1 for state in states if state is not None and state.is_completed())
        detected: list[float] = []
        missed = 0
        for run_id in killed_runs:
            history = client.read_flow_run_states(run_id)
            crashed = [s for s in history if s.type == StateType.CRASHED]
            if crashed:
                detected.append(crashed[0].timestamp.timestamp() - killed_at)
            elif not any(s.type == StateType.COMPLETED and s.timestamp.timestamp() <= killed_at + 1 for s in history):
                missed += 1  # neither crashed nor done before the kill: left running unseen
        # A run seen running can finish in the moment before the kill lands: it counts as neither.
        print(f"(of {len(killed_runs)} runs on the killed worker: {len(detected)} marked Crashed, "
              f"{len(killed_runs) - len(detected) - missed} finished before the kill, {missed} never detected)")
    done = {path.name for path in (marks / "done").iterdir()} if (marks / "done").exists() else set()
    dups = list((marks / "dup").iterdir()) if (marks / "dup").exists() else []
    return {
        "runs_submitted": runs,
        "completed": completed,
        "duplicates": len(dups),
        "lost": len([key for key in keys if key not in done]),
        "crashed_detected_s": max(detected) if detected and not missed else float("nan"),
    }


def _pid_of(infrastructure_pid: str | None) -> int | None:
    # The process worker records the flow run's pid (older workers: "<hostname>:<pid>").
    tail = (infrastructure_pid or "").rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _descendants(root: int) -> set[int]:
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


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _exit_once(*_: object) -> None:
    # `timeout` and a supervisor may both signal: the clean-up must not be interrupted by the second.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(143)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--codes", type=int, default=5000)
    parser.add_argument("--part-size", type=int, default=1000)
    parser.add_argument("--probe-seconds", type=float, default=20.0)
    parser.add_argument("--smoke", action="store_true", help="CI size: 4 runs, no bulk phases")
    parser.add_argument("--keep", action="store_true", help="keep the databases and logs")
    args = parser.parse_args()
    if args.smoke:
        args.runs, args.codes, args.probe_seconds = 4, 0, 10.0
    # A SIGTERM (CI's time-out, Ctrl-C from a supervisor) still stops every process and drops the databases.
    signal.signal(signal.SIGTERM, _exit_once)
    home = Path(tempfile.mkdtemp(prefix="promostack-cluster-"))
    cluster = Cluster(home)
    print(f"cluster bench: {platform.platform()}, {os.cpu_count()} CPUs, python {platform.python_version()}; "
          f"logs under {home / 'logs'}", flush=True)
    try:
        cluster.start()
        rate3 = rate1 = None
        if args.codes:
            codes = [f"C{i:06d}" for i in range(2 * args.codes)]
            csv_text = seed_bulk(cluster, codes)
            lines = csv_text.splitlines()
            first = "\n".join(lines[: args.codes + 1]) + "\n"
            second = "\n".join(lines[:1] + lines[args.codes + 1:]) + "\n"
            rate3 = args.codes / timed_bulk(first, "bench-three", args.part_size)
        figures = probe_runs(cluster, args.runs, args.probe_seconds)
        if args.codes:
            for name in [n for n in cluster.processes if n.startswith("worker-")][1:]:
                cluster.kill_group(name, signal.SIGTERM)  # one worker left for the baseline
            rate1 = args.codes / timed_bulk(second, "bench-one", args.part_size)
        for name, value in figures.items():
            print(f"{name}: {value:.1f}" if isinstance(value, float) else f"{name}: {value}")
        if rate3 and rate1:
            print(f"bulk_scale: {rate3 / rate1:.2f} (cpus: {os.cpu_count()}; {rate3:.1f} codes/s on 3 workers, "
                  f"{rate1:.1f} on 1)")
        else:
            print("bulk_scale: not measured (--codes 0)")
        print(
            f"how: every role its own process on this machine (2 Prefect API replicas on Postgres with Redis "
            f"messaging, 1 services process, 3 workers, 2 web processes); {args.runs} probe runs of "
            f"{args.probe_seconds:.0f} s each; one worker's process group (the first seen running a probe) "
            f"killed with SIGKILL while it ran probes; "
            f"crashed_detected_s from the runs' state history; bulk renders of {args.codes} codes in parts of "
            f"{args.part_size}, JPEG, timed from submission to Completed, 3 workers then 1 (other codes)."
        )
    finally:
        cluster.stop()
        if not args.keep:
            cluster.drop_databases()


if __name__ == "__main__":
    main()
