"""``ringwise serve``: the API on uvicorn, with a dialer worker in the same process."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import FrameType

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from ringwise.cli.common import DatabaseOption, console, fail, plain_errors, settings_for
from ringwise.db import migrate as migrations
from ringwise.db.engine import make_engine
from ringwise.errors import RingwiseError
from ringwise.results.runtime import make_results_worker
from ringwise.results.worker import ResultsWorker
from ringwise.settings import Settings

DIALER_STOP_TIMEOUT_S = 30.0


class SchemaOutOfDate(RingwiseError):
    code = "schema_out_of_date"


class DatabaseUnreachable(RingwiseError):
    code = "database_unreachable"


def register(app: typer.Typer) -> None:
    app.command()(serve)


def check_schema(url: str) -> None:
    """Raise :class:`SchemaOutOfDate` unless the database is at this version's revision
    (nothing is created or migrated: a missing SQLite file is refused too)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database \
            and parsed.database != ":memory:" and not parsed.database.startswith("file:") \
            and not Path(parsed.database).exists():
        raise SchemaOutOfDate(f"there is no database at {parsed.database}: run "
                              "`ringwise migrate` first")
    try:
        current = migrations.current_revision(url)
    except (OperationalError, DBAPIError) as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc) else ""
        raise DatabaseUnreachable(
            f"cannot open the database {parsed.render_as_string(hide_password=True)}: "
            f"{reason}") from None
    head = migrations.head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"the database schema is at revision {current or 'none'} but this version needs "
            f"{head}: run `ringwise migrate` first"
        )


def prepare_database(settings: Settings) -> None:
    """SQLite is migrated automatically; PostgreSQL must be migrated on purpose
    (``ringwise migrate``), since several processes may share it."""
    url = settings.database_url
    if make_engine(url).dialect.name == "sqlite":
        migrations.upgrade(url)
        return
    check_schema(url)


def serve(
    host: str | None = typer.Option(None, help="Interface to bind (default RINGWISE_HOST or "
                                               "127.0.0.1)", show_default=False),
    port: int | None = typer.Option(None, help="Port (default RINGWISE_PORT or 8000)",
                                    show_default=False),
    demo_speed: float | None = typer.Option(
        None, "--demo-speed",
        help="Run the API and the dialer on an accelerated clock, this many virtual seconds "
             "per real second (600: a minute is ten hours); for demos", show_default=False),
    dialer: bool = typer.Option(
        True, "--dialer/--no-dialer",
        help="Run a dialer worker in this process (off: run `ringwise worker` processes "
             "to place calls)"),
    carrier_journal: Path | None = typer.Option(
        None, "--carrier-journal",
        help="The simulated carrier's journal (default: <database name>-carrier.jsonl next "
             "to a SQLite database, else ./ringwise-carrier.jsonl)", show_default=False),
    seed: int = typer.Option(0, "--seed", help="Seed of the simulated carrier"),
    database_url: str | None = DatabaseOption,
) -> None:
    """Run the Ringwise API server, with a dialer in the same process.

    The dialer places the calls of started campaigns through the simulated carrier.

    Its journal, next to the database, keeps a restart from dialing any call twice.

    --demo-speed N: the API and the dialer share one clock, N times faster than real time.

    --no-dialer: the API alone, when separate `ringwise worker` processes place the calls."""
    import uvicorn

    from ringwise.api.app import create_app
    from ringwise.cli import worker as worker_cli
    from ringwise.clock import Clock, SystemClock
    from ringwise.db.engine import Database

    settings = settings_for(database_url)
    if demo_speed is not None and not dialer:
        raise fail("--demo-speed runs the embedded dialer; drop --no-dialer")
    with plain_errors():
        prepare_database(settings)
        clock: Clock = SystemClock()
        if demo_speed is not None:
            now = SystemClock().now()
            if not demo_speed > 0:
                raise worker_cli.WorkerSetupError(
                    f"--demo-speed must be greater than 0, not {demo_speed:g}")
            clock = worker_cli.TimelineClock(demo_speed, start=now, epoch=now)
    bind_host, bind_port = host or settings.host, port or settings.port
    db = Database(settings.database_url)
    journal: worker_cli.OpenJournal | None = None
    dialer_worker = None
    results_worker: ResultsWorker | None = None
    thread: threading.Thread | None = None
    results_thread: threading.Thread | None = None
    try:
        if dialer:
            worker_cli.configure_logging(settings.log_level)
            worker_id = worker_cli.default_worker_id()
            lease = worker_cli.DEFAULT_LEASE_SECONDS
            with plain_errors():
                speed = float(getattr(clock, "speed", 1.0))
                worker_cli.check_worker_id(db, worker_id, clock.now(),
                                           timedelta(seconds=lease * speed))
                path = carrier_journal or worker_cli.default_journal(settings.database_url)
                journal = worker_cli.open_journal(path, seed)
            dialer_worker = worker_cli.make_dialer_worker(db, journal.carrier, clock,
                                                          worker_id=worker_id,
                                                          lease_seconds=lease)
        console.print(f"Ringwise API on http://{bind_host}:{bind_port}  "
                      f"(docs: http://{bind_host}:{bind_port}/docs)")
        if dialer_worker is None:
            console.print("Dialer off (--no-dialer): run `ringwise worker` to place calls.")
        else:
            console.print(f"Dialer running in this process at "
                          f"{worker_cli.describe_clock(clock)}; simulated carrier journal "
                          f"{path}", soft_wrap=True, highlight=False)
            results_worker = make_results_worker(db, clock, settings, worker_id=worker_id)
            _stop_on_signals(dialer_worker.stop, results_worker.stop)
            thread = dialer_worker.start_thread()
            results_thread = results_worker.start_thread()
        uvicorn.run(create_app(settings, db=db, clock=clock), host=bind_host, port=bind_port,
                    log_level=settings.log_level)
    finally:
        if dialer_worker is not None:
            dialer_worker.stop()
        if results_worker is not None:
            results_worker.stop()
        if thread is not None:
            thread.join(timeout=DIALER_STOP_TIMEOUT_S)
        if results_thread is not None:
            results_thread.join(timeout=DIALER_STOP_TIMEOUT_S)
        if journal is not None and (thread is None or not thread.is_alive()):
            journal.close()
        db.dispose()


def _stop_on_signals(*stops: Callable[[], None]) -> None:
    """Uvicorn handles SIGINT / SIGTERM while it serves, then raises them again once it has
    stopped: these handlers turn that into stopping the dialer after its current tick (and
    the clean shutdown in ``serve``), instead of killing the process mid-tick."""
    def handle(_signum: int, _frame: FrameType | None) -> None:
        for stop in stops:
            stop()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
