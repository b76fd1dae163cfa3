"""Public pages: the home page (and, with the generator, the gallery)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from webapp.rendering import templates


async def home(request: Request) -> Response:
    """The home page."""
    return templates.TemplateResponse(request, "home.html", {})


async def healthz(request: Request) -> Response:
    """Liveness for load balancers: the process answers."""
    return JSONResponse({"status": "ok"})


def routes() -> list[BaseRoute]:
    """The public routes."""
    return [Route("/", home, name="home"), Route("/healthz", healthz, name="healthz")]
