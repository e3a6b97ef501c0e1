"""A campaign's scheduled messages, read-only (the results worker writes them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ringwise.core.messages import CHANNELS, MESSAGE_STATUSES
from ringwise.db.models import Campaign, MessageSend
from ringwise.errors import InvalidInput
from ringwise.services.context import Ctx
from ringwise.services.lookup import get_owned
from ringwise.services.pagination import Page, paginate


@dataclass(frozen=True, slots=True)
class Summary:
    total: int
    by_status: dict[str, int]
    by_channel: dict[str, int]
    next_due_at: datetime | None


def _campaign(ctx: Ctx, campaign_id: str) -> Campaign:
    return get_owned(ctx, Campaign, campaign_id, "campaign_id")


def list_messages(ctx: Ctx, campaign_id: str, *, limit: int = 50, cursor: str | None = None,
                  status: str | None = None, channel: str | None = None,
                  contact_id: str | None = None) -> Page[MessageSend]:
    """Newest first (the order of ``ix_message_sends_campaign_created``)."""
    campaign = _campaign(ctx, campaign_id)
    if contact_id is not None and "\x00" in contact_id:
        raise InvalidInput("contact_id: cannot contain the NUL character", field="contact_id")
    # workspace_id too, though the campaign is already the workspace's: every query of a
    # user's rows filters on it, so a wrong campaign row can never leak another's messages.
    query = select(MessageSend).where(MessageSend.workspace_id == ctx.workspace_id,
                                      MessageSend.campaign_id == campaign.id)
    if status is not None:
        query = query.where(MessageSend.status == status)
    if channel is not None:
        query = query.where(MessageSend.channel == channel)
    if contact_id is not None:
        query = query.where(MessageSend.contact_id == contact_id)
    return paginate(ctx.session, query, MessageSend.created_at, MessageSend.id, limit, cursor)


def summary(ctx: Ctx, campaign_id: str) -> Summary:
    """Counts per status and channel, and the next due instant, from one GROUP BY."""
    campaign = _campaign(ctx, campaign_id)
    # Grouping on both columns gives both breakdowns at once; the per-group MIN(due_at) of
    # the 'scheduled' groups yields next_due_at without a second query.
    rows = ctx.session.execute(
        select(MessageSend.status, MessageSend.channel, func.count(),
               func.min(MessageSend.due_at))
        .where(MessageSend.workspace_id == ctx.workspace_id,
               MessageSend.campaign_id == campaign.id)
        .group_by(MessageSend.status, MessageSend.channel))
    by_status: dict[str, int] = dict.fromkeys(MESSAGE_STATUSES, 0)
    by_channel: dict[str, int] = dict.fromkeys(CHANNELS, 0)
    total = 0
    next_due_at: datetime | None = None
    for status, channel, count, earliest in rows:
        total += count
        # Values outside the vocabulary (a newer worker) still count in total only, so the
        # response keeps its documented keys.
        if status in by_status:
            by_status[status] += count
        if channel in by_channel:
            by_channel[channel] += count
        if status == "scheduled" and earliest is not None \
                and (next_due_at is None or earliest < next_due_at):
            next_due_at = earliest
    return Summary(total=total, by_status=by_status, by_channel=by_channel,
                   next_due_at=next_due_at)
