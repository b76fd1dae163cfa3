"""How many CPUs a process may use: what sizes a worker and its bulk parts' render threads."""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def usable_cpus(cpu_max: Path = CGROUP_CPU_MAX, declared: int | None = None) -> int:
    """The number of CPUs this process may use: its affinity, lowered to its container's CPU quota
    and to `declared` (the `WORKER_CPUS` setting: a share the platform does not show, such as
    several workers on one box)."""
    # The affinity, not os.cpu_count(): a process pinned by taskset, a container's cpuset or a
    # worker started on a share of a box sees the CPUs it can actually use. A quota (cgroup v2
    # `cpu.max`, how Docker's --cpus and most platforms size a container) leaves the affinity at
    # the host's count, so it is read too. The same count sizes a worker's `--limit`
    # (deployments/worker.py).
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass  # no cgroup v2 quota here
    if declared is not None:
        cpus = min(cpus, declared)
    return max(1, cpus)
