"""Calls: read a workspace's calls (the dialer writes them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ringwise.db.models import Call, CallSettings, Campaign
from ringwise.errors import InvalidInput, NotFound
from ringwise.services.context import Ctx
from ringwise.services.lookup import get_owned
from ringwise.services.pagination import Page, paginate


def get_call(ctx: Ctx, call_id: str) -> Call:
    """The workspace's call, or NotFound (also for another workspace's id)."""
    if "\x00" in call_id:  # PostgreSQL cannot even compare such text: no such call
        raise NotFound(f"call {call_id!r} not found")
    return get_owned(ctx, Call, call_id)


def call_settings(ctx: Ctx, call_id: str) -> CallSettings:
    """The settings snapshot of the workspace's call; NotFound when it has none (a call
    placed before snapshots existed)."""
    call = get_call(ctx, call_id)
    snapshot = ctx.session.get(CallSettings, call.settings_id) if call.settings_id else None
    if snapshot is None:
        raise NotFound(f"call {call_id!r} has no settings snapshot", field="call_id")
    return snapshot


def list_calls(ctx: Ctx, *, limit: int = 50, cursor: str | None = None,
               campaign_id: str | None = None, contact_id: str | None = None,
               status: str | None = None, outcome: str | None = None,
               created_after: datetime | None = None,
               created_before: datetime | None = None) -> Page[Call]:
    """Newest first. ``created_after`` is inclusive, ``created_before`` exclusive."""
    for key, text in (("campaign_id", campaign_id), ("contact_id", contact_id)):
        if text is not None and "\x00" in text:
            raise InvalidInput(f"{key}: cannot contain the NUL character", field=key)
    query = select(Call).where(Call.workspace_id == ctx.workspace_id)
    if campaign_id is not None:
        # Another workspace's campaign is 'not found', not an empty page: no id oracle either
        # way, and a typo in the id is reported rather than silently matching nothing.
        get_owned(ctx, Campaign, campaign_id, "campaign_id")
        query = query.where(Call.campaign_id == campaign_id)
    if contact_id is not None:
        query = query.where(Call.contact_id == contact_id)
    if status is not None:
        query = query.where(Call.status == status)
    if outcome is not None:
        query = query.where(Call.outcome == outcome)
    for name, value in (("created_after", created_after), ("created_before", created_before)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name}: give a time zone offset (like 2026-03-02T15:00:00Z)",
                               field=name)
    if created_after is not None and created_before is not None \
            and created_before <= created_after:
        raise InvalidInput("created_before: must be after created_after",
                           field="created_before")
    if created_after is not None:
        query = query.where(Call.created_at >= created_after)
    if created_before is not None:
        query = query.where(Call.created_at < created_before)
    return paginate(ctx.session, query, Call.created_at, Call.id, limit, cursor)
