"""/v1/calls: every call of the workspace, newest first, and one call in full."""

from __future__ import annotations

from datetime import datetime

from fastapi import Depends, Query

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import get_ctx
from ringwise.api.schemas.calls import CallOut, CallOutcome, CallSettingsOut, CallStatus
from ringwise.api.schemas.common import ListResponse
from ringwise.services import calls
from ringwise.services.context import Ctx

router = workspace_router("/v1/calls", "calls")


@router.get("", response_model=ListResponse[CallOut], summary="List calls")
def list_calls(
    limit: int = Query(50, description="Page size, 1-200"),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    campaign_id: str | None = Query(None, description="Only this campaign's calls"),
    contact_id: str | None = Query(None, description="Only calls to this contact"),
    status: CallStatus | None = None,
    outcome: CallOutcome | None = None,
    created_after: datetime | None = Query(
        None, description="Created at or after this instant (ISO 8601 with offset)"),
    created_before: datetime | None = Query(
        None, description="Created before this instant (ISO 8601 with offset)"),
    ctx: Ctx = Depends(get_ctx),
) -> ListResponse[CallOut]:
    page = calls.list_calls(ctx, limit=limit, cursor=cursor, campaign_id=campaign_id,
                            contact_id=contact_id, status=status, outcome=outcome,
                            created_after=created_after, created_before=created_before)
    return ListResponse(data=[CallOut.model_validate(c) for c in page.items],
                        next_cursor=page.next_cursor)


@router.get("/{call_id}", response_model=CallOut, summary="Get a call")
def get_call(call_id: str, ctx: Ctx = Depends(get_ctx)) -> CallOut:
    return CallOut.model_validate(calls.get_call(ctx, call_id))


@router.get("/{call_id}/settings", response_model=CallSettingsOut,
            summary="The campaign and assistant settings a call was placed with")
def get_call_settings(call_id: str, ctx: Ctx = Depends(get_ctx)) -> CallSettingsOut:
    return CallSettingsOut.model_validate(calls.call_settings(ctx, call_id))
