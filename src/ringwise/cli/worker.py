"""``ringwise worker``: a dialer worker process, and the pieces ``serve`` shares with it.

A worker ticks a :class:`~ringwise.dialer.engine.Dialer` on the configured database with the
simulated carrier (the only provider today), journaled to a file so the simulated world
survives ``kill -9``: a worker restarted on the same journal (under any worker id) learns
what happened to the calls the dead one placed, and ends the calls it had committed but never
placed, without ringing anybody twice.

Several workers may share a database; each needs its own carrier journal (a journal is
locked by the process using it). A dead worker's calls are reconciled by the worker that
finds them, against *its* carrier: with the simulated carrier, restart the dead worker on
its journal.

Time: by default real time. ``--speed`` accelerates it; ``--clock-start`` and
``--clock-epoch`` pin a virtual timeline, ``now = clock_start + (real_now - epoch) * speed``,
so that several worker processes, or a restarted one, agree on what "now" is (leases and
heartbeats are compared in that time).
"""

from __future__ import annotations

import logging
import math
import os
import signal
import socket
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Final

import typer
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from ringwise.cli.common import DatabaseOption, fail, plain_errors, settings_for
from ringwise.cli.serve import check_schema
from ringwise.clock import Clock, SystemClock
from ringwise.db.engine import Database
from ringwise.db.models import Call, Worker
from ringwise.dialer.engine import Dialer
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.dialer.worker import DialerWorker
from ringwise.errors import RingwiseError
from ringwise.results.runtime import make_results_worker
from ringwise.telephony.journal import JournaledCarrier

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: journals are not locked
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("ringwise.worker")

DEFAULT_JOURNAL_NAME: Final = "ringwise-carrier.jsonl"
DEFAULT_LEASE_SECONDS: Final = 60.0
DEFAULT_POLL_INTERVAL: Final = 0.5
RESULTS_STOP_TIMEOUT_S: Final = 30.0  # an analysis in flight may take a while
MAX_WORKER_ID: Final = 64  # the width of workers.id and calls.lease_owner
LOG_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def register(app: typer.Typer) -> None:
    app.command()(worker)


class WorkerSetupError(RingwiseError):
    code = "worker_setup"


# --- time ------------------------------------------------------------------------------------

class TimelineClock:
    """A virtual timeline shared by processes: ``start + (real now - epoch) * speed``.

    Unlike :class:`~ringwise.clock.ScaledClock`, whose origin is the instant it is built,
    the origin (``epoch``) is given, so processes started at different moments (a worker
    restarted after a crash) read the same virtual instant at the same real instant."""

    def __init__(self, speed: float, start: datetime, epoch: datetime,
                 base: Clock | None = None) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        if start.utcoffset() is None or epoch.utcoffset() is None:
            raise ValueError("start and epoch must be timezone-aware")
        self.speed = float(speed)
        self.start = start.astimezone(UTC)
        self.epoch = epoch.astimezone(UTC)
        self._base = base or SystemClock()

    def now(self) -> datetime:
        return self.start + (self._base.now() - self.epoch) * self.speed

    def real_seconds(self, virtual: timedelta) -> float:
        """How long to really wait for ``virtual`` time to pass."""
        return virtual.total_seconds() / self.speed

    def describe(self) -> str:
        return (f"{self.speed:g}x speed (virtual time {self.start.isoformat()} at Unix time "
                f"{self.epoch.timestamp():.6f}; other workers join this timeline with --speed "
                f"{self.speed:g} --clock-start {self.start.isoformat()} --clock-epoch "
                f"{self.epoch.timestamp():.6f})")


def parse_instant(text: str, option: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise WorkerSetupError(f"{option} '{text}' is not an ISO-8601 instant like "
                               "2026-03-02T15:00:00Z") from None
    if instant.utcoffset() is None:
        raise WorkerSetupError(f"{option} needs a UTC offset, like 2026-03-02T15:00:00Z")
    return instant.astimezone(UTC)


def make_clock(speed: float, clock_start: str | None = None,
               clock_epoch: float | None = None) -> Clock:
    """The system clock for plain real time, else a :class:`TimelineClock` (the epoch
    defaults to now, the start to the epoch)."""
    if not 0 < speed < math.inf:
        raise WorkerSetupError(f"--speed must be greater than 0, not {speed:g}")
    if speed == 1 and clock_start is None and clock_epoch is None:
        return SystemClock()
    try:
        epoch = (SystemClock().now() if clock_epoch is None
                 else datetime.fromtimestamp(clock_epoch, UTC))
    except (OverflowError, OSError, ValueError):
        raise WorkerSetupError(f"--clock-epoch {clock_epoch} is not a Unix time in seconds") \
            from None
    start = epoch if clock_start is None else parse_instant(clock_start, "--clock-start")
    return TimelineClock(speed, start, epoch)


def describe_clock(clock: Clock) -> str:
    if isinstance(clock, TimelineClock):
        return clock.describe()
    return "real time (speed 1)"


# --- the carrier journal ---------------------------------------------------------------------

def default_journal(database_url: str) -> Path:
    """``<name>-carrier.jsonl`` next to a SQLite file (``./ringwise-carrier.jsonl`` for the
    default ``./ringwise.db``); ``./ringwise-carrier.jsonl`` for a server database."""
    url = make_url(database_url)
    path = url.database if url.get_backend_name() == "sqlite" else None
    if path and path != ":memory:" and not path.startswith("file:"):
        db_file = Path(path)
        return db_file.with_name(f"{db_file.stem}-carrier.jsonl")
    return Path(DEFAULT_JOURNAL_NAME)


@dataclass
class OpenJournal:
    """A journaled carrier and the lock that keeps other processes off its journal."""

    carrier: JournaledCarrier
    lock_fd: int

    def close(self) -> None:
        try:
            self.carrier.close()
        finally:
            os.close(self.lock_fd)  # releases the lock


def open_journal(path: Path, seed: int, *, fsync: bool = True) -> OpenJournal:
    """Lock ``path`` for this process and open (or create) the carrier journal in it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise WorkerSetupError(f"cannot open the carrier journal {path}: "
                               f"{exc.strerror or exc}") from None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WorkerSetupError(
                    f"the carrier journal {path} is in use by another Ringwise process (a "
                    "`ringwise worker`, or `ringwise serve` with its dialer): give each "
                    "process its own --carrier-journal") from None
        try:
            carrier = JournaledCarrier(path, seed=seed, fsync=fsync)
        except ValueError as exc:
            raise WorkerSetupError(f"cannot use the carrier journal: {exc} (use the --seed "
                                   "it was written with, or another --carrier-journal)") \
                from None
        except OSError as exc:
            raise WorkerSetupError(f"cannot open the carrier journal {path}: "
                                   f"{exc.strerror or exc}") from None
    except BaseException:
        os.close(fd)
        raise
    return OpenJournal(carrier, fd)


# --- the worker ------------------------------------------------------------------------------

def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"[-MAX_WORKER_ID:]


def check_worker_id(db: Database, worker_id: str, now: datetime, lease: timedelta) -> None:
    """Refuse an id another live worker uses (its heartbeat is within the lease); warn about
    calls a previous run under this id left unfinished."""
    if not worker_id or len(worker_id) > MAX_WORKER_ID:
        raise WorkerSetupError(f"--worker-id must be 1 to {MAX_WORKER_ID} characters")
    with db.reading() as session:
        heartbeat = session.scalar(select(Worker.heartbeat_at).where(Worker.id == worker_id))
        latest = session.scalar(select(func.max(Worker.heartbeat_at)))
        unfinished = 0
        if heartbeat is not None:
            unfinished = session.scalar(
                select(func.count()).select_from(Call)
                .where(Call.lease_owner == worker_id, Call.status != "ended")) or 0
    if heartbeat is not None:
        heartbeat = _aware(heartbeat)
        if heartbeat > now - lease:
            raise WorkerSetupError(
                f"worker id '{worker_id}' heart-beat at {heartbeat.isoformat()}, within the "
                f"lease of now ({now.isoformat()}): another worker may be running under it. "
                "Pick another --worker-id, or wait for its lease to expire")
        if unfinished:
            log.warning("a previous run of worker %s left %d unfinished calls; they are "
                        "reconciled by a worker with another id once their lease expires",
                        worker_id, unfinished)
    if latest is not None and _aware(latest) > now + lease:
        log.warning("the latest worker heartbeat (%s) is ahead of this clock (%s): workers "
                    "sharing a database must share one timeline (--clock-start, "
                    "--clock-epoch, --speed)", _aware(latest).isoformat(), now.isoformat())


def _aware(instant: datetime) -> datetime:
    return instant if instant.utcoffset() is not None else instant.replace(tzinfo=UTC)


def make_dialer_worker(db: Database, carrier: JournaledCarrier, clock: Clock, *,
                       worker_id: str, lease_seconds: float = DEFAULT_LEASE_SECONDS,
                       poll_interval: float = DEFAULT_POLL_INTERVAL) -> DialerWorker:
    """A worker on ``db``; ``lease_seconds`` are real seconds (times the clock's speed)."""
    speed = float(getattr(clock, "speed", 1.0))
    dialer = Dialer(SqlDialerStore(db), carrier, clock, worker_id=worker_id,
                    lease=timedelta(seconds=lease_seconds * speed))
    return DialerWorker(dialer, poll_interval=poll_interval)


def check_timing(lease_seconds: float, poll_interval: float) -> None:
    if not poll_interval > 0:
        raise WorkerSetupError("--poll-interval must be greater than 0 seconds")
    if not lease_seconds >= 2 * poll_interval:
        raise WorkerSetupError(
            "--lease-seconds must be at least twice --poll-interval (a worker heart-beats "
            "once per tick, and waits up to the poll interval between ticks)")


def configure_logging(level_name: str) -> None:
    """Log ``ringwise.*`` plainly to stderr (once per process)."""
    logger = logging.getLogger("ringwise")
    level = logging.getLevelName(level_name.upper())
    logger.setLevel(level if isinstance(level, int) else logging.INFO)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
        logger.propagate = False


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _stop_on_signals(dialer_worker: DialerWorker) -> None:
    """SIGTERM / SIGINT: finish the current tick, then stop. A second one exits at once."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if dialer_worker.stop_event.is_set():
            log.warning("%s again: exiting now", name)
            raise SystemExit(128 + signum)
        log.info("%s received: stopping after the current tick", name)
        dialer_worker.stop()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def worker(
    carrier_journal: Path | None = typer.Option(
        None, "--carrier-journal",
        help="The simulated carrier's journal (default: <database name>-carrier.jsonl next "
             "to a SQLite database, else ./ringwise-carrier.jsonl). One process per journal; "
             "restart a dead worker on its journal", show_default=False),
    seed: int = typer.Option(0, "--seed", help="Seed of the simulated carrier (the journal "
                                               "remembers it)"),
    speed: float = typer.Option(1.0, "--speed",
                                help="Virtual seconds per real second (1: real time)"),
    clock_start: str | None = typer.Option(
        None, "--clock-start", help="Virtual instant at the epoch, ISO-8601 with offset "
                                    "(default: the epoch itself)", show_default=False),
    clock_epoch: float | None = typer.Option(
        None, "--clock-epoch", help="Real Unix time at which the virtual clock reads "
                                    "--clock-start (default: now); give every worker of a "
                                    "timeline the same one", show_default=False),
    worker_id: str | None = typer.Option(
        None, "--worker-id", help="This worker's name in leases (default: hostname-pid)",
        show_default=False),
    lease_seconds: float = typer.Option(
        DEFAULT_LEASE_SECONDS, "--lease-seconds",
        help="Real seconds a silent worker's calls are left alone before another worker "
             "reconciles them"),
    poll_interval: float = typer.Option(
        DEFAULT_POLL_INTERVAL, "--poll-interval",
        help="Longest real wait between ticks (new campaigns and contacts are seen then)"),
    database_url: str | None = DatabaseOption,
) -> None:
    """Run a dialer worker: place the calls of running campaigns until stopped.

    Several workers may share a database, which must be migrated first (`ringwise migrate`).

    Calls go to the simulated carrier, journaled so that a killed worker dials nothing twice.

    SIGTERM or Ctrl-C stops the worker after its current tick."""
    settings = settings_for(database_url)
    url = settings.database_url
    name = worker_id or default_worker_id()
    with plain_errors():
        check_timing(lease_seconds, poll_interval)
        clock = make_clock(speed, clock_start, clock_epoch)
        check_schema(url)
    configure_logging(settings.log_level)
    db = Database(url)
    journal: OpenJournal | None = None
    try:
        with plain_errors():
            lease = timedelta(seconds=lease_seconds * float(getattr(clock, "speed", 1.0)))
            check_worker_id(db, name, clock.now(), lease)
            path = carrier_journal or default_journal(url)
            journal = open_journal(path, seed)
        dialer_worker = make_dialer_worker(db, journal.carrier, clock, worker_id=name,
                                           lease_seconds=lease_seconds,
                                           poll_interval=poll_interval)
        _stop_on_signals(dialer_worker)
        log.info("worker %s: database %s, carrier journal %s (seed %d), clock %s, lease %g s",
                 name, safe_url(url), path, seed, describe_clock(clock), lease_seconds)
        # Analysis, webhooks and reports run beside the dialer, in their own thread: a slow
        # LLM or a dead receiver never delays a dial.
        results_worker = make_results_worker(db, clock, settings, worker_id=name,
                                             poll_interval=poll_interval)
        results_thread = results_worker.start_thread()
        try:
            dialer_worker.run()
        finally:
            results_worker.stop()
            results_thread.join(timeout=RESULTS_STOP_TIMEOUT_S)
    except KeyboardInterrupt:  # pragma: no cover - only before the handlers are installed
        raise fail("interrupted") from None
    finally:
        if journal is not None:
            journal.close()
        db.dispose()
