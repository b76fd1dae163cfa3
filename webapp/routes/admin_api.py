"""The admin JSON API under `/admin/api/`: the template manager (`admin_templates`), the coupon
registry, recent flow runs and signals.

Every route needs an admin session (401 JSON otherwise) and, when it changes something, the
CSRF header (checked by `webapp.security.CSRFProtect` before the route runs). Errors are raised
and answered by the app's one dialect (`webapp.errors`): `{"error": <kind>, "message": <sentence>}`.
"""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from promostack.coupons.registry import CouponInfo, LocalRegistry
from promostack.db.models import Signal
from promostack.errors import DependencyError, InvalidInput
from webapp.auth import admin_api
from webapp.bodies import read_json_object
from webapp.context import runtime
from webapp.errors import WebError
from webapp.prefect_runs import PrefectUnavailable, recent_runs
from webapp.routes import admin_signals, admin_template_versions, admin_templates
from webapp.routes.admin_json import MAX_JSON_BODY

# --- coupons -----------------------------------------------------------------------------------


def _coupon_json(info: CouponInfo) -> dict[str, Any]:
    return {
        "code": info.code,
        "active": info.active,
        "description": info.description,
        "discount": info.discount,
        "expires_at": info.expires_at.isoformat() if info.expires_at else None,
        "max_uses": info.max_uses,
        "usage_count": info.usage_count,
    }


def _registry(request: Request) -> LocalRegistry:
    return LocalRegistry(runtime(request).sessions)


def _optional(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if value in (None, ""):
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name}: {value!r} is not a valid {kind.__name__}", field=name) from None


def _expiry(body: dict[str, Any]) -> datetime | None:
    """The end of the `expires_on` day (YYYY-MM-DD) in UTC, or None when there is none."""
    expires = _optional(body, "expires_on", str)
    if not expires:
        return None
    try:
        day = datetime.strptime(expires, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput("expires_on: use a date like 2026-12-31", field="expires_on") from None
    return datetime.combine(day, time.max, tzinfo=timezone.utc)


@admin_api
async def list_coupons(request: Request) -> Response:
    """Every code in the local coupon registry."""
    rows = await run_in_threadpool(_registry(request).list)
    backend = runtime(request).settings.coupon_backend
    return JSONResponse({"coupons": [_coupon_json(c) for c in rows], "validator": backend})


@admin_api
async def add_coupon(request: Request) -> Response:
    """The new entry for `{"code", "discount"?, "description"?, "expires_on"? (YYYY-MM-DD), "max_uses"?}`."""
    body = await read_json_object(request, MAX_JSON_BODY)
    expires_at = _expiry(body)
    info = await run_in_threadpool(
        lambda: _registry(request).add(
            str(body.get("code") or ""),
            discount=_optional(body, "discount", float),
            description=(str(body.get("description") or "").strip() or None),
            expires_at=expires_at,
            max_uses=_optional(body, "max_uses", int),
        )
    )
    return JSONResponse(_coupon_json(info), status_code=201)


@admin_api
async def deactivate_coupon(request: Request) -> Response:
    """The entry after switching the code off (it stays listed, and is refused from now on)."""
    return await _switch_coupon(request, active=False)


@admin_api
async def reactivate_coupon(request: Request) -> Response:
    """The entry after switching the code back on (its uses and expiry are as they were)."""
    return await _switch_coupon(request, active=True)


async def _switch_coupon(request: Request, *, active: bool) -> Response:
    info = await run_in_threadpool(_registry(request).set_active, request.path_params["code"], active)
    return JSONResponse(_coupon_json(info))


# --- operations --------------------------------------------------------------------------------


@admin_api
async def flow_runs(request: Request) -> Response:
    """Recent Prefect flow runs with links into the Prefect UI; 503 saying why when unreachable."""
    ui = runtime(request).settings.prefect_ui_url
    try:
        rows = await recent_runs(ui)
    except PrefectUnavailable as exc:
        # Said in full: the admin is the one who can fix where Prefect is.
        raise WebError(503, str(exc), kind="prefect_unavailable", prefect_ui=ui, configured=exc.configured) from exc
    return JSONResponse({"runs": [r.as_json() for r in rows], "prefect_ui": ui})


@admin_api
async def signals(request: Request) -> Response:
    """The most recent trading signals in the database (none until the signals flow has run)."""

    def load() -> list[dict[str, Any]]:
        with runtime(request).sessions() as session:
            found = session.scalars(select(Signal).order_by(Signal.opened_at.desc()).limit(100))
            return [
                {
                    "id": s.id,
                    "symbol": s.symbol,
                    "interval": s.interval,
                    "side": s.side,
                    "entry": s.entry,
                    "take_profit": s.take_profit,
                    "stop_loss": s.stop_loss,
                    "status": s.status,
                    "source": s.source,
                    "opened_at": s.opened_at.isoformat(),
                    "pips": s.pips,
                }
                for s in found
            ]

    try:
        rows = await run_in_threadpool(load)
    except SQLAlchemyError as exc:
        raise DependencyError(f"the database is unavailable ({exc.__class__.__name__})") from exc
    return JSONResponse({"signals": rows})


def routes() -> list[BaseRoute]:
    """The admin JSON API routes."""
    return [
        *admin_templates.routes(),
        *admin_template_versions.routes(),
        *admin_signals.routes(),
        Route("/admin/api/coupons", list_coupons, methods=["GET"]),
        Route("/admin/api/coupons", add_coupon, methods=["POST"]),
        Route("/admin/api/coupons/{code}/deactivate", deactivate_coupon, methods=["POST"]),
        Route("/admin/api/coupons/{code}/reactivate", reactivate_coupon, methods=["POST"]),
        Route("/admin/api/flow-runs", flow_runs, methods=["GET"]),
        Route("/admin/api/signals", signals, methods=["GET"]),
    ]
