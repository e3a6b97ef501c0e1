"""Assistants: create, list, change and delete a workspace's agents.

Services flush but never commit: the route's transaction commits only a successful request.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from ringwise.api.schemas.assistants import AssistantCreate, AssistantUpdate
from ringwise.api.schemas.shared import SpeechSettings
from ringwise.db.models import Assistant, Campaign
from ringwise.errors import Conflict, InvalidInput
from ringwise.ids import new_id
from ringwise.services.context import Ctx
from ringwise.services.lookup import get_owned
from ringwise.services.pagination import Page, paginate

# Columns that always hold a value; an explicit null in a PATCH is an error for these.
_NOT_NULL = frozenset({"name", "kind", "language"})
_MODEL_COLUMNS = {"metadata": "metadata_"}


def _stored(value: Any) -> Any:
    """JSON columns hold plain dicts: dump nested settings models whole (with defaults)."""
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def create_assistant(ctx: Ctx, body: AssistantCreate) -> Assistant:
    assistant = Assistant(id=new_id(), workspace_id=ctx.workspace_id,
                          created_at=ctx.now, updated_at=ctx.now)
    for name in AssistantCreate.model_fields:
        setattr(assistant, _MODEL_COLUMNS.get(name, name), _stored(getattr(body, name)))
    ctx.session.add(assistant)
    ctx.session.flush()
    return assistant


def get_assistant(ctx: Ctx, assistant_id: str, field: str | None = None) -> Assistant:
    """The workspace's assistant, or NotFound (also for another workspace's id)."""
    return get_owned(ctx, Assistant, assistant_id, field)


def list_assistants(ctx: Ctx, *, limit: int = 50, cursor: str | None = None,
                    search: str | None = None, kind: str | None = None) -> Page[Assistant]:
    query = select(Assistant).where(Assistant.workspace_id == ctx.workspace_id)
    if search and "\x00" in search:
        raise InvalidInput("search: cannot contain the NUL character", field="search")
    if search:
        # autoescape: a '%' or '_' in the search text matches itself, not any character.
        query = query.where(Assistant.name.icontains(search.strip(), autoescape=True))
    if kind:
        query = query.where(Assistant.kind == kind)
    return paginate(ctx.session, query, Assistant.created_at, Assistant.id, limit, cursor)


def update_assistant(ctx: Ctx, assistant_id: str, body: AssistantUpdate) -> Assistant:
    assistant = get_assistant(ctx, assistant_id)
    # Iterate the fields actually sent (not model_dump(exclude_unset)), so that a nested
    # section is stored whole, with its defaults, rather than only the keys the client sent.
    for name in sorted(body.model_fields_set):
        value = getattr(body, name)
        if value is None and name in _NOT_NULL:
            raise InvalidInput(f"{name}: cannot be null", field=name)
        if value is None and name == "speech_settings":
            value = SpeechSettings()
        setattr(assistant, _MODEL_COLUMNS.get(name, name), _stored(value))
    assistant.updated_at = ctx.now
    ctx.session.flush()
    return assistant


def campaigns_using(ctx: Ctx, assistant_id: str) -> list[Campaign]:
    return list(ctx.session.scalars(
        select(Campaign)
        .where(Campaign.workspace_id == ctx.workspace_id, Campaign.assistant_id == assistant_id)
        .order_by(Campaign.created_at, Campaign.id)
    ))


def delete_assistant(ctx: Ctx, assistant_id: str) -> None:
    """Delete, unless a campaign past draft still uses it (409 naming those campaigns).

    Draft campaigns are detached (their assistant becomes null) rather than blocking the
    delete: a draft has placed no calls, and it must be given an assistant before it starts.
    """
    assistant = get_assistant(ctx, assistant_id)
    campaigns = campaigns_using(ctx, assistant.id)
    blocking = [c for c in campaigns if c.status != "draft"]
    if blocking:
        names = ", ".join(f"'{c.name}' ({c.status})" for c in blocking[:10])
        more = f" and {len(blocking) - 10} more" if len(blocking) > 10 else ""
        raise Conflict(
            f"assistant is used by campaign(s) {names}{more}; delete those campaigns first",
            details={"campaigns": [{"id": c.id, "name": c.name, "status": c.status}
                                   for c in blocking]},
        )
    for campaign in campaigns:
        campaign.assistant_id = None
        campaign.updated_at = ctx.now
    ctx.session.flush()  # detach before the delete, or the RESTRICT foreign key refuses it
    ctx.session.delete(assistant)
    ctx.session.flush()
