"""What the running application holds: the database, the clock and the settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from ringwise.clock import Clock
from ringwise.db.engine import Database
from ringwise.services import workspaces
from ringwise.settings import Settings

log = logging.getLogger("ringwise.api")


@dataclass(slots=True)
class AppState:
    db: Database
    clock: Clock
    settings: Settings

    def check_key(self, secret: str | None) -> None:
        """Authenticate in a short read transaction (raises AuthenticationFailed)."""
        with self.db.reading() as session:
            workspaces.authenticate(session, secret)

    def touch_key(self, key_id: str, now: datetime) -> None:
        """Record a key's last use in its own short transaction; never fails the request."""
        try:
            with self.db.transaction() as session:
                workspaces.touch_key(session, key_id, now)
        except Exception:  # a busy database must not turn a read into an error
            log.warning("could not record last use of API key %s", key_id, exc_info=True)
