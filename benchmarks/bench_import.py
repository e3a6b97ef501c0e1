"""CSV import throughput and memory, on SQLite and PostgreSQL.

    python benchmarks/bench_import.py                # 1,000,000 rows, both engines
    python benchmarks/bench_import.py --rows 50000   # a quick run
    python benchmarks/bench_import.py --engines sqlite

Generates a messy-ish CSV (mixed phone formats, ~1% bad phones, ~2% repeated phones, quoted
commas and newlines, blank lines, accented names, extra columns) in a temp dir, then imports it
into a fresh database per engine, each import in its own subprocess so that its peak RSS
(``ru_maxrss``) is the import's own. PostgreSQL uses a throwaway database on
$RINGWISE_BENCH_POSTGRES (default postgresql://postgres@127.0.0.1:5432), dropped afterwards.
Results go to benchmarks/results/import.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "import.json"
PG_SERVER = os.environ.get("RINGWISE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")

AREA_CODES = ("212", "415", "305", "617", "713", "206", "312", "404", "503", "702", "808",
              "907", "214", "602", "303", "720", "919", "615", "215", "480")
FIRST = ("Juan", "María", "José", "Ana", "John", "Mary", "Zoë", "François", "Ngozi", "Wei",
         "Olga", "Søren", "Aisha", "Liam", "Noah", "Emma")
LAST = ("García", "Smith", "Müller", "O'Brien", "Nguyen", "Kowalski", "Dubois", "Rossi",
        "Johnson", "Brown", "Ødegaard", "Sánchez")
COMPANIES = ("Acme SL", "Globex", "Initech, Inc.", "Umbrella", "Stark Industries", "")
STATES = ("NY", "CA", "FL", "TX", "WA", "MA", "IL", "GA", "OR", "NV")
SOURCES = ("google", "facebook", "referral", "webinar", "")


def _phone(rng: random.Random, serial: int) -> str:
    """A US number unique per serial, in one of the formats people paste into spreadsheets."""
    area = AREA_CODES[serial % len(AREA_CODES)]
    rest = serial // len(AREA_CODES)
    exchange = 200 + rest // 10_000 % 800
    line = rest % 10_000
    style = rng.random()
    if style < 0.35:
        return f"+1{area}{exchange}{line:04d}"
    if style < 0.6:
        return f"({area}) {exchange}-{line:04d}"
    if style < 0.75:
        return f"{area}.{exchange}.{line:04d}"
    if style < 0.9:
        return f"1{area}{exchange}{line:04d}"
    return f"+1 {area} {exchange} {line:04d}"


def generate(path: Path, rows: int, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    bad = repeated = blank = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["Phone Number", "First Name", "Last Name", "E-mail", "Company", "City",
                      "State", "Zip", "Lead Source", "Notes"])
        for i in range(rows):
            if i % 5000 == 4999:
                f.write("\r\n")  # a blank line: skipped, still a spreadsheet row
                blank += 1
            roll = rng.random()
            if roll < 0.01:
                phone = rng.choice(("n/a", "555-CALL", "12345", "+1 (000) 000-0000", ""))
                bad += 1
            elif roll < 0.03 and i > 10:
                phone = _phone(rng, rng.randrange(i))  # a phone seen earlier in the file
                repeated += 1
            else:
                phone = _phone(rng, i)
            first, last = rng.choice(FIRST), rng.choice(LAST)
            notes = ""
            if rng.random() < 0.05:
                notes = "called twice,\nleft a message" if rng.random() < 0.5 else "VIP; \"gold\""
            out.writerow([
                phone, first, last,
                f"{first.lower()}.{i}@example.com" if rng.random() < 0.7 else "",
                rng.choice(COMPANIES), "Springfield", rng.choice(STATES),
                f"{rng.randrange(10000, 99999)}", rng.choice(SOURCES), notes,
            ])
    return {"rows": rows, "bad_phones": bad, "repeated_phones": repeated, "blank_lines": blank}


# --- the measured child ----------------------------------------------------------------------

def child(url: str, file: str, list_id: str) -> None:
    """Import ``file`` into ``list_id``; print one JSON line with time and peak memory."""
    from ringwise.db.engine import Database
    from ringwise.db.models import ContactList, Workspace
    from ringwise.services.context import Ctx
    from ringwise.services.csv_import import ImportOptions, import_csv

    db = Database(url)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_before = time.process_time()
    started = time.perf_counter()
    with db.transaction() as session, open(file, "rb") as stream:
        contact_list = session.get(ContactList, list_id)
        assert contact_list is not None
        workspace = session.get(Workspace, contact_list.workspace_id)
        assert workspace is not None
        ctx = Ctx(session=session, workspace=workspace, now=datetime.now(UTC))
        report = import_csv(ctx, stream, list_id, ImportOptions(default_region="US"))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    db.dispose()
    print(json.dumps({
        "seconds": round(elapsed, 3),
        "rows_per_second": round(report.rows / elapsed),
        # CPU of this process only (the machine may be shared; PostgreSQL's own work is not
        # in here): rows per CPU-second of the importing process.
        "client_cpu_seconds": round(cpu, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "rss_before_import_mb": round(rss_before / 1024, 1),
        "report": {"rows": report.rows, "created": report.created, "updated": report.updated,
                   "duplicates": report.duplicates, "rejected": report.rejected},
    }))


# --- the driver ------------------------------------------------------------------------------

def _prepare(url: str) -> str:
    """Migrate ``url`` and create a workspace and a list; the list id."""
    from ringwise.db.engine import Database
    from ringwise.db.migrate import upgrade
    from ringwise.db.models import ContactList
    from ringwise.ids import new_id
    from ringwise.services import workspaces

    upgrade(url)
    db = Database(url)
    now = datetime.now(UTC)
    with db.transaction() as session:
        workspace = workspaces.create_workspace(session, "Bench", now)
        contact_list = ContactList(id=new_id(), workspace_id=workspace.id, name="bench",
                                   created_at=now, updated_at=now)
        session.add(contact_list)
        list_id = contact_list.id
    db.dispose()
    return list_id


def _count(url: str, list_id: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from ringwise.db.engine import Database
    from ringwise.db.models import Contact, ContactListMember

    db = Database(url)
    with db.reading() as session:
        contacts = session.scalar(select(func.count()).select_from(Contact)) or 0
        members = session.scalar(select(func.count()).where(
            ContactListMember.list_id == list_id)) or 0
    db.dispose()
    return {"contacts_in_db": contacts, "list_members": members}


def _run_child(url: str, file: Path, list_id: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--url", url, "--file", str(file),
         "--list", list_id], check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bench_engine(engine: str, file: Path, tmp: Path) -> dict[str, Any]:
    if engine == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
        list_id = _prepare(url)
        result = _run_child(url, file, list_id)
        result.update(_count(url, list_id))
        return result
    import psycopg

    name = f"rw_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"{PG_SERVER}/{name}"
        list_id = _prepare(url)
        result = _run_child(url, file, list_id)
        result.update(_count(url, list_id))
        return result
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--list", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.url, args.file, args.list)
        return
    results: dict[str, Any] = {
        "rows": args.rows, "python": platform.python_version(), "cpus": os.cpu_count(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "engines": {},
    }
    with tempfile.TemporaryDirectory(prefix="rw-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        file = tmp / "contacts.csv"
        started = time.perf_counter()
        results["file"] = generate(file, args.rows)
        results["file"]["megabytes"] = round(file.stat().st_size / 2**20, 1)
        print(f"generated {args.rows:,} rows ({results['file']['megabytes']} MB) in "
              f"{time.perf_counter() - started:.1f}s")
        for engine in args.engines.split(","):
            result = bench_engine(engine.strip(), file, tmp)
            results["engines"][engine] = result
            print(f"{engine:>10}: {result['rows_per_second']:>9,} rows/s  "
                  f"{result['seconds']:>7.2f}s  peak RSS {result['peak_rss_mb']} MB  "
                  f"{result['report']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
