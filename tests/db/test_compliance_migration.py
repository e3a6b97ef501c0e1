"""Migration 0003 (compliance) on both engines: existing rows get the defaults, and it goes
down and up again with data in place."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, text

from ringwise.db.engine import Database
from ringwise.db.migrate import current_revision, downgrade, upgrade

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
WS = "11111111-1111-4111-8111-111111111111"
CAMPAIGN = "22222222-2222-4222-8222-222222222222"
CONTACT = "33333333-3333-4333-8333-333333333333"


def _seed(db: Database) -> None:
    """Rows written by the 0002 schema, with plain SQL (the models are ahead of it)."""
    stamp = NOW.replace(tzinfo=None) if db.dialect == "sqlite" else NOW
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO workspaces (id, name, timezone, default_region, concurrency_limit, "
            "concurrency_rate, campaigns_enabled, created_at, updated_at) VALUES "
            "(:id, 'W', 'America/New_York', 'US', 10, 100, :t, :now, :now)"),
            {"id": WS, "now": stamp, "t": True})
        conn.execute(text(
            "INSERT INTO campaigns (id, workspace_id, name, status, priority, "
            "concurrency_limit, never_ending, auto_start, caller_id, schedule, retry, "
            "voicemail, memory, options, created_at, updated_at) VALUES (:id, :ws, 'C', "
            "'draft', 50, 0, :f, :f, '{}', '{}', '{}', '{}', '{}', '{}', :now, :now)"),
            {"id": CAMPAIGN, "ws": WS, "now": stamp, "f": False})
        conn.execute(text(
            "INSERT INTO contacts (id, workspace_id, phone, created_at, updated_at) VALUES "
            "(:id, :ws, '+12125550100', :now, :now)"), {"id": CONTACT, "ws": WS, "now": stamp})


def test_upgrade_fills_defaults_and_round_trips(db_url: str) -> None:
    downgrade(db_url, "0002")
    assert current_revision(db_url) == "0002"
    db = Database(db_url)
    try:
        tables = set(inspect(db.engine).get_table_names())
        assert not {"dnc_entries", "compliance_log"} & tables
        _seed(db)
        upgrade(db_url, "0003")
        assert current_revision(db_url) == "0003"
        with db.engine.connect() as conn:
            flags = conn.execute(text("SELECT telemarketing, regulation_f FROM campaigns")).one()
            assert (bool(flags[0]), bool(flags[1])) == (False, False)
            consent = conn.execute(text("SELECT consent_basis, consent_at, registry_scrubbed_at "
                                        "FROM contacts")).one()
            assert tuple(consent) == (None, None, None)
            assert conn.execute(text("SELECT compliance FROM workspaces")).scalar() is None
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("dnc_entries")}
        assert indexes >= {"uq_dnc_entries_workspace_list", "uq_dnc_entries_campaign_list",
                           "ix_dnc_entries_workspace_pattern", "ix_dnc_entries_list_created"}
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("compliance_log")}
        assert indexes >= {"ix_compliance_log_campaign_at", "ix_compliance_log_call_id"}
        downgrade(db_url, "0002")  # with data in the new columns' tables
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM campaigns")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM contacts")).scalar() == 1
        upgrade(db_url, "0003")
        assert current_revision(db_url) == "0003"
    finally:
        db.dispose()
