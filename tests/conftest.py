"""Shared fixtures: every test that takes ``db`` runs once on SQLite and once on PostgreSQL.

Each test gets a fresh, fully migrated database: SQLite by copying a migrated template file,
PostgreSQL by ``CREATE DATABASE ... TEMPLATE`` from a migrated template database. PostgreSQL
tests skip when the server is unreachable, unless RINGWISE_REQUIRE_POSTGRES=1 (CI), where they
fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from ringwise.api.app import create_app
from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.migrate import upgrade
from ringwise.services import workspaces
from ringwise.settings import Settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

PG_SERVER = os.environ.get("RINGWISE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
REQUIRE_PG = os.environ.get("RINGWISE_REQUIRE_POSTGRES") == "1"
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_admin() -> psycopg.Connection[Any]:
    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=3)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    try:
        admin = _pg_admin()
    except psycopg.OperationalError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL required (RINGWISE_REQUIRE_POSTGRES=1) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_SERVER}: {exc}")
    name = f"rw_tpl_{_worker()}_{uuid.uuid4().hex[:8]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    upgrade(f"{PG_SERVER}/{name}")
    yield name
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "ringwise.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    template_name: str = request.getfixturevalue("pg_template")
    name = f"rw_{_worker()}_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    yield f"{PG_SERVER}/{name}"
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def app(db: Database, clock: ManualClock) -> Any:
    return create_app(Settings(database_url=db.url), db=db, clock=clock)


def make_workspace(db: Database, clock: ManualClock, name: str) -> tuple[str, str]:
    """(workspace id, API key secret)."""
    with db.transaction() as session:
        workspace = workspaces.create_workspace(session, name, clock.now())
        created = workspaces.create_key(session, workspace.id, "tests", clock.now())
        return workspace.id, created.secret


@pytest.fixture
def workspace(db: Database, clock: ManualClock) -> tuple[str, str]:
    return make_workspace(db, clock, "Acme")


@pytest.fixture
def client(app: Any, workspace: tuple[str, str]) -> Iterator[TestClient]:
    """An API client authenticated as the 'Acme' workspace."""
    with TestClient(app, headers={"X-API-Key": workspace[1]}) as test_client:
        yield test_client


@pytest.fixture
def other_client(app: Any, db: Database, clock: ManualClock) -> Iterator[TestClient]:
    """An API client of a second workspace, for isolation tests."""
    _, secret = make_workspace(db, clock, "Globex")
    with TestClient(app, headers={"X-API-Key": secret}) as test_client:
        yield test_client


@pytest.fixture
def anon_client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """The app on a real uvicorn server in a background thread; yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Worker processes started by a test; killed if still running at its end."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
