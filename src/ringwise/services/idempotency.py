"""Idempotency-Key handling (after Stripe's): the first response to a key is stored in the same
transaction as the work it describes, so a replay either sees that response or, if the first
request failed, runs again. Concurrent first requests serialise on the primary key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ringwise.db.models import IdempotencyRecord
from ringwise.errors import IdempotencyMismatch, InvalidInput

RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: str


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", body):
        digest.update(part)
    return digest.hexdigest()


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters", field="Idempotency-Key"
        )


def _replay(record: IdempotencyRecord, fingerprint: str) -> StoredResponse | None:
    if record.request_hash != fingerprint:
        raise IdempotencyMismatch(
            "this Idempotency-Key was already used with a different request; "
            "use a new key for a new request",
            field="Idempotency-Key",
        )
    if record.status_code is None or record.response_body is None:
        return None
    return StoredResponse(record.status_code, record.response_body)


def claim(session: Session, workspace_id: str, key: str, fingerprint: str, method: str,
          path: str, now: datetime) -> StoredResponse | None:
    """Reserve ``key`` in the current transaction, or return the response stored for it.

    Returns None when the caller should do the work (and later call ``store``).
    """
    _check_key(key)
    existing = session.get(IdempotencyRecord, (workspace_id, key))
    if existing is not None and now - existing.created_at >= RETENTION:
        session.delete(existing)
        session.flush()
        existing = None
    if existing is not None:
        return _replay(existing, fingerprint)
    try:
        with session.begin_nested():
            session.add(IdempotencyRecord(
                workspace_id=workspace_id, key=key, request_hash=fingerprint, method=method,
                path=path, created_at=now,
            ))
    except IntegrityError:
        # A concurrent request with the same key committed first: answer with its response.
        existing = session.scalars(
            select(IdempotencyRecord)
            .where(IdempotencyRecord.workspace_id == workspace_id, IdempotencyRecord.key == key)
            .execution_options(populate_existing=True)
        ).one()
        return _replay(existing, fingerprint)
    return None


def store(session: Session, workspace_id: str, key: str, response: StoredResponse) -> None:
    record = session.get(IdempotencyRecord, (workspace_id, key))
    assert record is not None, "store() without claim()"
    record.status_code = response.status_code
    record.response_body = response.body
    session.flush()


def purge_expired(session: Session, now: datetime) -> int:
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - RETENTION)
    )
    return int(getattr(result, "rowcount", 0) or 0)
