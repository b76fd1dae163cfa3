"""The dashboard's window on Prefect: recent flow runs, and starting a deployment's run.

Both refuse at once, with `PrefectUnavailable`, when this process has no Prefect API configured:
Prefect's client would otherwise start a throw-away server of its own that no worker watches.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import datetime

import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterId
from prefect.client.schemas.sorting import FlowRunSort
from prefect.exceptions import PrefectHTTPStatusError
from prefect.settings import get_current_settings

from promostack.errors import DependencyError

# The page must answer even when Prefect hangs; the client itself retries connection errors.
READ_TIMEOUT_S = 8.0


class PrefectUnavailable(DependencyError):
    """The Prefect API is not configured, unreachable, answered with an error, or lacks the
    deployment asked for.

    `configured` tells the two apart for the dashboard: "not configured" is a setting to add,
    "not reachable" a server to start."""

    kind = "prefect_unavailable"

    def __init__(self, message: str, *, configured: bool = True) -> None:
        super().__init__(message)
        self.configured = configured


@dataclass(frozen=True)
class StartedRun:
    """A flow run just created for a deployment: its id, name and page in the Prefect UI."""

    id: str
    name: str
    ui_url: str

    def as_json(self) -> dict[str, str]:
        """`{"flow_run", "flow_run_id", "name", "ui_url"}` for the dashboard."""
        return {"flow_run": self.id, "flow_run_id": self.id, "name": self.name, "ui_url": self.ui_url}


async def start_run(
    deployment: str,
    ui_base: str,
    *,
    parameters: dict[str, object] | None = None,
    at: datetime | None = None,
    tags: list[str] | None = None,
) -> StartedRun:
    """The run of `deployment` ("flow/deployment") created now, or scheduled at `at`, for the
    workers to pick up; `PrefectUnavailable` saying what to fix when it cannot be."""
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    url = api_url()
    if not url:
        raise PrefectUnavailable(
            "this web app has no Prefect API to start runs on: set PREFECT_API_URL (make run does)",
            configured=False,
        )
    try:
        run = await run_deployment(
            deployment, parameters=parameters or {}, scheduled_time=at, timeout=0, tags=tags or ["dashboard"]
        )
    except ObjectNotFound as exc:
        raise PrefectUnavailable(
            f"Prefect has no deployment {deployment}: run make run or prefect deploy --all"
        ) from exc
    except (httpx.HTTPError, PrefectHTTPStatusError, OSError) as exc:
        raise PrefectUnavailable(
            f"the Prefect API at {url} could not start {deployment} ({exc.__class__.__name__})"
        ) from exc
    return StartedRun(str(run.id), run.name, f"{ui_base.rstrip('/')}/runs/flow-run/{run.id}")


@dataclass(frozen=True)
class RunRow:
    """One flow run as the dashboard lists it."""

    id: str
    flow: str
    name: str
    state: str
    state_type: str
    start: datetime | None
    duration_s: float | None
    ui_url: str

    def as_json(self) -> dict[str, object]:
        """The row as JSON-ready values (times in ISO 8601)."""
        row = asdict(self)
        row["start"] = self.start.isoformat() if self.start else None
        return row


def api_url() -> str | None:
    """The Prefect API URL this process reports to, or None when none is configured."""
    return get_current_settings().api.url


async def recent_runs(ui_base: str, limit: int = 50) -> list[RunRow]:
    """The most recently started flow runs, newest first; `PrefectUnavailable` saying why not."""
    url = api_url()
    if not url:
        # Without a URL the client would start a throw-away in-process server: never useful here.
        raise PrefectUnavailable(
            "this web app has no Prefect API to read runs from: set PREFECT_API_URL (make run does)",
            configured=False,
        )
    try:
        return await asyncio.wait_for(_read(ui_base.rstrip("/"), limit), timeout=READ_TIMEOUT_S)
    except (httpx.HTTPError, OSError) as exc:
        raise PrefectUnavailable(
            f"the Prefect API at {url} is unreachable ({exc.__class__.__name__})"
        ) from exc
    except PrefectHTTPStatusError as exc:
        raise PrefectUnavailable(f"the Prefect API at {url} answered {exc.response.status_code}") from exc
    except TimeoutError as exc:
        raise PrefectUnavailable(
            f"the Prefect API at {url} did not answer within {READ_TIMEOUT_S:.0f} s"
        ) from exc


async def _read(ui_base: str, limit: int) -> list[RunRow]:
    async with get_client() as client:
        runs = await client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=limit)
        flow_ids = sorted({run.flow_id for run in runs}, key=str)
        flows = (
            await client.read_flows(flow_filter=FlowFilter(id=FlowFilterId(any_=flow_ids)))
            if flow_ids
            else []
        )
    names = {flow.id: flow.name for flow in flows}
    rows = []
    for run in runs:
        if run.start_time and run.end_time:
            duration: float | None = (run.end_time - run.start_time).total_seconds()
        elif run.start_time:
            duration = run.estimated_run_time.total_seconds() if run.estimated_run_time else None
        else:
            duration = None
        rows.append(
            RunRow(
                id=str(run.id),
                flow=names.get(run.flow_id, "?"),
                name=run.name,
                state=run.state_name or (run.state_type.value.title() if run.state_type else "Unknown"),
                state_type=run.state_type.value if run.state_type else "UNKNOWN",
                start=run.start_time,
                duration_s=duration,
                ui_url=f"{ui_base}/runs/flow-run/{run.id}",
            )
        )
    return rows
