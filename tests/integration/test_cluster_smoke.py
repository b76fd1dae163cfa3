"""The cluster bench at its CI size: the whole production topology on this machine, a worker
killed with SIGKILL mid-run, and every probe run completed once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _figures(output: str) -> dict[str, str]:
    return {
        line.split(":", 1)[0]: line.split(":", 1)[1].strip()
        for line in output.splitlines()
        if ":" in line and not line.startswith(("cluster bench", "how", "("))
    }


@pytest.mark.timeout(900)
def test_a_worker_killed_mid_run_loses_no_run_and_doubles_none(pg_url: str) -> None:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis unreachable at 127.0.0.1:6379: {exc}")
    bench = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "cluster.py"), "--smoke"],
        cwd=ROOT, capture_output=True, text=True, timeout=840,
    )
    assert bench.returncode == 0, bench.stdout[-3000:] + bench.stderr[-3000:]
    figures = _figures(bench.stdout)
    assert figures["runs_submitted"] == figures["completed"] == "4"
    assert figures["duplicates"] == "0" and figures["lost"] == "0"
    assert float(figures["crashed_detected_s"]) <= 150
