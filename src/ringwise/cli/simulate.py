"""``ringwise simulate SCENARIO.json``: forecast a campaign on virtual time, no real calls.

Prints a JSON summary on stdout (``--calls-out FILE.jsonl``: one JSON line per attempt), or
with ``--preflight`` only the launch-time preflight. A scenario that cannot be simulated is
one line on stderr naming the field (``campaign.retry.delays_minutes[0]: ...``) and exit
status 2. The scenario format: ``docs/simulator.md``; examples: ``examples/``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Final

import typer
from rich.markup import escape

from ringwise.cli.common import err_console

INVALID_SCENARIO: Final = 2


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)


def simulate(
    scenario: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                    help="The scenario file (JSON; see docs/simulator.md)"),
    contacts: Path | None = typer.Option(
        None, "--contacts", exists=True, dir_okay=False, readable=True,
        help="A CSV of contacts, imported like `ringwise import` (replaces the scenario's "
             "contacts_csv)"),
    seed: int | None = typer.Option(None, "--seed", min=0,
                                    help="The carrier's seed (default: the scenario's)"),
    calls_out: Path | None = typer.Option(
        None, "--calls-out", dir_okay=False, writable=True,
        help="Write one JSON line per attempt to this file"),
    preflight: bool = typer.Option(
        False, "--preflight",
        help="Only say how many contacts would be skipped and why; place no calls"),
    horizon_days: float | None = typer.Option(
        None, "--horizon-days", min=0.001, max=366,
        help="Stop after this many simulated days (default: the scenario's, else 30)"),
) -> None:
    """Forecast a campaign on virtual time against a simulated carrier (no real calls).

    Prints a JSON summary: completion, attempts, outcomes, connects, peak concurrency, slot utilization, attempts per hour, and which contacts are left and why. Format: docs/simulator.md."""  # noqa: E501
    from ringwise.dialer.simulation import (
        ScenarioError,
        load_scenario,
        preflight_summary,
        prepare,
        run,
    )

    started = time.perf_counter()
    try:
        loaded = load_scenario(scenario)
        prepared = prepare(loaded, contacts_csv=contacts, start=not preflight)
    except ScenarioError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(INVALID_SCENARIO) from None
    if preflight:
        _print(preflight_summary(prepared))
        return
    result = run(prepared, seed=seed, horizon_days=horizon_days)
    if calls_out is not None:
        try:
            with calls_out.open("w", encoding="utf-8", newline="\n") as out:
                result.write_calls(out)
        except OSError as exc:
            err_console.print(f"[bold red]error:[/] cannot write {escape(str(calls_out))}: "
                              f"{escape(exc.strerror or str(exc))}", soft_wrap=True)
            raise typer.Exit(1) from None
    _print(result.summary)
    err_console.print(f"[dim]simulated {result.summary['attempts']:,} calls to "
                      f"{result.summary['contacts']['loaded']:,} contacts in "
                      f"{time.perf_counter() - started:.1f} s[/]", soft_wrap=True)


def _print(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, indent=2))
