"""The README's first command: the walkthrough runs end to end against a real server."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from ringwise.cli import app
from ringwise.db.engine import Database
from ringwise.db.models import Campaign, CampaignContact, Workspace


def test_quickstart_walkthrough_creates_a_running_campaign(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'quick.db'}"
    for run in (1, 2):  # replayable on the same database
        result = CliRunner().invoke(
            app, ["quickstart", "--exit", "--port", "0", "--database-url", url])
        assert result.exit_code == 0, result.output
        assert "10. Look at it, with live counters" in result.output
        assert 'curl -s -X POST http://127.0.0.1:' in result.output
        db = Database(url)
        try:
            with db.reading() as session:
                assert session.scalar(select(func.count()).select_from(Workspace)) == run
                statuses = list(session.scalars(select(Campaign.status)))
                assert statuses == ["running"] * run
                pending = session.scalar(select(func.count()).select_from(CampaignContact)
                                         .where(CampaignContact.state == "pending"))
                assert pending == 4 * run
        finally:
            db.dispose()
