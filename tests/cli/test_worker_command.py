"""``ringwise worker`` and the dialer of ``ringwise serve``, run the way a person runs them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from ringwise.cli import app
from ringwise.clock import SystemClock
from ringwise.db.engine import Database
from ringwise.db.migrate import head_revision, upgrade
from ringwise.services import workspaces
from tests.conftest import PG_SERVER, REQUIRE_PG

runner = CliRunner()
RUN_CLI = "from ringwise.cli import app; app(prog_name='ringwise')"


def flat(text: str) -> str:
    """Terminal output with rich's line wrapping undone."""
    return " ".join(text.split())


def cli_process(*args: str, env: dict[str, str] | None = None,
                log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-c", RUN_CLI, *args],
                                env={**os.environ, **(env or {})}, stdout=out,
                                stderr=subprocess.STDOUT)


def test_worker_help() -> None:
    result = runner.invoke(app, ["worker", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--carrier-journal", "--seed", "--speed", "--clock-start", "--clock-epoch",
                   "--worker-id", "--lease-seconds", "--poll-interval", "--database-url"):
        assert option in result.output
    serve_help = runner.invoke(app, ["serve", "--help"])
    assert "--demo-speed" in serve_help.output and "--no-dialer" in serve_help.output


# --- refusing an unmigrated database ---------------------------------------------------------

@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that exists but was never migrated."""
    if request.param == "sqlite":
        path = tmp_path / "empty.db"
        empty = Database(f"sqlite:///{path}")
        with empty.engine.connect():  # creates the file
            pass
        empty.dispose()
        assert path.exists()
        yield f"sqlite:///{path}"
        return
    try:
        admin = psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_SERVER}: {exc}")
    name = f"rw_empty_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_SERVER}/{name}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_worker_refuses_an_unmigrated_database(empty_db_url: str, tmp_path: Path) -> None:
    journal = tmp_path / "carrier.jsonl"
    result = runner.invoke(app, ["worker", "--carrier-journal", str(journal)],
                           env={"RINGWISE_DATABASE_URL": empty_db_url})
    assert result.exit_code == 1
    assert flat(result.output) == (
        f"error: the database schema is at revision none but this version needs "
        f"{head_revision()}: run `ringwise migrate` first")
    assert "Traceback" not in result.output
    assert not journal.exists()  # nothing was started


def test_worker_refuses_a_missing_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.db"
    result = runner.invoke(app, ["worker", "--database-url", f"sqlite:///{path}"])
    assert result.exit_code == 1
    expected = f"error: there is no database at {path}: run `ringwise migrate` first"
    assert "".join(result.output.split()) == "".join(expected.split())  # wrapped anywhere
    assert not path.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--speed", "0"], "--speed must be greater than 0"),
    (["--clock-start", "2026-03-02T15:00"], "--clock-start needs a UTC offset"),
    (["--clock-start", "monday"], "is not an ISO-8601 instant"),
    (["--lease-seconds", "0.5", "--poll-interval", "0.5"], "at least twice --poll-interval"),
])
def test_worker_refuses_bad_options(args: list[str], message: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    result = runner.invoke(app, ["worker", "--database-url", url, *args])
    assert result.exit_code == 1
    assert message in flat(result.output) and "Traceback" not in result.output


def test_serve_refuses_demo_speed_without_its_dialer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    result = runner.invoke(app, ["serve", "--demo-speed", "60", "--no-dialer",
                                 "--database-url", url])
    assert result.exit_code == 1
    assert "--demo-speed runs the embedded dialer" in flat(result.output)


# --- processes ---------------------------------------------------------------------------------

def migrated_with_key(url: str) -> str:
    """Migrate ``url`` and create a workspace; its API key."""
    upgrade(url)
    db = Database(url)
    try:
        with db.transaction() as session:
            now = SystemClock().now()
            workspace = workspaces.create_workspace(session, "Demo", now)
            return workspaces.create_key(session, workspace.id, "tests", now).secret
    finally:
        db.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Any, timeout: float, what: str, process: subprocess.Popen[bytes],
               log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if process.poll() is not None:
            pytest.fail(f"the process exited ({process.returncode}) before {what}:\n"
                        f"{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{log.read_text()}")
        time.sleep(0.1)


def test_serve_demo_speed_dials_a_started_campaign(
        tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    key = migrated_with_key(url)
    port = free_port()
    log = tmp_path / "serve.log"
    server = cli_process("serve", "--demo-speed", "600", "--port", str(port),
                         "--database-url", url, log=log)
    processes.append(server)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key},
                        timeout=10)

    def healthy() -> bool:
        try:
            return http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    wait_until(healthy, 15, "the server to answer", server, log)
    assert "Dialer running in this process at 600x speed" in flat(log.read_text())

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = http.post(path, json=body)
        assert response.status_code in (200, 201), response.text
        data: dict[str, Any] = response.json()
        return data

    assistant = post("/v1/assistants", {"name": "Ava", "first_message": "Hi {{first_name}}"})
    number = post("/v1/phone-numbers", {"number": "+12125550999", "cps_limit": 10})
    contacts = post("/v1/contacts/bulk", {"contacts": [
        {"phone": f"+1212555{n:04d}", "first_name": f"C{n}"} for n in range(6)]})
    campaign = post("/v1/campaigns", {
        "name": "Demo", "assistant_id": assistant["id"],
        "caller_id": {"mode": "fixed", "phone_number_ids": [number["id"]]},
        "contact_ids": contacts["contact_ids"], "concurrency_limit": 3})
    started = post(f"/v1/campaigns/{campaign['id']}/start", {})
    assert started["status"] == "running"

    def ended_calls() -> list[dict[str, Any]]:
        calls = http.get("/v1/calls", params={"campaign_id": campaign["id"]}).json()["data"]
        return [c for c in calls if c["status"] == "ended"]

    calls = wait_until(ended_calls, 15, "calls to be placed and end", server, log)
    assert {c["campaign_id"] for c in calls} == {campaign["id"]}
    assert (tmp_path / "demo-carrier.jsonl").exists()  # journaled next to the database
    http.close()

    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=15) == 0, log.read_text()
    assert "stopped after" in log.read_text()


def test_serve_runs_its_dialer_in_real_time_unless_told_not_to(
        tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    cases = {"real-time": ((), "Dialer running in this process at real time (speed 1)"),
             "no-dialer": (("--no-dialer",), "Dialer off (--no-dialer)")}
    servers = {}
    for name, (args, _line) in cases.items():  # both at once: startup is most of the time
        url = f"sqlite:///{tmp_path / name}.db"
        upgrade(url)
        port, log = free_port(), tmp_path / f"{name}.log"
        server = cli_process("serve", "--port", str(port), "--database-url", url, *args,
                             log=log)
        processes.append(server)
        servers[name] = (server, port, log)
    for name, (server, port, log) in servers.items():

        def up(port: int = port) -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(up, 15, "the server to answer", server, log)
        assert cases[name][1] in flat(log.read_text())
        server.send_signal(signal.SIGINT)
    for server, _port, log in servers.values():
        assert server.wait(timeout=15) == 0, log.read_text()
    assert (tmp_path / "real-time-carrier.jsonl").exists()
    assert not (tmp_path / "no-dialer-carrier.jsonl").exists()


def test_two_workers_cannot_share_a_carrier_journal(
        tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    journal = tmp_path / "carrier.jsonl"
    log = tmp_path / "first.log"
    first = cli_process("worker", "--carrier-journal", str(journal), "--worker-id", "one",
                        env={"RINGWISE_DATABASE_URL": url}, log=log)
    processes.append(first)
    wait_until(lambda: "dialer worker one started" in log.read_text(), 15,
               "the first worker to start", first, log)
    second_log = tmp_path / "second.log"
    second = cli_process("worker", "--carrier-journal", str(journal), "--worker-id", "two",
                         env={"RINGWISE_DATABASE_URL": url}, log=second_log)
    processes.append(second)
    assert second.wait(timeout=15) == 1
    assert "is in use by another Ringwise process" in flat(second_log.read_text())
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=15) == 0
    assert "dialer worker one stopped" in log.read_text()
