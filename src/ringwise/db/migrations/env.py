"""Alembic environment: migrations run against the URL given by ringwise.db.migrate."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import event

from ringwise.db.engine import make_engine
from ringwise.db.models import Base

config = context.config
target_metadata = Base.metadata


def _sqlite_foreign_keys_off(dbapi_conn: Any, _record: Any) -> None:
    # SQLite alters a table by copying it and dropping the original (batch mode); with
    # foreign keys enforced, that DROP would run the ON DELETE actions of every referencing
    # table (a recreated workspaces table would cascade-delete all data). SQLite's own
    # procedure for schema changes: turn enforcement off, then check the keys at the end.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.close()


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_foreign_keys_off)  # after make_engine's
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if connection.dialect.name == "sqlite":
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                    if broken is not None:
                        raise RuntimeError(f"migration broke a foreign key: {tuple(broken)}")
    finally:
        engine.dispose()


run_migrations()
