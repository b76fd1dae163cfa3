"""A web process: `python -m deployments.web` serves `webapp.app:app` with uvicorn.

Stateless: run as many as the load needs behind any load balancer (they share `SESSION_SECRET`,
the database and, when set, Redis). Logging follows `LOG_FORMAT`/`LOG_LEVEL`
(webapp/log_config.py); the address follows `WEB_HOST`/`WEB_PORT` (or `PORT`, as platforms set).
"""

from __future__ import annotations

import os

import uvicorn

from promostack.config import get_settings
from webapp.log_config import log_config


def main() -> None:
    """Serve until stopped."""
    settings = get_settings()
    uvicorn.run(
        "webapp.app:app",
        host=os.environ.get("WEB_HOST", "0.0.0.0"),
        port=int(os.environ.get("WEB_PORT") or os.environ.get("PORT") or 8000),
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        log_config=log_config(settings),
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()
