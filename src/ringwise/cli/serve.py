"""``ringwise serve``: the API on uvicorn."""

from __future__ import annotations

import typer

from ringwise.cli.common import DatabaseOption, console, plain_errors, settings_for
from ringwise.db import migrate as migrations
from ringwise.db.engine import make_engine
from ringwise.errors import RingwiseError
from ringwise.settings import Settings


class SchemaOutOfDate(RingwiseError):
    code = "schema_out_of_date"


def register(app: typer.Typer) -> None:
    app.command()(serve)


def prepare_database(settings: Settings) -> None:
    """SQLite is migrated automatically; PostgreSQL must be migrated on purpose
    (``ringwise migrate``), since several processes may share it."""
    url = settings.database_url
    if make_engine(url).dialect.name == "sqlite":
        migrations.upgrade(url)
        return
    current, head = migrations.current_revision(url), migrations.head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"the database schema is at revision {current or 'none'} but this version needs "
            f"{head}: run `ringwise migrate` first"
        )


def serve(
    host: str | None = typer.Option(None, help="Interface to bind (default RINGWISE_HOST or "
                                               "127.0.0.1)", show_default=False),
    port: int | None = typer.Option(None, help="Port (default RINGWISE_PORT or 8000)",
                                    show_default=False),
    database_url: str | None = DatabaseOption,
) -> None:
    """Run the Ringwise API server."""
    import uvicorn

    from ringwise.api.app import create_app

    settings = settings_for(database_url)
    with plain_errors():
        prepare_database(settings)
    bind_host, bind_port = host or settings.host, port or settings.port
    console.print(f"Ringwise API on http://{bind_host}:{bind_port}  "
                  f"(docs: http://{bind_host}:{bind_port}/docs)")
    uvicorn.run(create_app(settings), host=bind_host, port=bind_port,
                log_level=settings.log_level)
