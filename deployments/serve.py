"""Serve every deployment listed in `prefect.yaml` from this one process (the embedded mode).

`prefect.yaml` stays the single list of deployments and schedules: production registers it
with `prefect deploy --all` for workers; this module reads the same file for `make run`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DeploymentSpec:
    """One entry of `prefect.yaml`'s `deployments:` list."""

    name: str
    entrypoint: str
    description: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    # `limit` and `collision_strategy` (ENQUEUE, CANCEL_NEW), as `prefect deploy` reads them.
    concurrency_limit: dict[str, Any] | None = None


def read_specs(path: Path = ROOT / "prefect.yaml") -> list[DeploymentSpec]:
    """The deployments `prefect.yaml` declares."""
    document = yaml.safe_load(path.read_text()) or {}
    specs = []
    for entry in document.get("deployments") or []:
        specs.append(
            DeploymentSpec(
                name=entry["name"],
                entrypoint=entry["entrypoint"],
                description=entry.get("description"),
                parameters=entry.get("parameters") or {},
                tags=entry.get("tags") or [],
                schedules=entry.get("schedules") or [],
                concurrency_limit=entry.get("concurrency_limit"),
            )
        )
    return specs


def to_runner_deployment(spec: DeploymentSpec):  # type: ignore[no-untyped-def]
    """A Prefect `RunnerDeployment` for `spec`, with its schedules."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig
    from prefect.flows import load_flow_from_entrypoint
    from prefect.schedules import Cron, Interval

    flow = load_flow_from_entrypoint(str(ROOT / spec.entrypoint), use_placeholder_flow=False)
    schedules = []
    for item in spec.schedules:
        if item.get("active") is False:
            continue
        if "cron" in item:
            schedules.append(Cron(item["cron"], timezone=item.get("timezone", "UTC")))
        elif "interval" in item:
            schedules.append(Interval(item["interval"]))
    return flow.to_deployment(
        name=spec.name,
        description=spec.description,
        parameters=spec.parameters,
        tags=spec.tags,
        schedules=schedules or None,
        concurrency_limit=ConcurrencyLimitConfig(**spec.concurrency_limit) if spec.concurrency_limit else None,
    )


def wait_for_server(timeout_s: float = 120.0) -> None:
    """Block until the Prefect API answers its health check (it starts beside us)."""
    api = os.environ.get("PREFECT_API_URL", "http://127.0.0.1:4200/api").rstrip("/")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    sys.exit(f"Prefect API at {api} did not answer within {timeout_s:.0f} s")


def main() -> None:
    """Serve all deployments until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wait-for-server", action="store_true")
    args = parser.parse_args()
    if args.wait_for_server:
        wait_for_server()
    from prefect import serve

    sys.path.insert(0, str(ROOT))
    deployments = [to_runner_deployment(spec) for spec in read_specs()]
    if not deployments:
        print("prefect.yaml lists no deployments yet; nothing to serve")
        while True:
            time.sleep(3600)
    serve(*deployments, limit=8)


if __name__ == "__main__":
    main()
