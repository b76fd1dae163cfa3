"""The Starlette application, built by `create_app()`; `webapp.app:app` is what uvicorn serves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from promostack.config import Settings, get_settings
from webapp import security
from promostack.runtime import build_runtime, install_runtime
from webapp.lifecycle import run_hooks
from webapp.errors import exception_handlers
from webapp.rendering import STATIC_DIR
from webapp.routes import admin, admin_revenue, api, public, stripe_webhook, telegram
from webapp.routes import admin_campaigns, campaigns
from webapp.routes import admin_analytics
from webapp.routes import health
from webapp.metrics import Metrics, RequestMetrics
from webapp.routes import admin_broadcasts


def create_app(settings: Settings | None = None) -> Starlette:
    """A fresh app; `settings` default to the environment's."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = build_runtime(settings)
        app.state.runtime = runtime
        try:
            # Flows started from requests find the same runtime.
            with install_runtime(runtime):
                async with run_hooks(app):
                    yield
        finally:
            runtime.close()

    routes = [
        *public.routes(),
        *api.routes(),
        *admin.routes(),
        *admin_revenue.routes(),
        *campaigns.routes(),
        *admin_campaigns.routes(),
        *admin_analytics.routes(),
        *admin_broadcasts.routes(),
        *telegram.routes(),
        *stripe_webhook.routes(),
        *health.routes(),
        Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]
    metrics = Metrics()
    app = Starlette(
        routes=routes,
        # Outermost, so every answer is counted, refusals of the security middleware too.
        middleware=[Middleware(RequestMetrics, metrics=metrics), *security.middleware(settings)],
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    return app


app = create_app()
