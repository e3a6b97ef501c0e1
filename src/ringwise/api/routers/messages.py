"""/v1/campaigns/{id}/messages: the campaign's scheduled messages (its schedule.runs[].messages
planned per contact) with their delivery status, and their counts.

Read-only: the results worker (``ringwise worker`` / ``serve``) plans and sends them.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Query

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import get_ctx
from ringwise.api.schemas.common import ErrorResponse, ListResponse
from ringwise.api.schemas.messages import (
    MessageChannel,
    MessageOut,
    MessageStatus,
    MessageSummary,
)
from ringwise.services import messages
from ringwise.services.context import Ctx

router = workspace_router("/v1/campaigns", "messages")

_PATH = "/{campaign_id}/messages"
_404: dict[int | str, dict[str, Any]] = {404: {
    "model": ErrorResponse,
    "description": "No such campaign in this workspace (`field`: campaign_id)"}}


@router.get(_PATH, response_model=ListResponse[MessageOut], responses=_404,
            summary="List a campaign's scheduled messages")
def list_messages(
    campaign_id: str,
    limit: int = Query(50, description="Page size, 1-200", examples=[50]),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    status: MessageStatus | None = Query(None, description="Only messages in this status"),
    channel: MessageChannel | None = Query(None, description="Only sms or only email messages"),
    contact_id: str | None = Query(None, description="Only messages to this contact"),
    ctx: Ctx = Depends(get_ctx),
) -> ListResponse[MessageOut]:
    """Newest first: one item per contact and message of the campaign's schedule.runs, with
    its status, the reason it was blocked, skipped, expired or canceled, the delivery error
    of a failed one, and the text as sent."""
    page = messages.list_messages(ctx, campaign_id, limit=limit, cursor=cursor,
                                  status=status, channel=channel, contact_id=contact_id)
    return ListResponse(data=[MessageOut.model_validate(m) for m in page.items],
                        next_cursor=page.next_cursor)


@router.get(_PATH + "/summary", response_model=MessageSummary, responses=_404,
            summary="Count a campaign's scheduled messages by status and channel")
def message_summary(campaign_id: str, ctx: Ctx = Depends(get_ctx)) -> MessageSummary:
    """The total, the count of every status and of each channel (zeros included), and when
    the next still-scheduled message falls due."""
    counts = messages.summary(ctx, campaign_id)
    return MessageSummary.model_validate({
        "total": counts.total, "by_status": counts.by_status,
        "by_channel": counts.by_channel, "next_due_at": counts.next_due_at})
