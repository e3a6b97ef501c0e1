"""The storage layer behaves the same on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from ringwise.db.engine import Database, normalize_url
from ringwise.db.migrate import current_revision, downgrade, head_revision, upgrade
from ringwise.db.models import Base, Contact, Workspace
from ringwise.ids import new_id

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _workspace(db: Database) -> str:
    with db.transaction() as session:
        ws = Workspace(id=new_id(), name="W", created_at=NOW, updated_at=NOW)
        session.add(ws)
    return ws.id


def test_schema_matches_models(db: Database) -> None:
    """The migration creates exactly what the models describe (no drift on either engine)."""
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_migrations_run_down_and_up(db_url: str) -> None:
    assert current_revision(db_url) == head_revision()
    downgrade(db_url, "base")
    assert current_revision(db_url) is None
    upgrade(db_url)
    assert current_revision(db_url) == head_revision()


def test_instants_round_trip_as_aware_utc(db: Database) -> None:
    madrid = timezone(timedelta(hours=1))
    local = datetime(2026, 3, 2, 16, 0, tzinfo=madrid)
    with db.transaction() as session:
        ws = Workspace(id=new_id(), name="W", created_at=local, updated_at=local)
        session.add(ws)
    with db.reading() as session:
        stored = session.get(Workspace, ws.id)
        assert stored is not None
        assert stored.created_at == NOW
        assert stored.created_at.tzinfo is not None
        assert stored.created_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="timezone-aware"), db.transaction() as session:
        session.add(Workspace(id=new_id(), name="W", created_at=datetime(2026, 1, 1),
                              updated_at=NOW))


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(Contact(id=new_id(), workspace_id=new_id(), phone="+14155550123",
                            created_at=NOW, updated_at=NOW))


def test_unique_phone_per_workspace(db: Database) -> None:
    ws = _workspace(db)
    with db.transaction() as session:
        session.add(Contact(id=new_id(), workspace_id=ws, phone="+14155550123",
                            created_at=NOW, updated_at=NOW))
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(Contact(id=new_id(), workspace_id=ws, phone="+14155550123",
                            created_at=NOW, updated_at=NOW))
    other = _workspace(db)
    with db.transaction() as session:  # the same phone in another workspace is another contact
        session.add(Contact(id=new_id(), workspace_id=other, phone="+14155550123",
                            created_at=NOW, updated_at=NOW))


def test_json_documents_round_trip(db: Database) -> None:
    ws = _workspace(db)
    doc = {"lead_id": "ext-12345", "nested": {"n": 1, "list": [1, "two", None]}, "ñ": "García"}
    with db.transaction() as session:
        contact = Contact(id=new_id(), workspace_id=ws, phone="+34600123456",
                          custom_fields=doc, created_at=NOW, updated_at=NOW)
        session.add(contact)
    with db.reading() as session:
        assert session.scalars(select(Contact.custom_fields)).one() == doc


def test_failed_transaction_leaves_nothing(db: Database) -> None:
    ws = _workspace(db)
    with pytest.raises(RuntimeError), db.transaction() as session:
        session.add(Contact(id=new_id(), workspace_id=ws, phone="+14155550123",
                            created_at=NOW, updated_at=NOW))
        session.flush()
        raise RuntimeError("crash after the write, before the commit")
    with db.reading() as session:
        assert session.scalars(select(Contact)).all() == []


def test_sqlite_pragmas(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite-only settings")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_postgres_url_forms() -> None:
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_health_reports_database(anon_client: object) -> None:
    from fastapi.testclient import TestClient

    assert isinstance(anon_client, TestClient)
    response = anon_client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"

