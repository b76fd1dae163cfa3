"""The production topology on one machine, every role its own process, and what survives a kill.

Builds: Postgres (fresh app and Prefect databases on 127.0.0.1:5432) + Redis (127.0.0.1:6379,
one database number for Prefect's messaging), 2 Prefect API replicas (`--no-services`, started one
at a time), 1 `prefect server services start`, `python -m deployments.setup` (pool, queues,
limits, the zombie and re-run automations), 3 workers started as production starts them
(`python -m deployments.worker`: spread over the replicas, flow heartbeats every 30 s, `--limit`
and render threads from the CPUs the worker may use), each pinned with `taskset` to one CPU of
this machine, round-robin (a worker is a machine: here, a one-core one), and 2 web processes
(`python -m deployments.web`). Then:

1. `--runs` runs of the `cluster-probe` test deployment (bench/cluster_probe.py: waits, then
   marks its key done — or duplicate), and `kill -9` of one worker's whole process group (the
   worker and the flow runs it started: a machine dying) while it runs some of them;
2. with those workers stopped, a bulk render of `--codes` codes (fanned out into
   `bulk-render-part` child runs) on 1 fresh worker pinned to one CPU — the baseline of
   `bulk_scale` — then the same size (other codes) on 3 fresh workers pinned round-robin: one-core
   machines, back to back so both see the same load from the rest of the machine.

Prints `runs_submitted`, `completed` (probe runs Completed at the end), `duplicates` (keys
completed twice), `lost` (keys never completed), `crashed_detected_s` (kill → the last of the
killed worker's runs marked Crashed, from the runs' state history) and `bulk_scale` (codes per
second on 3 workers over 1 worker) with the CPU count and each worker's CPUs and limit. Three
one-core workers on two cores can make at most 2x one of them.

Run: `.venv/bin/python bench/cluster.py [--runs 60] [--codes 5000] [--part-size 1000]`;
`--smoke` is the CI size (4 runs, 0 codes: no bulk phases).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cluster_topology import PG, Cluster, descendants, pid_of  # noqa: E402  (a sibling in bench/)


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
        # No `workers`: each part renders in one thread per CPU of the worker that runs it.
        parameters={"template_slug": "welcome-offer", "csv_text": csv_text, "job_id": job_id,
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
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
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
        while not killed_runs:  # the first worker seen running a fresh probe is the one that dies
            # One read for all runs, and only runs in their first half: reading them one by one
            # took seconds under load, and the runs seen running had finished when the kill landed.
            now = time.time()
            for run in client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids))):
                pid = pid_of(run.infrastructure_pid)
                if not pid or run.state_type != StateType.RUNNING or run.start_time is None:
                    continue
                owner = next((workers[w] for w in workers if pid in descendants(w)), None)
                fresh = now - run.start_time.timestamp() < seconds / 2
                if owner is not None and (victim == owner or (victim is None and fresh)):
                    victim = owner
                    killed_runs.append(run.id)
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


def bulk_on_fresh_workers(cluster: Cluster, names: list[str], csv_text: str, job_id: str,
                          args: argparse.Namespace) -> float:
    """Codes per second of a bulk render on new workers `names`, each a machine of one core,
    stopped afterwards. One worker is pinned to CPU 0. Several are, with `--placement pinned`,
    pinned round-robin to one CPU each (3 workers on 2 cores: two share CPU 0 whatever work they
    draw); with `--placement shared` (the default) left to the OS scheduler over the machine's
    cores, each sized for one CPU (`WORKER_CPUS=1`: `--limit 2`, one render thread a part)."""
    for i, name in enumerate(names):
        if len(names) == 1 or args.placement == "pinned":
            cluster.start_worker(name, {cluster.cpus[i % len(cluster.cpus)]}, i, sized_for=1)
        else:
            cluster.start_worker(name, None, i, sized_for=1)
    for name in names:
        cluster.wait_worker_online(name)
    load = os.getloadavg()[0]
    seconds = timed_bulk(csv_text, job_id, args.part_size)
    print(f"(bulk on {len(names)} worker(s): {seconds:.1f} s, load {load:.1f} -> {os.getloadavg()[0]:.1f}; "
          f"parts per worker: {parts_per_worker(cluster, job_id, names)})", flush=True)
    for name in names:
        cluster.kill_group(name, signal.SIGTERM)
    return args.codes / seconds


def parts_per_worker(cluster: Cluster, job_id: str, names: list[str]) -> str:
    """How many of the job's parts each worker ran (from the workers' logs, where each part logs
    its rows and threads): on shared cores, the placement bounds the speed-up."""
    counts = {}
    for name in names:
        log = (cluster.home / "logs" / f"{name}.log").read_text(errors="replace")
        counts[name] = len({line.split("'")[1] for line in log.splitlines()
                            if f"Flow run '{job_id}-" in line and "render thread" in line})
    return ", ".join(f"{name} {count}" for name, count in counts.items())


def affinity_of(cluster: Cluster) -> str:
    """The CPUs each bulk-phase worker was pinned to (or "any"), and the `--limit` it had (deployments/worker.py)."""
    from deployments.worker import worker_limit

    def placed(name: str, cpus: set[int]) -> str:
        where = f"cpu {','.join(map(str, sorted(cpus)))}" if cpus else "any cpu"
        sized = cluster.sized_for.get(name, len(cpus) or len(cluster.cpus))
        return f"{name} {where} sized for {sized} limit {worker_limit(sized)}"

    return ", ".join(placed(name, cpus) for name, cpus in cluster.affinity.items()
                     if name == "worker-solo" or name.startswith("worker-b"))


def _exit_once(*_: object) -> None:
    # `timeout` and a supervisor may both signal: the clean-up must not be interrupted by the second.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(143)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--placement", choices=["shared", "pinned"], default="shared",
                        help="the 3 bulk workers: left to the OS over all cores (shared) or one CPU each round-robin")
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
        figures = probe_runs(cluster, args.runs, args.probe_seconds)
        rate1 = rate3 = None
        if args.codes:
            codes = [f"C{i:06d}" for i in range(2 * args.codes)]
            csv_text = seed_bulk(cluster, codes)
            lines = csv_text.splitlines()
            first = "\n".join(lines[: args.codes + 1]) + "\n"
            second = "\n".join(lines[:1] + lines[args.codes + 1:]) + "\n"
            # The two bulk phases back to back, on fresh workers, so both see the same machine load.
            for name in [n for n in cluster.processes if n.startswith("worker-")]:
                cluster.kill_group(name, signal.SIGTERM)
            rate1 = bulk_on_fresh_workers(cluster, ["worker-solo"], first, "bench-one", args)
            rate3 = bulk_on_fresh_workers(cluster, ["worker-b1", "worker-b2", "worker-b3"], second, "bench-three", args)
        for name, value in figures.items():
            print(f"{name}: {value:.1f}" if isinstance(value, float) else f"{name}: {value}")
        if rate3 and rate1:
            print(f"bulk_scale: {rate3 / rate1:.2f} (cpus: {os.cpu_count()}; affinity: {affinity_of(cluster)}; "
                  f"{rate3:.1f} codes/s on 3 workers, {rate1:.1f} on 1; load {os.getloadavg()[0]:.1f})")
        else:
            print("bulk_scale: not measured (--codes 0)")
        print(
            f"how: every role its own process on this machine (2 Prefect API replicas on Postgres with Redis "
            f"messaging, 1 services process, 3 workers, 2 web processes); {args.runs} probe runs of "
            f"{args.probe_seconds:.0f} s each; one worker's process group (the first seen running a probe) "
            f"killed with SIGKILL while it ran probes; "
            f"crashed_detected_s from the runs' state history; bulk renders of {args.codes} codes in parts of "
            f"{args.part_size}, JPEG, timed from submission to Completed, on 1 fresh worker then on 3 (other "
            f"codes), back to back after the probes; the 1 worker pinned to CPU 0, the 3 placed "
            f"{args.placement!r}; every bulk worker sized for 1 CPU (WORKER_CPUS=1)."
        )
    finally:
        cluster.stop()
        if not args.keep:
            cluster.drop_databases()


if __name__ == "__main__":
    main()
