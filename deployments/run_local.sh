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

# The dashboard needs a password. Without ADMIN_PASSWORD (environment or .env), the embedded
# mode makes one for this machine, keeps it in var/admin-password and prints it below.
if [ -z "${ADMIN_PASSWORD:-}" ] && ! grep -qs '^ADMIN_PASSWORD=' .env; then
  [ -s var/admin-password ] || .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))' > var/admin-password
  chmod 600 var/admin-password
  export ADMIN_PASSWORD="$(cat var/admin-password)"
  PASSWORD_NOTE="admin password: $ADMIN_PASSWORD (generated, kept in var/admin-password; set ADMIN_PASSWORD to choose your own)"
else
  PASSWORD_NOTE="admin password: the ADMIN_PASSWORD you configured"
fi

.venv/bin/python -m cli.main db upgrade
.venv/bin/python -m cli.main seed-demo

cat <<MSG

  PromoStack is starting.
    web app    http://$WEB_HOST:$WEB_PORT/
    dashboard  http://$WEB_HOST:$WEB_PORT/admin   ($PASSWORD_NOTE)
    Prefect UI http://127.0.0.1:4200/
  Ctrl-C stops everything.

MSG
exec .venv/bin/honcho -f Procfile start prefect flows web
