"""Workspaces and their API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ringwise.api.schemas.results_settings import merged_secret
from ringwise.core.api_keys import DISPLAY_PREFIX_LEN, generate_key, hash_key, looks_like_key
from ringwise.db.models import ApiKey, Assistant, PhoneNumber, Workspace
from ringwise.errors import AuthenticationFailed, InvalidInput, NotFound
from ringwise.ids import new_id
from ringwise.services import compliance_settings
from ringwise.services.lookup import get_owned

if TYPE_CHECKING:
    from ringwise.api.schemas.settings import WorkspaceSettingsUpdate
    from ringwise.services.context import Ctx

# last_used_at is a hint for humans, not an audit log: refresh it at most once a minute so
# authenticated reads stay reads.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    secret: str  # shown once, never stored


def create_workspace(session: Session, name: str, now: datetime) -> Workspace:
    name = name.strip()
    if not name:
        raise InvalidInput("workspace name must not be empty", field="name")
    workspace = Workspace(id=new_id(), name=name, created_at=now, updated_at=now)
    session.add(workspace)
    session.flush()
    return workspace


def get_workspace(session: Session, workspace_id: str) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound(f"workspace '{workspace_id}' does not exist", field="workspace_id")
    return workspace


def list_workspaces(session: Session) -> list[Workspace]:
    return list(session.scalars(select(Workspace).order_by(Workspace.created_at)))


def create_key(session: Session, workspace_id: str, name: str, now: datetime) -> CreatedKey:
    get_workspace(session, workspace_id)
    new = generate_key()
    key = ApiKey(
        id=new_id(), workspace_id=workspace_id, name=name, prefix=new.prefix,
        key_hash=new.hash, created_at=now,
    )
    session.add(key)
    session.flush()
    return CreatedKey(key=key, secret=new.secret)


def list_keys(session: Session, workspace_id: str, prefix: str | None = None) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.workspace_id == workspace_id)
    if prefix:
        query = query.where(ApiKey.prefix.startswith(prefix[:DISPLAY_PREFIX_LEN], autoescape=True))
    return list(session.scalars(query.order_by(ApiKey.created_at)))


def revoke_key(session: Session, key_id_or_prefix: str, now: datetime,
               workspace_id: str | None = None) -> ApiKey:
    """Revoke by id or by the displayed prefix (which must then match exactly one key)."""
    query = select(ApiKey).where(
        (ApiKey.id == key_id_or_prefix) | (ApiKey.prefix == key_id_or_prefix)
    )
    if workspace_id is not None:
        query = query.where(ApiKey.workspace_id == workspace_id)
    matches = list(session.scalars(query))
    if not matches:
        raise NotFound(f"no API key with id or prefix '{key_id_or_prefix}'", field="key")
    if len(matches) > 1:
        raise InvalidInput(
            f"prefix '{key_id_or_prefix}' matches {len(matches)} keys; revoke by id",
            field="key",
        )
    key = matches[0]
    if key.revoked_at is None:
        key.revoked_at = now
    session.flush()
    return key


def authenticate(session: Session, secret: str | None) -> tuple[Workspace, ApiKey]:
    """The workspace a presented key belongs to; AuthenticationFailed says plainly why not."""
    if not secret:
        raise AuthenticationFailed(
            "missing API key: send 'X-API-Key: <key>' or 'Authorization: Bearer <key>'"
        )
    if not looks_like_key(secret):
        raise AuthenticationFailed("malformed API key: Ringwise keys look like rw_live_...")
    key = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(secret))).first()
    if key is None:
        raise AuthenticationFailed("unknown API key")
    if key.revoked_at is not None:
        raise AuthenticationFailed("this API key was revoked")
    workspace = session.get(Workspace, key.workspace_id)
    assert workspace is not None  # FK with ON DELETE CASCADE
    return workspace, key


def needs_touch(key: ApiKey, now: datetime) -> bool:
    return key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION


def touch_key(session: Session, key_id: str, now: datetime) -> None:
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


def update_settings(ctx: Ctx, body: WorkspaceSettingsUpdate) -> Workspace:
    """PATCH /v1/settings: the fields sent change (null is ignored, except for business_hours,
    which it clears). In ``compliance`` only the keys sent change, a key sent as null goes
    back to its default, and ``"compliance": null`` restores every compliance default."""
    workspace = ctx.workspace
    for name, value in body.model_dump(exclude_unset=True,
                                       exclude={"compliance", "results", "email",
                                                "compat"}).items():
        if value is None and name != "business_hours":
            continue
        setattr(workspace, name, value)
    if "compliance" in body.model_fields_set:
        update = body.compliance
        if update is None:
            workspace.compliance = None
        else:
            sent = update.model_dump(mode="json", include=update.model_fields_set)
            workspace.compliance = compliance_settings.merge(workspace.compliance, sent)
    if "results" in body.model_fields_set:
        results = None if body.results is None else body.results.model_dump(mode="json")
        if results is not None and results.get("llm") is not None:
            stored_llm = (workspace.results or {}).get("llm")
            results["llm"] = merged_secret(results["llm"], stored_llm, "api_key")
        workspace.results = results
    if "email" in body.model_fields_set:
        workspace.email = (None if body.email is None else merged_secret(
            body.email.model_dump(mode="json"), workspace.email, "password"))
    if "compat" in body.model_fields_set:
        compat = body.compat
        if compat is not None:
            if compat.assistant_id is not None:
                get_owned(ctx, Assistant, compat.assistant_id, "compat.assistant_id")
            for index, number_id in enumerate(compat.phone_number_ids):
                get_owned(ctx, PhoneNumber, number_id, f"compat.phone_number_ids[{index}]")
        workspace.compat = None if compat is None else compat.model_dump(mode="json")
    workspace.updated_at = ctx.now
    ctx.session.flush()
    return workspace
