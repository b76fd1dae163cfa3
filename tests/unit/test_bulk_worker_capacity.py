"""A worker is a machine: its `--limit` and its bulk parts' render threads follow the CPUs its
process may use (affinity, then a container's quota), so adding workers is what adds capacity."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deployments.worker import worker_command
from flows.bulk_render_part import render_threads
from promostack.cpus import usable_cpus

ROOT = Path(__file__).resolve().parents[2]
ON_ONE_CPU = """
import os
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
from deployments.worker import usable_cpus, worker_command
from flows.bulk_render_part import render_threads
command = worker_command(usable_cpus(), ["--name", "w1"])
print(command[command.index("--limit") + 1], render_threads(None), render_threads(3))
"""


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is a Linux call")
def test_a_worker_pinned_to_one_cpu_takes_two_runs_and_its_parts_render_in_one_thread() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", ON_ONE_CPU], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()
    # One run per CPU plus one that waits (a bulk parent awaiting its parts); an explicit count wins.
    assert out == ["2", "1", "3"]


def test_a_container_cpu_quota_lowers_the_cpus_below_the_affinity(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("50000 100000\n")  # half a CPU: still one render thread
    assert usable_cpus(cpu_max) == 1
    cpu_max.write_text("max 100000\n")
    assert usable_cpus(cpu_max) == len(os.sched_getaffinity(0))
    assert usable_cpus(tmp_path / "absent") == len(os.sched_getaffinity(0))


def test_a_limit_given_on_the_command_line_replaces_the_derived_one() -> None:
    command = worker_command(2, ["--limit", "8", "--name", "w1"])
    assert command[1:5] == ["worker", "start", "--pool", "promostack-process"]
    assert command.count("--limit") == 1 and command[command.index("--limit") + 1] == "8"
    assert worker_command(2, [])[-2:] == ["--limit", "3"]


def test_a_declared_share_sizes_a_worker_that_shares_a_box(tmp_path: Path) -> None:
    # WORKER_CPUS: three one-core workers on a two-core box each take two runs and render in one thread.
    assert usable_cpus(tmp_path / "absent", declared=1) == 1
    assert render_threads(None, 1) == 1 and render_threads(4, 1) == 4
    # A share larger than the CPUs the process may use is lowered to them.
    assert usable_cpus(tmp_path / "absent", declared=256) == len(os.sched_getaffinity(0))


def test_the_worker_launcher_reads_worker_cpus_from_the_environment() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WORKER_CPUS": "1"}
    script = "from deployments.worker import launch_command; cpus, command = launch_command([]); print(cpus, command[-1])"
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()
    assert out == ["1", "2"]
