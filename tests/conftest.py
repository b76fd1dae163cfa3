"""The world the tests run in: settings, databases (SQLite and the real Postgres), S3 over HTTP
(moto's server), and Prefect's test harness.

Postgres tests skip with the reason when 127.0.0.1:5432 is unreachable, except under CI=true,
where they fail. Each run gets its own fresh database and drops only that one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from promostack.config import Settings
from promostack.db.engine import make_engine, make_session_factory
from promostack.db.migrate import upgrade
from promostack.db.models import Base
from promostack.runtime import Runtime
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.ports import free_port

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_ADMIN_URL = os.environ.get("PROMOSTACK_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")

# Tests build their own Settings; the machine's environment must not leak into them.
for _name in Settings.model_fields:
    os.environ.pop(_name.upper(), None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last: Playwright's sync API holds an event loop in the main thread."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid)


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for a test: embedded defaults under `data_dir`, no `.env`, plus `overrides`."""
    return Settings(_env_file=None, data_dir=data_dir, **overrides)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded-default settings under a fresh temporary folder."""
    return make_settings(tmp_path)


# --- Postgres --------------------------------------------------------------------------------


def _postgres_unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"Postgres is required under CI=true: {reason}")
    pytest.skip(f"Postgres unreachable at {PG_ADMIN_URL}: {reason}")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, migrated database on the real Postgres, dropped at the end of the run."""
    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    name = f"promostack_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any connection failure means "unreachable" here
        admin.dispose()
        _postgres_unavailable(str(exc).splitlines()[0])
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database file for the run."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'promostack.db'}"
    upgrade(url)
    return url


def _truncate(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated, emptied database URL: the test runs once on SQLite and once on Postgres."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    engine = make_engine(url)
    _truncate(engine)
    engine.dispose()
    return url


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """An engine on `db_url`, disposed after the test."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(db_engine: Engine) -> sessionmaker[Session]:
    """A session factory on the test database."""
    return make_session_factory(db_engine)


# --- S3 over HTTP ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 HTTP endpoint (moto's threaded server) on loopback."""
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_settings(tmp_path: Path, s3_endpoint: str) -> Settings:
    """Settings that point object storage at a fresh bucket on the local S3 endpoint."""
    from promostack.storage import S3Store

    bucket = f"test-{uuid.uuid4().hex[:10]}"
    settings = make_settings(
        tmp_path,
        spaces_bucket=bucket,
        spaces_endpoint_url=s3_endpoint,
        spaces_region="us-east-1",
        spaces_access_key="testing",
        spaces_secret_key="testing",
    )
    S3Store(bucket, endpoint_url=s3_endpoint, region="us-east-1", access_key="testing", secret_key="testing").ensure_bucket()
    return settings


# --- Prefect -------------------------------------------------------------------------------------


@contextmanager
def _prefect_server(database_url: str) -> Iterator[None]:
    """A Prefect API server in a subprocess on `database_url`, made the API of this process.

    Prefect's own `prefect_test_harness` always uses SQLite, whose single writer lock has failed
    the server's start under load ("database is locked"); this is the same harness on any database.
    """
    import prefect.context
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_SERVER_DATABASE_CONNECTION_URL,
        temporary_settings,
    )

    with temporary_settings({PREFECT_SERVER_DATABASE_CONNECTION_URL: database_url}):
        server = SubprocessASGIServer(port=free_port())
        prior = SubprocessASGIServer._instances.get(None)
        # Code that asks for "the" ephemeral server finds this one instead of starting another.
        SubprocessASGIServer._instances[None] = server
        server.start(timeout=120)
    try:
        # Heartbeats off: each synchronous flow call otherwise joins a heartbeat thread that
        # sleeps in one-second steps (about 1.1 s per call measured with prefect 3.9.1).
        with temporary_settings({PREFECT_API_URL: server.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            with prefect.context._temporary_global_settings_context(prefect.context.get_settings_context()):
                yield
                APILogWorker.drain_all()
                EventsWorker.drain_all()
    finally:
        server.stop()
        if prior is not None:
            SubprocessASGIServer._instances[None] = prior
        else:
            SubprocessASGIServer._instances.pop(None, None)


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Flows run against a temporary Prefect server for the whole session: on a fresh database
    of the test Postgres when it is reachable, else (outside CI) on a SQLite file."""
    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    name = f"prefect_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any connection failure means "unreachable" here
        admin.dispose()
        if IN_CI:
            pytest.fail(f"Postgres is required under CI=true: {str(exc).splitlines()[0]}")
        path = tmp_path_factory.mktemp("prefect") / "prefect.db"
        with _prefect_server(f"sqlite+aiosqlite:///{path}"):
            yield
        return
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql+psycopg2://", "postgresql+asyncpg://")
    try:
        with _prefect_server(f"{base}/{name}"):
            yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def runtime(db_url: str, tmp_path: Path) -> Iterator["Runtime"]:
    """A runtime on the test database (SQLite, then Postgres) and a local store, installed."""
    from promostack.runtime import build_runtime, install_runtime

    rt = build_runtime(make_settings(tmp_path, database_url=db_url))
    with install_runtime(rt):
        yield rt
    rt.close()


# --- Telegram Bot API ----------------------------------------------------------------------------


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    """A fake Telegram Bot API server on loopback (see tests/fakes/bot_api.py for its API)."""
    with FakeBotApi() as api:
        yield api
