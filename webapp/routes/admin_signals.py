"""The Signals page's optimisation API: walk-forward reports, the live parameters, adoptions.

- `GET /admin/api/signals/optimisations` → stored walk-forward runs (newest first), the live
  parameters of XAU/USD 15min and the record of every change to them.
- `GET /admin/api/signals/optimisations/{id}` → one run's whole report; 404 for an unknown id,
  422 for one that is not a whole number.
- `POST /admin/api/signals/optimisations` → 202 with the `optimise-signals` run just started on
  the configured candles (never a path from the browser); 422 when that file is too short for
  one window; 503 when Prefect or the deployment cannot be reached.
- `GET /admin/api/signals/optimisations/progress/{flow_run_id}` → `{"state", "final", "progress"}`
  of a started run (progress: percent of windows done, from the flow's progress artifact); 404
  for a run Prefect does not know, 503 when Prefect is not configured or not reachable.
- `POST /admin/api/signals/adoptions` `{"run_id", "window", "adopted_by", "note"?}` or
  `{"defaults": true, "adopted_by", "note"?}` → 201 with the recorded change; the set becomes
  the live one from the next `generate-signals` run. 422 for an incomplete body, 404 for an
  unknown run or a window that chose nothing.

All need an admin session; the POSTs also the CSRF header (checked before the route runs).
Routes raise; the app's handlers answer every refusal in its one dialect (`webapp.errors`), with
the field it is about (`run_id`, `window`, `adopted_by`, `flow_run_id`).
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from flows.optimise_signals import PROGRESS_KEY
from promostack.errors import InvalidInput, NotFound
from promostack.marketdata import replay_csv
from promostack.marketdata.replay import read_candles_csv
from promostack.signals import adoptions
from promostack.signals.params import StrategyParams
from promostack.signals.search_space import SearchSpace
from promostack.signals.walk_forward import WalkForwardConfig, plan_walk_forward
from webapp.auth import admin_api
from webapp.context import runtime
from webapp.prefect_runs import READ_TIMEOUT_S, PrefectUnavailable, api_url, start_run
from webapp.routes.admin_json import json_object_body

DEPLOYMENT = "optimise-signals/optimise-signals"
SYMBOL, INTERVAL = "XAU/USD", "15min"


def _adoption_json(change: adoptions.Adoption) -> dict[str, Any]:
    return {
        "id": change.id,
        "adopted_at": change.adopted_at.isoformat(),
        "adopted_by": change.adopted_by,
        "note": change.note,
        "run_id": change.walk_forward_run_id,
        "window": change.window_index,
        "params": change.params.model_dump(mode="json"),
        "previous_params": change.previous_params.model_dump(mode="json"),
    }


@admin_api
async def list_optimisations(request: Request) -> Response:
    """Stored walk-forward runs, the live parameters and their history of changes."""
    sessions = runtime(request).sessions

    def load() -> dict[str, Any]:
        return {
            "runs": [
                {**vars(run), "created_at": run.created_at.isoformat()}
                for run in adoptions.walk_forward_runs(sessions)
            ],
            "live": adoptions.live_params(sessions, SYMBOL, INTERVAL).model_dump(mode="json"),
            "defaults": StrategyParams(symbol=SYMBOL, interval=INTERVAL).model_dump(mode="json"),
            "adoptions": [_adoption_json(a) for a in adoptions.adoption_history(sessions, SYMBOL, INTERVAL)],
        }

    return JSONResponse(await run_in_threadpool(load))


@admin_api
async def get_optimisation(request: Request) -> Response:
    """One run's whole report."""
    run_id = _int(request.path_params["run_id"], "run_id")
    report = await run_in_threadpool(adoptions.walk_forward_report, runtime(request).sessions, run_id)
    return JSONResponse({"id": run_id, "report": report.model_dump(mode="json")})


@admin_api
async def start_optimisation(request: Request) -> Response:
    """202 with the id of the `optimise-signals` run just started on the workers.

    422 without starting anything when the configured candle file is too short for one window
    (the bundled 12-week sample is): a run that can only fail is not worth a worker.
    """
    rt = runtime(request)

    def check_history() -> None:
        try:
            candles = read_candles_csv(replay_csv(rt.settings))
            live = adoptions.live_params(rt.sessions, SYMBOL, INTERVAL)
            plan_walk_forward(candles, live, SearchSpace(), WalkForwardConfig())
        except InvalidInput as exc:
            # The history is configured, not sent: say which setting gives a longer one.
            raise InvalidInput(f"{exc}: set MARKET_REPLAY_CSV to a longer history of candles") from None

    await run_in_threadpool(check_history)
    started = await start_run(DEPLOYMENT, runtime(request).settings.prefect_ui_url)
    return JSONResponse(started.as_json(), status_code=202)


@admin_api
async def optimisation_progress(request: Request) -> Response:
    """The state of a started `optimise-signals` run and the percent of its windows done."""
    try:
        flow_run_id = UUID(request.path_params["flow_run_id"])
    except ValueError:
        raise InvalidInput("flow_run_id: not a flow run id", field="flow_run_id") from None
    if not api_url():
        raise PrefectUnavailable(
            "this web app has no Prefect API to follow runs on: set PREFECT_API_URL", configured=False
        )

    async def read() -> dict[str, Any]:
        async with get_client() as client:
            run = await client.read_flow_run(flow_run_id)
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
                    key=ArtifactFilterKey(any_=[PROGRESS_KEY]),
                )
            )
        state = run.state
        return {
            "state": state.name if state else "Pending",
            "final": bool(state and state.is_final()),
            "progress": float(found[0].data) if found else None,  # type: ignore[arg-type]
        }

    # Prefect's client errors, translated once into ours.
    try:
        progress = await asyncio.wait_for(read(), timeout=READ_TIMEOUT_S)
    except ObjectNotFound:
        raise NotFound(f"no flow run {flow_run_id}", field="flow_run_id") from None
    except (httpx.HTTPError, OSError, PrefectHTTPStatusError, TimeoutError) as exc:
        raise PrefectUnavailable(
            f"Prefect is not reachable, so the run cannot be followed ({exc.__class__.__name__})"
        ) from exc
    return JSONResponse(progress)


@admin_api
async def adopt(request: Request) -> Response:
    """201 with the recorded change of the live parameters."""
    body = await json_object_body(request)
    sessions = runtime(request).sessions
    adopted_by = str(body.get("adopted_by") or "").strip()
    if not adopted_by:
        raise InvalidInput("adopted_by: say who adopts the parameter set", field="adopted_by")
    note = str(body.get("note") or "")

    def record() -> adoptions.Adoption:
        if body.get("defaults") is True:
            defaults = StrategyParams(symbol=SYMBOL, interval=INTERVAL)
            return adoptions.adopt(
                sessions, defaults.model_dump(), adopted_by, note or "back to the defaults"
            )
        run_id, window = _int(body.get("run_id"), "run_id"), _int(body.get("window"), "window")
        report = adoptions.walk_forward_report(sessions, run_id)
        chosen = next((w.params for w in report.windows if w.index == window), None)
        if chosen is None:
            raise NotFound(f"window {window} of run {run_id} chose no parameter set", field="window")
        return adoptions.adopt(sessions, chosen.model_dump(), adopted_by, note, run_id, window)

    change = await run_in_threadpool(record)
    return JSONResponse(_adoption_json(change), status_code=201)


def _int(value: object, name: str) -> int:
    """`value` as a whole number; InvalidInput naming the field `name` otherwise."""
    try:
        return int(str(value))
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a whole number", field=name) from None


def routes() -> list[BaseRoute]:
    """The Signals page's optimisation routes."""
    return [
        Route("/admin/api/signals/optimisations", list_optimisations, methods=["GET"]),
        Route("/admin/api/signals/optimisations", start_optimisation, methods=["POST"]),
        Route(
            "/admin/api/signals/optimisations/progress/{flow_run_id}", optimisation_progress, methods=["GET"]
        ),
        Route("/admin/api/signals/optimisations/{run_id}", get_optimisation, methods=["GET"]),
        Route("/admin/api/signals/adoptions", adopt, methods=["POST"]),
    ]
