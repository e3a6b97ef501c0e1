"""Campaign call export throughput and memory, on SQLite and PostgreSQL.

    python benchmarks/bench_export.py                        # 1,000,000 calls, both engines
    python benchmarks/bench_export.py --calls 100000 --db sqlite

One campaign with ``--calls`` ended calls (30 % answered, with a short transcript and a
realistic analysis JSON: summary, sentiment, score, 0-3 of the campaign's 5 tags, 3
structured-data values; the others voicemail, no-answer, busy, failed) is written straight
into a fresh database (COPY on PostgreSQL, executemany on SQLite; the calls' secondary
indexes are dropped during the load and rebuilt after, as a restore would). Then a full CSV
export and a full JSON Lines export run through ``results.export.iter_csv`` /
``iter_jsonl``, each in its own subprocess so that its peak RSS is the export's own: every
byte is consumed and the rows counted. Reported per engine and format: seconds, rows/s,
MB written, and memory growth (peak RSS minus RSS just before the export; with
``--tracemalloc``, also the Python-allocation peak, in a second, slower pass).
Goal: >= 100,000 rows/s with memory that does not grow with the number of calls.
PostgreSQL uses a throwaway database on $RINGWISE_BENCH_POSTGRES
(default postgresql://postgres@127.0.0.1:5432), dropped afterwards.
Results go to benchmarks/results/export.json (or ``--json PATH``).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import scratch_database, write_results  # noqa: E402
from sqlalchemy import Table  # noqa: E402

from ringwise.db.engine import Database  # noqa: E402
from ringwise.db.migrate import upgrade  # noqa: E402
from ringwise.db.models import Call  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "export.json"
T0_NAIVE = datetime(2026, 3, 2, 13, 0)  # UTC
TAGS = ("Interested", "Follow-up", "Opt-out", "Price", "Competitor")
FIELDS = (("callback_date", "date"), ("renew", "boolean"), ("email", "string"))
ANALYSIS_SETTINGS = {
    "scoring_criteria": "interest in renewing",
    "tags": [{"name": t, "description": f"the call was about {t.lower()}"} for t in TAGS],
    "structured_data_schema": [{"key": k, "description": k.replace("_", " "), "type": t}
                               for k, t in FIELDS],
}
SUMMARIES = (
    "A person answered and was interested and asked 2 questions.",
    "A person answered and was not interested.",
    "A person answered and asked to be called back tomorrow at 10 am.",
    "A person answered and asked not to be called again (opt-out).",
    "A person answered; no clear interest or refusal was expressed.",
    "A person answered and was interested. They compared the offer with their current "
    "provider, asked about the price for two cars, and want a quote by e-mail.",
)
# outcome, share, ended_reason, answered_by
OUTCOMES = (("answered", 0.30, "customer-ended-call", "human"),
            ("voicemail", 0.20, "voicemail", "machine_end_beep"),
            ("no-answer", 0.35, "customer-did-not-answer", None),
            ("busy", 0.08, "customer-busy", None),
            ("failed", 0.07, "carrier-rejected", None))
CALL_COLUMNS = ("id", "workspace_id", "campaign_id", "contact_id", "attempt", "status",
                "outcome", "ended_reason", "answered_by", "from_number", "to_number",
                "provider", "provider_call_id", "created_at", "updated_at", "started_at",
                "ringing_at", "answered_at", "ended_at", "duration_seconds", "cost",
                "transcript", "analysis", "analysis_status", "analyzed_at")
VARIANTS = 4_096  # distinct analysis / transcript texts, picked per call


# --- data ------------------------------------------------------------------------------------

def _stamp(dialect: str, at: datetime | None) -> str | None:
    """How UTCDateTime stores a (naive UTC) instant: text with microseconds on SQLite (what
    SQLAlchemy writes), timestamptz text on PostgreSQL."""
    if at is None:
        return None
    text = at.isoformat(sep=" ", timespec="microseconds")
    return text if dialect == "sqlite" else text + "+00"


def _analysis_texts(rng: random.Random) -> list[str]:
    texts = []
    for i in range(VARIANTS):
        tags = rng.sample(TAGS, rng.choice((0, 1, 1, 2, 3)))
        callback = "tomorrow at 10 am" if "Follow-up" in tags else None
        texts.append(json.dumps({
            "summary": SUMMARIES[i % len(SUMMARIES)],
            "sentiment": round(rng.uniform(-1, 1), 3), "score": rng.randrange(101),
            "tags": tags,
            "structured_data": {
                "callback_date": f"2026-03-{rng.randrange(3, 28):02d}" if callback else None,
                "renew": rng.choice((True, False, None)),
                "email": f"ana.{i}@example.com" if rng.random() < 0.3 else None},
            "success": "Interested" in tags, "opted_out": "Opt-out" in tags,
            "callback_requested": callback, "analyzer": "offline-v1",
            "analyzed_at": "2026-03-02T15:03:12.250000Z"}))
    return texts


def _transcripts(rng: random.Random) -> list[str]:
    lines = ("Hi, this is Ava from Acme Insurance about your renewal.", "Oh hi, yes.",
             "Would you like to hear about this year's offer?",
             "Sure, how much would it be for two cars?", "About 820 dollars a year.",
             "Send me a quote by e-mail, please.")
    texts = []
    for _ in range(VARIANTS // 8):
        turns, at = [], 0.0
        for n, text in enumerate(lines[:rng.randrange(3, len(lines) + 1)]):
            end = at + len(text) / 14
            turns.append({"role": "assistant" if n % 2 == 0 else "user", "text": text,
                          "start_s": round(at, 3), "end_s": round(end, 3)})
            at = end + 0.4
        texts.append(json.dumps(turns))
    return texts


def _call_rows(dialect: str, rng: random.Random, ws: str, campaign: str,
               contact_ids: list[str], calls: int) -> Iterator[tuple[Any, ...]]:
    """The calls' rows in CALL_COLUMNS order, generated as they are written (flat memory)."""
    contacts = len(contact_ids)
    analyses, transcripts = _analysis_texts(rng), _transcripts(rng)
    cumulative, acc = [], 0.0
    for kind in OUTCOMES:
        acc += kind[1]
        cumulative.append((acc, kind))
    # 30 days of calling: instants advance by an average gap, in creation order.
    gap = 30 * 86_400 / calls
    at = T0_NAIVE  # naive UTC: formatting 6 instants per call is most of the generation
    for i in range(calls):
        at += timedelta(seconds=gap * rng.uniform(0.5, 1.5))
        u = rng.random()
        outcome, _, reason, answered_by = next(o for c, o in cumulative if u <= c)
        started = at + timedelta(seconds=0.2)
        ringing = started + timedelta(seconds=1.5)
        answered = talk = None
        transcript = analysis = status = analyzed = None
        if outcome == "answered":
            talk = round(rng.uniform(15, 240), 3)
            answered = ringing + timedelta(seconds=rng.uniform(2, 20))
            ended = answered + timedelta(seconds=talk)
            transcript = transcripts[i % len(transcripts)]
            analysis = analyses[i % len(analyses)]
            status, analyzed = "done", _stamp(dialect, ended + timedelta(seconds=2))
        elif outcome == "voicemail":
            talk = round(rng.uniform(20, 40), 3)
            answered = ringing + timedelta(seconds=rng.uniform(10, 25))
            ended = answered + timedelta(seconds=talk)
        else:
            ended = ringing + timedelta(seconds=rng.uniform(1, 30))
        cost = round(0.015 * -(-talk // 60), 4) if talk else 0.0
        n = i % contacts
        end = _stamp(dialect, ended)
        yield (str(uuid.uuid4()), ws, campaign, contact_ids[n], i // contacts + 1, "ended",
               outcome, reason, answered_by, "+14155550123", f"+1{2_120_000_000 + n:010d}",
               "simulated", f"SIM{i:012d}", _stamp(dialect, at), end,
               _stamp(dialect, started), _stamp(dialect, ringing), _stamp(dialect, answered),
               end, talk, cost, transcript, analysis, status, analyzed)


def populate(db: Database, calls: int, seed: int = 7) -> str:
    """A workspace, a campaign with analysis settings, calls // 3 contacts and ``calls``
    ended calls, written with the driver; the campaign id."""
    dialect = db.dialect
    rng = random.Random(seed)
    ws, campaign = str(uuid.uuid4()), str(uuid.uuid4())
    now = _stamp(dialect, T0_NAIVE)
    contact_ids = [str(uuid.uuid4()) for _ in range(max(1, calls // 3))]
    call_rows = _call_rows(dialect, rng, ws, campaign, contact_ids, calls)
    raw: Any = db.engine.raw_connection()
    table = cast(Table, Call.__table__)
    try:
        cur = raw.cursor()
        mark = "?" if dialect == "sqlite" else "%s"
        if dialect == "sqlite":
            # The engine's connections run pysqlite in autocommit mode (the engine emits BEGIN
            # itself): without this, every row would be its own transaction.
            cur.execute("BEGIN")
        cur.execute(f"INSERT INTO workspaces (id, name, timezone, default_region, "
                    f"concurrency_limit, concurrency_rate, campaigns_enabled, created_at, "
                    f"updated_at) VALUES ({', '.join([mark] * 9)})",
                    (ws, "Bench", "America/New_York", "US", 10, 100, True, now, now))
        cur.execute(f"INSERT INTO campaigns (id, workspace_id, name, status, priority, "
                    f"concurrency_limit, never_ending, auto_start, caller_id, schedule, "
                    f"retry, voicemail, memory, options, analysis, created_at, updated_at) "
                    f"VALUES ({', '.join([mark] * 17)})",
                    (campaign, ws, "Bench export", "completed", 50, 0, False, False, "{}",
                     "{}", "{}", "{}", "{}", "{}", json.dumps(ANALYSIS_SETTINGS), now, now))
        # Secondary indexes are built once after the load (what a restore does), not
        # maintained row by row: minutes less on a million rows, the same index in the end.
        for index in table.indexes:
            cur.execute(f"DROP INDEX {index.name}")
        contact_rows = [(cid, ws, f"+1{2_120_000_000 + n:010d}", now, now)
                        for n, cid in enumerate(contact_ids)]
        if dialect == "postgresql":
            with cur.copy("COPY contacts (id, workspace_id, phone, created_at, updated_at) "
                          "FROM STDIN") as copy:
                for row in contact_rows:
                    copy.write_row(row)
            with cur.copy(f"COPY calls ({', '.join(CALL_COLUMNS)}) FROM STDIN") as copy:
                for row in call_rows:
                    copy.write_row(row)
        else:
            cur.executemany("INSERT INTO contacts (id, workspace_id, phone, created_at, "
                            "updated_at) VALUES (?, ?, ?, ?, ?)", contact_rows)
            cur.executemany(f"INSERT INTO calls ({', '.join(CALL_COLUMNS)}) VALUES "
                            f"({', '.join('?' * len(CALL_COLUMNS))})", call_rows)
        raw.commit()
    finally:
        raw.close()
    with db.engine.begin() as conn:
        for index in table.indexes:
            index.create(conn)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return campaign


# --- the measured child ----------------------------------------------------------------------

def _status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process. Not ru_maxrss: Linux carries that over
    exec from the forked parent, which holds the generated rows."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(url: str, workspace_id: str, campaign_id: str, fmt: str, trace: bool) -> None:
    """One full export; prints one JSON line."""
    from ringwise.results import export

    db = Database(url)
    with db.reading() as session:  # connect (and warm the pool) before measuring
        session.connection()
    produce = export.iter_csv if fmt == "csv" else export.iter_jsonl
    rss_before = _status_mb("VmRSS")
    started = time.perf_counter()
    cpu_before = time.process_time()
    stream = produce(db, workspace_id, campaign_id)
    size = chunks = lines = biggest = 0
    for chunk in stream:
        size += len(chunk)
        chunks += 1
        lines += chunk.count(b"\n")
        biggest = max(biggest, len(chunk))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    peak = _status_mb("VmHWM")
    result: dict[str, Any] = {
        "rows": stream.rows, "lines": lines, "seconds": round(elapsed, 2),
        "rows_per_s": round(stream.rows / elapsed), "client_cpu_s": round(cpu, 2),
        "megabytes": round(size / 2**20, 1), "chunks": chunks,
        "largest_chunk_kib": round(biggest / 1024, 1),
        "rss_before_mb": round(rss_before, 1), "peak_rss_mb": round(peak, 1),
        "rss_growth_mb": round(peak - rss_before, 1)}
    if trace:
        import tracemalloc

        tracemalloc.start()
        for _ in produce(db, workspace_id, campaign_id):
            pass
        result["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 2)
        tracemalloc.stop()
    db.dispose()
    print(json.dumps(result))


def _run_child(url: str, workspace_id: str, campaign_id: str, fmt: str,
               trace: bool) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", "--url", url, "--workspace", workspace_id,
            "--campaign", campaign_id, "--format", fmt] + (["--tracemalloc"] if trace else [])
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --- the driver ------------------------------------------------------------------------------

def bench(engine: str, calls: int, trace: bool) -> dict[str, Any]:
    with scratch_database(engine, "export") as url:
        upgrade(url)
        db = Database(url)
        started = time.perf_counter()
        campaign_id = populate(db, calls)
        setup_s = time.perf_counter() - started
        with db.reading() as session:
            workspace_id = str(session.connection().exec_driver_sql(
                "SELECT workspace_id FROM campaigns").scalar_one())
        db.dispose()
        print(f"{engine}: {calls:,} calls written in {setup_s:.1f}s", flush=True)
        result: dict[str, Any] = {"engine": engine, "calls": calls,
                                  "setup_s": round(setup_s, 1)}
        for fmt in ("csv", "jsonl"):
            measured = _run_child(url, workspace_id, campaign_id, fmt, trace)
            assert measured["rows"] == calls, measured
            result[fmt] = measured
            print(f"{engine:>9} {fmt:>5}: {measured['rows_per_s']:>9,} rows/s  "
                  f"{measured['seconds']:>6.2f}s  {measured['megabytes']:>7} MB  "
                  f"RSS +{measured['rss_growth_mb']} MB"
                  + (f"  tracemalloc peak {measured['tracemalloc_peak_mb']} MB"
                     if trace else ""), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write results")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also measure the Python-allocation peak (a second pass)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--workspace", help=argparse.SUPPRESS)
    parser.add_argument("--campaign", help=argparse.SUPPRESS)
    parser.add_argument("--format", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.url, args.workspace, args.campaign, args.format, args.tracemalloc)
        return
    engines = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    write_results(args.json, [bench(engine, args.calls, args.tracemalloc) for engine in engines])


if __name__ == "__main__":
    main()
