"""Cursor pagination over (created_at, id), newest first: stable under concurrent inserts."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from ringwise.errors import InvalidInput
from ringwise.ids import is_uuid

T = TypeVar("T")
MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def encode_cursor(created_at: datetime, row_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, row_id = json.loads(raw)
        instant = datetime.fromisoformat(created)
        if instant.tzinfo is None or not is_uuid(str(row_id)):
            raise ValueError("not a cursor")
        return instant, str(row_id)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise InvalidInput("cursor is not one this API returned", field="cursor") from None


def paginate(session: Session, query: Select[Any], created_col: InstrumentedAttribute[Any],
             id_col: InstrumentedAttribute[Any], limit: int, cursor: str | None) -> Page[Any]:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    if cursor:
        created, row_id = decode_cursor(cursor)
        query = query.where(or_(created_col < created,
                                and_(created_col == created, id_col < row_id)))
    rows = list(session.scalars(query.order_by(created_col.desc(), id_col.desc())
                                .limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, created_col.key), getattr(last, id_col.key))
    return Page(items=rows, next_cursor=next_cursor)
