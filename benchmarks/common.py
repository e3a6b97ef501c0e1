"""What the benchmark scripts share: a throwaway database on either engine, and the JSON
file of results."""

from __future__ import annotations

import json
import os
import platform
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

PG_SERVER = os.environ.get("RINGWISE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


@contextmanager
def scratch_database(engine: str, label: str) -> Iterator[str]:
    """The URL of an empty database (a SQLite file in a temp dir, or a PostgreSQL database
    on $RINGWISE_BENCH_POSTGRES), removed afterwards."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"rw_bench_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_results(path: Path, engines: list[Any]) -> None:
    """Write per-engine results with the machine they were measured on."""
    results = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
               "python": platform.python_version(), "cpus": os.cpu_count(),
               "machine": platform.platform(), "engines": engines}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path}")
