"""``ringwise migrate``, ``ringwise workspace ...`` and ``ringwise keys ...``."""

from __future__ import annotations

import typer
from rich.table import Table

from ringwise.cli.common import (
    DatabaseOption,
    console,
    open_database,
    plain_errors,
    settings_for,
)
from ringwise.clock import SystemClock
from ringwise.db import migrate as migrations
from ringwise.services import workspaces

workspace_app = typer.Typer(help="Create and list workspaces.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke a workspace's API keys.",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command()(migrate)
    app.add_typer(workspace_app, name="workspace")
    app.add_typer(keys_app, name="keys")


def migrate(database_url: str | None = DatabaseOption) -> None:
    """Bring the database schema up to date (safe to run repeatedly)."""
    url = settings_for(database_url).database_url
    before = migrations.current_revision(url)
    migrations.upgrade(url)
    after = migrations.current_revision(url)
    if before == after:
        console.print(f"Database already at revision [bold]{after}[/]; nothing to do.")
    else:
        console.print(f"Migrated database from {before or 'empty'} to [bold]{after}[/].")


@workspace_app.command("create")
def workspace_create(
    name: str = typer.Argument(..., help="Workspace name, e.g. 'Acme Outbound'"),
    key: bool = typer.Option(True, "--key/--no-key", help="Also create a first API key"),
    database_url: str | None = DatabaseOption,
) -> None:
    """Create a workspace (and, by default, its first API key)."""
    now = SystemClock().now()
    with plain_errors(), open_database(database_url) as db, db.transaction() as session:
        workspace = workspaces.create_workspace(session, name, now)
        created = workspaces.create_key(session, workspace.id, "default", now) if key else None
    console.print(f"Workspace [bold]{workspace.name}[/] created: id {workspace.id}")
    if created is not None:
        _show_secret(created.secret)


@workspace_app.command("list")
def workspace_list(database_url: str | None = DatabaseOption) -> None:
    """List workspaces."""
    with open_database(database_url) as db, db.reading() as session:
        rows = workspaces.list_workspaces(session)
    table = Table("name", "created")
    table.add_column("id", no_wrap=True)
    for ws in rows:
        table.add_row(ws.name, ws.created_at.isoformat(timespec="seconds"), ws.id)
    console.print(table)


@keys_app.command("create")
def keys_create(
    workspace: str = typer.Option(..., "--workspace", "-w", help="Workspace id"),
    name: str = typer.Option("", "--name", help="A label, e.g. 'CRM integration'"),
    database_url: str | None = DatabaseOption,
) -> None:
    """Create an API key. The key is printed once and never stored in clear."""
    with plain_errors(), open_database(database_url) as db, db.transaction() as session:
        created = workspaces.create_key(session, workspace, name, SystemClock().now())
    _show_secret(created.secret)


@keys_app.command("list")
def keys_list(
    workspace: str = typer.Option(..., "--workspace", "-w", help="Workspace id"),
    prefix: str | None = typer.Option(None, "--prefix", help="Only keys starting with this"),
    database_url: str | None = DatabaseOption,
) -> None:
    """List a workspace's API keys by prefix (the secret itself is never shown again)."""
    with plain_errors(), open_database(database_url) as db, db.reading() as session:
        workspaces.get_workspace(session, workspace)
        keys = workspaces.list_keys(session, workspace, prefix)
    if not keys:
        console.print("No API keys.")
    # One line per key: readable in a narrow terminal and easy to grep.
    for k in keys:
        status = "[red]revoked[/]" if k.revoked_at else "[green]active[/]"
        used = k.last_used_at.isoformat(timespec="minutes") if k.last_used_at else "never"
        console.print(
            f"{k.prefix}…  {status}  {k.name or '-'}  created "
            f"{k.created_at.isoformat(timespec='minutes')}  last used {used}  id {k.id}",
            soft_wrap=True,
        )


@keys_app.command("revoke")
def keys_revoke(
    key: str = typer.Argument(..., help="Key id or its displayed prefix (rw_live_XXXX)"),
    workspace: str | None = typer.Option(None, "--workspace", "-w",
                                         help="Restrict the match to this workspace"),
    database_url: str | None = DatabaseOption,
) -> None:
    """Revoke an API key: requests with it are refused from now on."""
    with plain_errors(), open_database(database_url) as db, db.transaction() as session:
        revoked = workspaces.revoke_key(session, key, SystemClock().now(), workspace)
    console.print(f"Revoked key {revoked.prefix}… ({revoked.id}).")


def _show_secret(secret: str) -> None:
    console.print(f"API key (shown once, store it now): [bold green]{secret}[/]", soft_wrap=True)
