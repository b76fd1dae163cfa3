"""The Starlette application, built by `create_app()`; `webapp.app:app` is what uvicorn serves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from promostack.config import Settings, get_settings
from webapp.context import build_context
from webapp.rendering import STATIC_DIR
from webapp.routes import public


def create_app(settings: Settings | None = None) -> Starlette:
    """A fresh app; `settings` default to the environment's, read when the app starts."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.ctx = build_context(settings or get_settings())
        try:
            yield
        finally:
            app.state.ctx.close()

    routes = [
        *public.routes(),
        Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


app = create_app()
