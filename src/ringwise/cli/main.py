"""Top-level command group; each sub-command lives in its own module."""

from __future__ import annotations

import typer

from ringwise import __version__

app = typer.Typer(
    name="ringwise",
    help="Ringwise: outbound AI voice-call campaigns, self-hosted.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.command()
def version() -> None:
    """Print the Ringwise version."""
    typer.echo(f"ringwise {__version__}")


def _register() -> None:
    from ringwise.cli import admin, quickstart, serve, simulate, worker

    admin.register(app)
    serve.register(app)
    worker.register(app)
    quickstart.register(app)
    simulate.register(app)
    try:
        from ringwise.cli import import_cmd
    except ImportError:  # pragma: no cover - only while the module is being written
        return
    import_cmd.register(app)


_register()
