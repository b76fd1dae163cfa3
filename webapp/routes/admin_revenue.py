"""The Revenue page's admin JSON API: figures from the mirror, and a reconcile on demand.

- `GET /admin/api/revenue[?product=<id>]` → the page's figures, read from the mirror only
  (never Stripe per page view); `{"configured": false, "missing": [...]}` without Stripe keys.
- `POST /admin/api/revenue/reconcile` → 202 with the flow run started on the
  `reconcile-stripe` deployment; 503 when Prefect cannot be reached.

Both need an admin session; the POST also the CSRF header (checked before the route runs).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from promostack.billing.dashboard import overview
from promostack.billing.mrr import RevenueFilter
from promostack.errors import InvalidInput
from webapp.auth import admin_api
from webapp.context import runtime
from webapp.prefect_runs import start_run
from webapp.routes.admin_json import error

DEPLOYMENT = "reconcile-stripe/reconcile-stripe"


@admin_api
async def revenue(request: Request) -> Response:
    """The Revenue page's figures (optionally for one product), or what is missing to have them."""
    rt = runtime(request)
    settings = rt.settings
    missing = [
        name
        for name, value in (("STRIPE_SECRET_KEY", settings.stripe_secret_key), ("STRIPE_WEBHOOK_SECRET", settings.stripe_webhook_secret))
        if value is None
    ]
    if missing:
        return JSONResponse({"configured": False, "missing": missing})
    product = request.query_params.get("product") or None
    flt = RevenueFilter.from_settings(settings)

    def load() -> dict:
        with rt.sessions() as session:
            return overview(session, flt, datetime.now(timezone.utc), product)

    try:
        data = await run_in_threadpool(load)
    except InvalidInput as exc:
        return error(422, str(exc), field="product")
    except SQLAlchemyError as exc:
        return error(503, f"the database is unavailable ({exc.__class__.__name__})")
    filters = {
        "product_ids": sorted(flt.product_ids),
        "price_ids": sorted(flt.price_ids),
        "subscription_ids": sorted(flt.subscription_ids),
    }
    return JSONResponse({"configured": True, "filters": filters, **data})


@admin_api
async def reconcile_now(request: Request) -> Response:
    """202 with the id of the `reconcile-stripe` run just started on the workers."""
    started = await start_run(DEPLOYMENT, runtime(request).settings.prefect_ui_url)
    return JSONResponse(started.as_json(), status_code=202)


def routes() -> list[BaseRoute]:
    """The Revenue admin API routes."""
    return [
        Route("/admin/api/revenue", revenue, methods=["GET"]),
        Route("/admin/api/revenue/reconcile", reconcile_now, methods=["POST"]),
    ]
