"""The dashboard's Analytics JSON API under `/admin/api/analytics/`.

Every view reads the published Parquet through `analytics.queries` (never the live database),
off the event loop. Each takes the same scope parameters: `range` (24h, 7d, 30d, 90d, custom
with `start`/`end` dates) and the optional filters `bot`, `channel`, `template`; tables also
answer `format=csv`. Bad parameters get 422 with the reason; storage trouble 503.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from analytics.manifest import read_progress
from analytics.filters import Filters, parse_filters
from analytics.queries import AnalyticsQueries
from promostack.errors import InvalidInput
from webapp.auth import admin_api
from webapp.context import runtime
from webapp.prefect_runs import start_run

EXPORT_DEPLOYMENT = "export-analytics/export-analytics"
_lock = threading.Lock()


def queries(request: Request) -> AnalyticsQueries:
    """The app's query layer, made on first use (one per app: its caches are shared)."""
    state = request.app.state
    with _lock:
        if getattr(state, "analytics", None) is None:
            rt = runtime(request)
            state.analytics = AnalyticsQueries(rt.store, rt.settings.data_dir / "analytics-cache")
        return state.analytics


def _filters(request: Request) -> Filters:
    q = request.query_params
    return parse_filters(
        q.get("range", "7d"),
        datetime.now(timezone.utc),
        start=q.get("start"),
        end=q.get("end"),
        bot=q.get("bot"),
        channel=q.get("channel"),
        template=q.get("template"),
    )


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{name}: {raw!r} is not a whole number") from None


def _csv(name: str, rows: list[dict[str, Any]]) -> Response:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _view(name: str, answer: Callable[[AnalyticsQueries, Filters, Request], Any], table: Callable[[Any], list[dict[str, Any]]] | None = None):  # type: ignore[no-untyped-def]
    """A route answering `answer(queries, filters, request)` as JSON (or CSV when `table` is given)."""

    @admin_api
    async def route(request: Request) -> Response:
        # Bad parameters (InvalidInput: 422) and storage faults (503) are answered by the app's
        # exception handlers.
        scope = _filters(request)
        result = await run_in_threadpool(answer, queries(request), scope, request)
        if table is not None and request.query_params.get("format") == "csv":
            return _csv(f"{name}-{scope.start:%Y%m%d%H}-{scope.end:%Y%m%d%H}", table(result))
        return JSONResponse(result)

    route.__name__ = f"analytics_{name}"
    route.__doc__ = f"The {name} view of the Analytics page."
    return route


@admin_api
async def status(request: Request) -> Response:
    """When the data was exported, its manifest version, and the progress of the last export run."""

    def load() -> dict[str, Any]:
        qs = queries(request)
        qs.refresh()
        manifest = qs.manifest()
        progress = read_progress(runtime(request).store)
        return {
            "exported_at": manifest.exported_at.isoformat() if manifest.exported_at else None,
            "version": manifest.version,
            "days": {name: len(days) for name, days in manifest.datasets.items()},
            "progress": progress.model_dump(mode="json") if progress else None,
        }

    return JSONResponse(await run_in_threadpool(load))


@admin_api
async def start_export(request: Request) -> Response:
    """202 with the flow run of `export-analytics` just scheduled; 503 saying why when Prefect cannot."""
    started = await start_run(EXPORT_DEPLOYMENT, runtime(request).settings.prefect_ui_url)
    return JSONResponse(started.as_json(), status_code=202)


def _series_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"bucket": result["bucket"], **point} for point in result["points"]]


def _coupons(qs: AnalyticsQueries, f: Filters, request: Request) -> dict[str, Any]:
    return qs.coupons(
        f,
        request.query_params.get("q", ""),
        page=_int(request, "page", 1),
        page_size=_int(request, "page_size", 25),
    )


def routes() -> list[BaseRoute]:
    """The Analytics JSON API routes."""
    base = "/admin/api/analytics"
    return [
        Route(f"{base}/status", status, methods=["GET"]),
        Route(f"{base}/export", start_export, methods=["POST"]),
        Route(f"{base}/kpis", _view("kpis", lambda qs, f, r: qs.kpis(f)), methods=["GET"]),
        Route(f"{base}/series", _view("series", lambda qs, f, r: qs.series(f), _series_rows), methods=["GET"]),
        Route(
            f"{base}/templates",
            _view("templates", lambda qs, f, r: qs.templates(f, limit=max(1, min(_int(r, "limit", 20), 300))), list),
            methods=["GET"],
        ),
        Route(f"{base}/failures", _view("failures", lambda qs, f, r: qs.failures(f), list), methods=["GET"]),
        Route(f"{base}/coupons", _view("coupons", _coupons, lambda result: result["coupons"]), methods=["GET"]),
        Route(f"{base}/options", _view("options", lambda qs, f, r: qs.options(f)), methods=["GET"]),
    ]
