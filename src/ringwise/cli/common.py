"""Helpers shared by the CLI commands: settings, database, plain error output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import typer
from rich.console import Console

from ringwise.db.engine import Database
from ringwise.errors import RingwiseError
from ringwise.settings import Settings

console = Console()
err_console = Console(stderr=True)

DatabaseOption = typer.Option(
    None, "--database-url", envvar="RINGWISE_DATABASE_URL",
    help="sqlite:///path.db or postgresql://user@host/db (default: sqlite:///./ringwise.db)",
    show_default=False,
)


def settings_for(database_url: str | None) -> Settings:
    try:
        settings = Settings.from_env()
    except ValueError as exc:  # a malformed RINGWISE_* variable: say which, no traceback
        raise fail(str(exc)) from None
    return replace(settings, database_url=database_url) if database_url else settings


@contextmanager
def open_database(database_url: str | None) -> Iterator[Database]:
    db = Database(settings_for(database_url).database_url)
    try:
        yield db
    finally:
        db.dispose()


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@contextmanager
def plain_errors() -> Iterator[None]:
    """Turn Ringwise errors into one red line and a non-zero exit, not a traceback."""
    try:
        yield
    except RingwiseError as exc:
        raise fail(exc.message) from None
