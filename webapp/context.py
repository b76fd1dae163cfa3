"""What the web app's requests share: the process `Runtime`, kept on `app.state.runtime`."""

from __future__ import annotations

from starlette.requests import Request

from promostack.runtime import Runtime


def runtime(request: Request) -> Runtime:
    """The runtime of the app serving `request`."""
    return request.app.state.runtime


def client_ip(request: Request) -> str:
    """The client's IP address (uvicorn's --proxy-headers puts the real one here behind a proxy)."""
    return request.client.host if request.client else "unknown"
