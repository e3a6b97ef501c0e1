"""What every workspace-scoped service call receives: the session, the workspace and 'now'."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ringwise.db.models import Workspace


@dataclass(slots=True)
class Ctx:
    session: Session
    workspace: Workspace
    now: datetime

    @property
    def workspace_id(self) -> str:
        return self.workspace.id
