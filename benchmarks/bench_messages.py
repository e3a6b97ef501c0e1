"""Scheduled messages: planning and sending one text to every contact of a campaign.

    python benchmarks/bench_messages.py                        # 100,000 contacts, both engines
    python benchmarks/bench_messages.py --contacts 20000 --db sqlite
    python benchmarks/bench_messages.py --contacts 20000 --db postgres --profile

One workspace, one phone number and one campaign (created through the API) whose single
``messaging_only`` run (Mon 2026-03-02 to Wed 03-04) has ONE text message, Tue 03-03 at 10:00
contact-local. Its ``--contacts`` contacts (default 100,000) are written straight into
``contacts`` and ``campaign_contacts`` (COPY on PostgreSQL, executemany on SQLite; setup is
not measured), with valid fictional numbers (NXX-555-XXXX, then 556, ... when an area code
runs out) round-robin over six area codes in six zones: 212 New York, 312 Chicago, 303
Denver, 213 Los Angeles, 907 Alaska (Anchorage and Adak), 808 Hawaii. ``campaign_counters``
is set to match, then the campaign is started through the API (virtual clock: Mon 15:00 UTC).
Then, in a process of its own (so that its memory is not the setup's nor another engine's),
with the real ``results.messages.MessageRunner`` and the simulated SMS provider:

* ``plan``: one ``runner.plan()`` from empty (one ``message_sends`` row per contact): rows,
  seconds, rows/s, and peak RSS growth: on Linux the peak during the plan (VmHWM, reset via
  /proc/self/clear_refs just before) minus the RSS before it; elsewhere ``ru_maxrss``
  after minus before (understated: it keeps the parent's peak over fork and exec). The
  phone-number tables libphonenumber loads on first use (~100 MB, once per process) are
  loaded before, and reported as ``phone_metadata_mb``;
* ``replan``: a second ``plan()`` on the same runner (nothing changed: one query) and a fresh
  runner's ``plan()`` (its anti-join finds every row planned): seconds each, 0 rows asserted;
* ``send``: the clock set to Tue 21:00 UTC (16:00 in New York, 11:00 in Hawaii and Adak:
  past every contact's due instant and inside every calling-hour floor, which the runner
  checks again when sending), then ``runner.run_due(200)`` until it returns 0: messages,
  seconds, messages/s, batches. Asserted: every row ``sent``, and the simulated provider got
  exactly one text per contact.

``--profile`` also runs each phase under cProfile and prints its top functions (the
timings of that run are inflated by the profiler). PostgreSQL uses a throwaway database on
$RINGWISE_BENCH_POSTGRES (default postgresql://postgres@127.0.0.1:5432), dropped afterwards.
Results go to benchmarks/results/messages.json (or ``--json PATH``).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import phonenumbers  # noqa: E402
from common import scratch_database, write_results  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from ringwise.api.app import create_app  # noqa: E402
from ringwise.clock import ManualClock  # noqa: E402
from ringwise.core.phones import describe  # noqa: E402
from ringwise.db.engine import Database  # noqa: E402
from ringwise.db.migrate import upgrade  # noqa: E402
from ringwise.db.models import Campaign, CampaignCounters, MessageSend  # noqa: E402
from ringwise.db.types import UTCDateTime  # noqa: E402
from ringwise.results.messages import MessageRunner  # noqa: E402
from ringwise.services import workspaces  # noqa: E402
from ringwise.services.contacts import new_ids  # noqa: E402
from ringwise.settings import Settings  # noqa: E402
from ringwise.telephony.messaging import SimulatedSms  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "messages.json"
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # Monday: 10:00 in New York
SEND_AT = datetime(2026, 3, 3, 21, 0, tzinfo=UTC)  # Tue 16:00 New York .. 11:00 Honolulu
FROM = "+12129990100"
AREA_CODES = ("212", "312", "303", "213", "907", "808")
BATCH = 200  # run_due(limit)
RESULT_MARK = "RESULT "  # the measuring process's last line
SCHEDULE = {"runs": [{
    "start_date": "2026-03-02", "end_date": "2026-03-04", "messaging_only": True,
    "messages": [{"send_date": "2026-03-03", "send_time": "10:00", "channel": "sms",
                  "body": "Hi {{first_name}}, your renewal for case {{metadata.case}} is "
                          "due Friday."}]}]}
FIRST = ("Ann", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hugo", "Iris", "Jon")
T = TypeVar("T")


# --- setup (not measured) --------------------------------------------------------------------

def phone(n: int) -> str:
    """The n-th fictional number: round-robin over AREA_CODES, 10,000 per exchange 555, 556..."""
    area = AREA_CODES[n % len(AREA_CODES)]
    k = n // len(AREA_CODES)
    return f"+1{area}{555 + k // 10_000}{k % 10_000:04d}"


def check_phones(contacts: int) -> None:
    """Every (area code, exchange) the contacts use makes valid numbers (the simulated
    provider refuses invalid ones): one number of each checked."""
    exchanges = -(-contacts // len(AREA_CODES)) // 10_000 + 1
    for area in AREA_CODES:
        for exchange in range(555, 555 + exchanges):
            number = f"+1{area}{exchange}0100"
            assert phonenumbers.is_valid_number(phonenumbers.parse(number)), number


def create_campaign(db: Database, clock: ManualClock) -> tuple[Any, str, str, str]:
    """The app, an API key, the workspace and a draft campaign with no contacts yet."""
    with db.transaction() as session:
        workspace = workspaces.create_workspace(session, "Bench messages", clock.now())
        secret = workspaces.create_key(session, workspace.id, "bench", clock.now()).secret
        workspace_id = workspace.id
    app = create_app(Settings(database_url=db.url), db=db, clock=clock)
    with TestClient(app, headers={"X-API-Key": secret}) as client:
        number = client.post("/v1/phone-numbers", json={"number": FROM,
                                                        "provider": "simulated"})
        assert number.status_code == 201, number.text
        created = client.post("/v1/campaigns", json={
            "name": "Bench messages", "schedule": SCHEDULE,
            "caller_id": {"mode": "fixed", "phone_number_ids": [number.json()["id"]]}})
        assert created.status_code == 201, created.text
    return app, secret, workspace_id, str(created.json()["id"])


def populate(db: Database, workspace_id: str, campaign_id: str, contacts: int) -> None:
    """The contacts and their campaign memberships, written through the driver (what the
    API's bulk paths do, without the per-contact validation), and the counters to match."""
    dialect = db.engine.dialect
    process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    now = process(T0) if process is not None else T0
    contact_ids, member_ids = new_ids(contacts), new_ids(contacts)
    contact_rows = [(cid, workspace_id, phone(n), FIRST[n % len(FIRST)],
                     json.dumps({"case": f"C-{n:06d}"}), now, now)
                    for n, cid in enumerate(contact_ids)]
    member_rows = [(mid, workspace_id, campaign_id, cid, "pending", 0, now, now)
                   for mid, cid in zip(member_ids, contact_ids, strict=True)]
    contact_columns = "id, workspace_id, phone, first_name, metadata, created_at, updated_at"
    member_columns = ("id, workspace_id, campaign_id, contact_id, state, attempts, created_at, "
                      "updated_at")
    with db.transaction() as session:
        dbapi: Any = session.connection().connection.dbapi_connection
        if db.dialect == "postgresql":
            with dbapi.cursor() as cur:
                for table, columns, rows in (("contacts", contact_columns, contact_rows),
                                             ("campaign_contacts", member_columns,
                                              member_rows)):
                    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
        else:
            dbapi.executemany(f"INSERT INTO contacts ({contact_columns}) VALUES "
                              f"({', '.join('?' * 7)})", contact_rows)
            dbapi.executemany(f"INSERT INTO campaign_contacts ({member_columns}) VALUES "
                              f"({', '.join('?' * 8)})", member_rows)
        session.execute(update(CampaignCounters)
                        .where(CampaignCounters.campaign_id == campaign_id)
                        .values(contacts_total=contacts, contacts_pending=contacts))
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def start(app: Any, secret: str, db: Database, campaign_id: str, contacts: int) -> None:
    with TestClient(app, headers={"X-API-Key": secret}) as client:
        started = client.post(f"/v1/campaigns/{campaign_id}/start")
        assert started.status_code == 200, started.text
    with db.reading() as session:
        status, started_at, total = session.execute(
            select(Campaign.status, Campaign.started_at, CampaignCounters.contacts_total)
            .join(CampaignCounters, CampaignCounters.campaign_id == Campaign.id)
            .where(Campaign.id == campaign_id)).one()
    assert (status, started_at, total) == ("running", T0, contacts), (status, started_at, total)


# --- measuring -------------------------------------------------------------------------------

def _status_mb(field: str) -> float | None:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, Linux only."""
    with suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return None


def _reset_peak() -> bool:
    """Resets VmHWM to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def timed(call: Callable[[], T], profile: bool, label: str) -> tuple[T, float]:
    """``call()`` and its wall time; under cProfile (top functions printed) with --profile."""
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    value = call()
    if profiler is not None:
        profiler.disable()
    elapsed = time.perf_counter() - started
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        for order in ("tottime", "cumulative"):
            stats.sort_stats(order).print_stats(15)
        print(f"--- profile: {label} ---\n{out.getvalue()}", flush=True)
    return value, elapsed


def statuses(db: Database) -> dict[str, int]:
    with db.reading() as session:
        return {str(s): int(n) for s, n in session.execute(
            select(MessageSend.status, func.count()).group_by(MessageSend.status))}


def measure(url: str, contacts: int, profile: bool) -> dict[str, Any]:
    """The three phases, in a process of their own (``--child``): its memory is the plan's,
    not the setup's nor another engine's."""
    db = Database(url)
    clock = ManualClock(T0)
    sms = SimulatedSms()
    runner = MessageRunner(db, clock, sms, worker_id="bench")
    with db.reading() as session:  # connect (and warm the pool) before measuring
        session.connection()
    # The first phone lookup loads libphonenumber's zone and geography tables (~100 MB, once
    # per process, as soon as a worker has looked at any number): loaded before measuring,
    # and reported on its own.
    rss_cold = _status_mb("VmRSS")
    describe(FROM)
    rss_warm = _status_mb("VmRSS")

    # 1. plan, from empty
    gc.collect()
    rss_before, maxrss_before = _status_mb("VmRSS"), _maxrss_mb()
    reset = rss_before is not None and _reset_peak()
    written, plan_s = timed(runner.plan, profile, "plan")
    hwm, maxrss_after = _status_mb("VmHWM"), _maxrss_mb()
    assert written == contacts, (written, contacts)
    assert statuses(db) == {"scheduled": contacts}, statuses(db)
    with db.reading() as session:
        first_due, last_due = session.execute(
            select(func.min(MessageSend.due_at), func.max(MessageSend.due_at))).one()
    assert first_due is not None and last_due is not None and last_due <= SEND_AT, last_due
    if reset and rss_before is not None and hwm is not None:
        growth, method = hwm - rss_before, "VmHWM"
    else:  # understated: ru_maxrss also holds the parent's peak, carried over fork and exec
        growth, method = max(maxrss_after, maxrss_before) - maxrss_before, "ru_maxrss"
    plan: dict[str, Any] = {
        "rows": written, "seconds": round(plan_s, 3), "rows_per_s": round(written / plan_s),
        "peak_rss_growth_mb": round(growth, 1), "peak_rss_method": method,
        "rss_before_mb": None if rss_before is None else round(rss_before, 1),
        "phone_metadata_mb": None if rss_cold is None or rss_warm is None
        else round(rss_warm - rss_cold, 1),
        "first_due": first_due.isoformat(), "last_due": last_due.isoformat()}

    # 2. plan again: the same runner (nothing changed), then a fresh one (anti-join)
    again, same_s = timed(runner.plan, False, "")
    fresh_runner = MessageRunner(db, clock, SimulatedSms(), worker_id="bench-2")
    fresh, fresh_s = timed(fresh_runner.plan, profile, "fresh runner's plan")
    assert again == 0 and fresh == 0, (again, fresh)
    replan = {"same_runner_s": round(same_s, 4), "fresh_runner_s": round(fresh_s, 3)}

    # 3. send everything that is due
    clock.set(SEND_AT)

    def drain() -> tuple[int, int]:
        work = batches = 0
        while step := runner.run_due(BATCH):
            work += step
            batches += 1
        return work, batches

    (work, batches), send_s = timed(drain, profile, "send")
    final = statuses(db)
    assert final == {"sent": contacts}, final
    assert len(sms.sent) == contacts, len(sms.sent)
    assert len({request.to_number for request, _ in sms.sent}) == contacts
    assert work == contacts, work
    send = {"messages": len(sms.sent), "seconds": round(send_s, 3),
            "messages_per_s": round(len(sms.sent) / send_s), "batches": batches,
            "ms_per_batch": round(1000 * send_s / batches, 2)}
    db.dispose()
    return {"plan": plan, "replan": replan, "send": send}


def _run_child(url: str, contacts: int, profile: bool) -> dict[str, Any]:
    """``measure`` in a subprocess; its output is passed through, its result parsed."""
    args = [sys.executable, __file__, "--child", "--url", url, "--contacts", str(contacts)]
    with subprocess.Popen(args + (["--profile"] if profile else []), stdout=subprocess.PIPE,
                          text=True) as child:
        assert child.stdout is not None
        result: dict[str, Any] | None = None
        for line in child.stdout:
            if line.startswith(RESULT_MARK):
                result = json.loads(line[len(RESULT_MARK):])
            else:
                print(line, end="", flush=True)
    if child.returncode != 0 or result is None:
        raise SystemExit(f"the measuring process failed (exit status {child.returncode})")
    return result


def bench(engine: str, contacts: int, profile: bool) -> dict[str, Any]:
    check_phones(contacts)
    with scratch_database(engine, "messages") as url:
        upgrade(url)
        db = Database(url)
        clock = ManualClock(T0)
        started = time.perf_counter()
        app, secret, workspace_id, campaign_id = create_campaign(db, clock)
        populate(db, workspace_id, campaign_id, contacts)
        start(app, secret, db, campaign_id, contacts)
        setup_s = time.perf_counter() - started
        db.dispose()
        print(f"{engine}: {contacts:,} contacts set up in {setup_s:.1f}s", flush=True)
        measured = _run_child(url, contacts, profile)
    plan, replan, send = measured["plan"], measured["replan"], measured["send"]
    print(f"{engine:>9} plan:   {plan['rows']:>9,} rows  {plan['seconds']:>8.3f}s  "
          f"{plan['rows_per_s']:>8,} rows/s  peak RSS +{plan['peak_rss_growth_mb']} MB "
          f"({plan['peak_rss_method']})", flush=True)
    print(f"{engine:>9} replan: same runner {replan['same_runner_s']:.4f}s  "
          f"fresh runner {replan['fresh_runner_s']:.3f}s", flush=True)
    print(f"{engine:>9} send:   {send['messages']:>9,} msgs  {send['seconds']:>8.3f}s  "
          f"{send['messages_per_s']:>8,} msgs/s  {send['ms_per_batch']} ms per "
          f"run_due({BATCH})", flush=True)
    return {"engine": engine, "contacts": contacts, "setup_s": round(setup_s, 1),
            "profiled": profile, **measured}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write results")
    parser.add_argument("--profile", action="store_true",
                        help="run each phase under cProfile and print its top functions")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(RESULT_MARK + json.dumps(measure(args.url, args.contacts, args.profile)))
        return
    engines = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    write_results(args.json, [bench(engine, args.contacts, args.profile) for engine in engines])


if __name__ == "__main__":
    main()
