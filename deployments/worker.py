"""A worker of the pool: `python -m deployments.worker [prefect worker options]` starts
`prefect worker start --pool promostack-process` sized to the CPUs it may use.

A worker is a machine: scale comes from adding workers, each on CPUs of its own. It takes at most
`cpus + 1` flow runs at once (`worker_limit`): one per CPU for CPU-bound runs (bulk parts,
renders) and one more for a run that mostly waits (a bulk parent awaiting its parts, a signal or
broadcast on the network), so a worker never hoards more of a big job than it can render while
idle workers wait; the parts of a bulk render render in one thread per CPU of the run's process
(`flows/bulk_render_part.py`, counted by `promostack/cpus.py`). The count is the process's CPU affinity, not the machine's core
count: a container's cpuset or `taskset -c 0 python -m deployments.worker` gives the worker that
share, and its flow runs inherit it.

Defaults set here unless the environment has them: flow heartbeats every 30 s (the zombie
automation of `deployments/setup.py` counts on them) and a poll for scheduled runs every 5 s
(Prefect's 10 s left a freed slot idle for 5 s on average between the parts of a job).
Other arguments (`--name`, `--work-queue`, `--limit` to override) go to `prefect worker start`.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from promostack.config import get_settings
from promostack.cpus import usable_cpus

POOL = "promostack-process"
ENV_DEFAULTS = {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30", "PREFECT_WORKER_QUERY_SECONDS": "5"}


def worker_limit(cpus: int) -> int:
    """The flow runs a worker on `cpus` CPUs takes at once: one per CPU and one that waits."""
    return cpus + 1


def worker_command(cpus: int, extra: list[str]) -> list[str]:
    """The `prefect worker start` command line for a worker on `cpus` CPUs."""
    prefect = Path(sys.executable).with_name("prefect")
    command = [str(prefect) if prefect.exists() else shutil.which("prefect") or "prefect", "worker", "start"]
    command += ["--pool", POOL]
    if not any(arg == "--limit" or arg.startswith("--limit=") or arg == "-l" for arg in extra):
        command += ["--limit", str(worker_limit(cpus))]
    return command + extra


def launch_command(extra: list[str]) -> tuple[int, list[str]]:
    """The CPUs this worker is sized for (affinity, quota, `WORKER_CPUS`) and its command line."""
    cpus = usable_cpus(declared=get_settings().worker_cpus)
    return cpus, worker_command(cpus, extra)


def main() -> None:
    """Replace this process with the Prefect worker (signals go straight to it)."""
    cpus, command = launch_command(sys.argv[1:])
    env = {**ENV_DEFAULTS, **os.environ}
    print(f"deployments.worker: {cpus} CPU(s) usable: {' '.join(command[1:])}", flush=True)
    os.execvpe(command[0], command, env)


if __name__ == "__main__":
    main()
