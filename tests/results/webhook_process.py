"""A process for the crash tests of webhook delivery, killed with SIGKILL by the test.

    python webhook_process.py commit DB_URL WORKSPACE_ID CAMPAIGN_ID NOW
        starts the campaign through the service layer (campaign.status_changed) and records
        two call events through the outbox, in two committed transactions; prints
        "committed", then waits to be killed before any delivery is made.

    python webhook_process.py dispatch DB_URL NOW
        runs one WebhookDispatcher pass (worker "doomed") on a manual clock at NOW; the test's
        receiver holds the request open until the process is killed mid-send.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Workspace
from ringwise.notify.webhook_sender import WebhookSender
from ringwise.results import outbox
from ringwise.results.webhook_dispatch import WebhookDispatcher
from ringwise.services import campaigns
from ringwise.services.context import Ctx

LEASE = timedelta(seconds=60)


def commit(db: Database, workspace_id: str, campaign_id: str, now: datetime) -> None:
    with db.transaction() as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        campaigns.apply_action(Ctx(session=session, workspace=workspace, now=now),
                               campaign_id, "start")
    with db.transaction() as session:
        outbox.emit_many(session.connection(), workspace_id, [
            ("call.started", {"call_id": "c1", "campaign_id": campaign_id}),
            ("call.ended", {"call_id": "c1", "campaign_id": campaign_id,
                            "outcome": "answered"}),
        ], now)
    print("committed", flush=True)
    time.sleep(60)  # killed before this ends: no dispatcher ever ran here


def dispatch(db: Database, now: datetime) -> None:
    with WebhookSender(allow_private=True, timeout=30.0) as sender:
        WebhookDispatcher(db, ManualClock(now), sender, worker_id="doomed",
                          lease=LEASE).run_due()
    print("returned", flush=True)  # never reached: the receiver holds the request


def main(argv: list[str]) -> None:
    mode, url = argv[1], argv[2]
    db = Database(url)
    if mode == "commit":
        commit(db, argv[3], argv[4], datetime.fromisoformat(argv[5]))
    elif mode == "dispatch":
        dispatch(db, datetime.fromisoformat(argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv)
