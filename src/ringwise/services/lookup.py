"""Fetching a workspace's own objects: anything else is a 404, never a 403 (no id oracle)."""

from __future__ import annotations

from typing import Any, TypeVar

from ringwise.errors import NotFound
from ringwise.ids import is_uuid
from ringwise.services.context import Ctx

M = TypeVar("M")

_NAMES = {
    "Assistant": "assistant", "PhoneNumber": "phone number", "Contact": "contact",
    "ContactList": "contact list", "Campaign": "campaign", "Call": "call",
    "ApiKey": "API key",
}


def get_owned(ctx: Ctx, model: type[M], object_id: str, field: str | None = None) -> M:
    # Ids are UUIDs: anything else cannot exist, and must not reach the database (a NUL byte
    # in a PostgreSQL parameter is a driver error, not "not found").
    obj: Any = ctx.session.get(model, object_id) if is_uuid(object_id) else None
    if obj is None or obj.workspace_id != ctx.workspace_id:
        name = _NAMES.get(model.__name__, model.__name__)
        raise NotFound(f"{name} '{object_id}' not found", field=field)
    return obj  # type: ignore[no-any-return]
