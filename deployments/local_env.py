"""Print shell exports for `make run`: the Prefect server's database follows ours.

Prefect's server on SQLite drops concurrent runs with 503s under load (8 of 120 in a test
here), so when PromoStack is configured with Postgres, the Prefect server gets a database
`prefect` on the same Postgres server, created on first use.
"""

from __future__ import annotations

import shlex

from sqlalchemy.engine import make_url

from promostack.config import get_settings


def prefect_database_url() -> str | None:
    """An asyncpg URL for Prefect's own database on our Postgres, or None on SQLite."""
    url = make_url(get_settings().sqlalchemy_url)
    if not url.drivername.startswith("postgresql"):
        return None
    import psycopg2

    params = {"host": url.host, "port": url.port or 5432, "user": url.username, "password": url.password}
    conn = psycopg2.connect(dbname=url.database, **{k: v for k, v in params.items() if v})
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = 'prefect'")
        if cur.fetchone() is None:
            cur.execute("CREATE DATABASE prefect")
    conn.close()
    return url.set(drivername="postgresql+asyncpg", database="prefect").render_as_string(hide_password=False)


def main() -> None:
    """Print the exports (nothing when Prefect keeps its SQLite default)."""
    import os

    if os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL"):
        return
    url = prefect_database_url()
    if url:
        print(f"export PREFECT_API_DATABASE_CONNECTION_URL={shlex.quote(url)}")


if __name__ == "__main__":
    main()
