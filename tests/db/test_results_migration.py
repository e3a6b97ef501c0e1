"""Migration 0004 (results) on both engines: calls made before it keep their rows with the new
columns empty, and it goes down and up again with results data in place."""

from __future__ import annotations

from sqlalchemy import inspect, text

from ringwise.db.engine import Database
from ringwise.db.migrate import current_revision, downgrade, upgrade
from tests.db.test_compliance_migration import CAMPAIGN, NOW, WS, _seed

CALL = "44444444-4444-4444-8444-444444444444"
RESULTS_TABLES = {"call_settings", "analysis_jobs", "campaign_stats_hourly",
                  "campaign_tag_hourly", "webhook_endpoints", "webhook_events",
                  "webhook_deliveries", "webhook_attempts", "reports", "report_deliveries"}


def test_upgrade_keeps_old_calls_and_round_trips(db_url: str) -> None:
    downgrade(db_url, "0002")
    db = Database(db_url)
    try:
        _seed(db)
        upgrade(db_url, "0003")
        stamp = NOW.replace(tzinfo=None) if db.dialect == "sqlite" else NOW
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO calls (id, workspace_id, campaign_id, attempt, status, to_number, "
                "created_at, updated_at) VALUES (:id, :ws, :c, 1, 'ended', '+12125550100', "
                ":now, :now)"), {"id": CALL, "ws": WS, "c": CAMPAIGN, "now": stamp})
        assert not RESULTS_TABLES & set(inspect(db.engine).get_table_names())
        upgrade(db_url, "0004")
        assert current_revision(db_url) == "0004"
        assert set(inspect(db.engine).get_table_names()) >= RESULTS_TABLES
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT analysis_status, analyzed_at, settings_id, status "
                                    "FROM calls")).one()
            assert tuple(row) == (None, None, None, "ended")
            assert conn.execute(text("SELECT results, email FROM workspaces")).one() == (
                None, None)
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("calls")}
        assert "ix_calls_campaign_created" in indexes
        with db.engine.begin() as conn:  # results data in the new tables, then down
            conn.execute(text(
                "INSERT INTO campaign_stats_hourly (campaign_id, hour, calls, answered, "
                "voicemail, no_answer, busy, failed, other, talk_seconds, cost, analyzed, "
                "success, opted_out, sentiment_sum, score_sum) VALUES (:c, :h, 1, 1, 0, 0, 0, "
                "0, 0, 60, 0.05, 0, 0, 0, 0, 0)"), {"c": CAMPAIGN, "h": stamp})
        downgrade(db_url, "0003")
        assert not RESULTS_TABLES & set(inspect(db.engine).get_table_names())
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM calls")).scalar() == 1
        upgrade(db_url, "0004")
        assert current_revision(db_url) == "0004"
    finally:
        db.dispose()
