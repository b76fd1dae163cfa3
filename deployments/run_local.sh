#!/usr/bin/env bash
# `make run`: migrate, seed, then start the Prefect server, the flow runner and the web app
# under honcho. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
export PREFECT_HOME="${PREFECT_HOME:-$PWD/var/prefect}"
export PREFECT_API_URL="${PREFECT_API_URL:-http://127.0.0.1:4200/api}"
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_SERVER_API_HOST=127.0.0.1
export WEB_HOST="${WEB_HOST:-127.0.0.1}" WEB_PORT="${WEB_PORT:-8000}"
# The Prefect server's own database: Postgres whenever one is configured, else SQLite.
eval "$(.venv/bin/python -m deployments.local_env)"

.venv/bin/python -m cli.main db upgrade
.venv/bin/python -m cli.main seed-demo

cat <<MSG

  PromoStack is starting.
    web app    http://$WEB_HOST:$WEB_PORT/
    dashboard  http://$WEB_HOST:$WEB_PORT/admin
    Prefect UI http://127.0.0.1:4200/
  Ctrl-C stops everything.

MSG
exec .venv/bin/honcho -f Procfile start
