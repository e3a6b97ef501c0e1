"""The operator commands, run the way a person runs them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ringwise import __version__
from ringwise.api.app import create_app
from ringwise.cli import app
from ringwise.db.engine import Database
from ringwise.settings import Settings

runner = CliRunner()
KEY = re.compile(r"rw_live_[0-9A-Za-z]{36}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_version() -> None:
    assert __version__ in run("version")


def test_every_command_has_help() -> None:
    for command in (["serve"], ["migrate"], ["workspace", "create"], ["keys", "create"],
                    ["keys", "list"], ["keys", "revoke"], ["version"], ["import"],
                    ["quickstart"], ["workspace", "list"]):
        assert "Usage" in run(*command, "--help")


def test_migrate_is_repeatable(url: str) -> None:
    assert "Migrated database from empty" in run("migrate", "--database-url", url)
    assert "nothing to do" in run("migrate", "--database-url", url)


def test_workspace_and_key_lifecycle(url: str) -> None:
    run("migrate", "--database-url", url)
    out = run("workspace", "create", "Acme Outbound", "--database-url", url)
    workspace_id = UUID.search(out)
    secret = KEY.search(out.replace("\n", ""))
    assert workspace_id and secret

    db = Database(url)
    try:
        with TestClient(create_app(Settings(database_url=url), db=db)) as http:
            ok = http.get("/v1/settings", headers={"X-API-Key": secret.group()})
            assert ok.status_code == 200 and ok.json()["name"] == "Acme Outbound"

            second = KEY.search(run("keys", "create", "-w", workspace_id.group(), "--name",
                                    "crm", "--database-url", url).replace("\n", ""))
            assert second and second.group() != secret.group()
            listing = run("keys", "list", "-w", workspace_id.group(), "--database-url", url)
            assert secret.group()[:12] in listing and second.group()[:12] in listing
            assert second.group() not in listing  # secrets are never shown again

            run("keys", "revoke", second.group()[:12], "--database-url", url)
            refused = http.get("/v1/settings", headers={"X-API-Key": second.group()})
            assert refused.status_code == 401
            assert "revoked" in run("keys", "list", "-w", workspace_id.group(),
                                    "--database-url", url)
    finally:
        db.dispose()


def test_errors_are_one_plain_line(url: str) -> None:
    run("migrate", "--database-url", url)
    result = runner.invoke(app, ["keys", "list", "-w", "nope", "--database-url", url])
    assert result.exit_code == 1
    assert "workspace 'nope' does not exist" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("name", "value"), [("RINGWISE_WEBHOOK_RETENTION_DAYS", "30d"),
                                           ("RINGWISE_PORT", "80a")])
def test_a_malformed_setting_is_one_plain_line(url: str, name: str, value: str) -> None:
    result = runner.invoke(app, ["workspace", "list", "--database-url", url], env={name: value})
    assert result.exit_code == 1
    assert name in result.output and repr(value) in result.output
    assert "Traceback" not in result.output


def test_serve_refuses_an_unmigrated_postgres(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite is migrated automatically by serve")
    from ringwise.cli.serve import SchemaOutOfDate, prepare_database
    from ringwise.db.migrate import downgrade

    downgrade(db_url, "base")
    with pytest.raises(SchemaOutOfDate, match="run `ringwise migrate` first"):
        prepare_database(Settings(database_url=db_url))
