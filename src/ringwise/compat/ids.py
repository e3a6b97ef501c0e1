"""Integer ids for foreign APIs that show integers (Kayse): one per (system, kind, native id),
allocated on first sight and stable after."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringwise.db.models import CompatId


def external_id(session: Session, system: str, kind: str, workspace_id: str, native_id: str,
                at: datetime) -> int:
    """The integer id of ``native_id`` (allocated now if it has none)."""
    found = session.scalar(select(CompatId.id).where(
        CompatId.system == system, CompatId.kind == kind, CompatId.native_id == native_id))
    if found is not None:
        return int(found)
    row = CompatId(workspace_id=workspace_id, system=system, kind=kind, native_id=native_id,
                   created_at=at)
    session.add(row)
    session.flush()
    return int(row.id)


def external_ids(session: Session, system: str, kind: str,
                 native_ids: list[str]) -> dict[str, int]:
    """Already allocated integer ids of ``native_ids`` (for list pages)."""
    if not native_ids:
        return {}
    rows = session.execute(select(CompatId.native_id, CompatId.id).where(
        CompatId.system == system, CompatId.kind == kind,
        CompatId.native_id.in_(native_ids)))
    return {native: int(ext) for native, ext in rows}


def native_id(session: Session, system: str, kind: str, workspace_id: str,
              external: int) -> str | None:
    """The native id behind integer ``external`` in this workspace; None when unknown (or
    another workspace's: a foreign id is a 404 like any other)."""
    return session.scalar(select(CompatId.native_id).where(
        CompatId.id == external, CompatId.system == system, CompatId.kind == kind,
        CompatId.workspace_id == workspace_id))
