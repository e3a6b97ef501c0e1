"""A campaign's scheduled messages (read-only: the results worker writes them), and the
texts contacts send back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ringwise.core.compliance.opt_out import opt_out_word
from ringwise.core.messages import CHANNELS, MESSAGE_STATUSES
from ringwise.core.phones import InvalidPhone, parse_e164
from ringwise.db.models import Campaign, Contact, MessageSend, PhoneNumber
from ringwise.errors import InvalidInput
from ringwise.results import outbox
from ringwise.services.context import Ctx
from ringwise.services.dnc import record_opt_out
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


@dataclass(frozen=True, slots=True)
class InboundResult:
    keyword: str | None
    phone: str
    newly_listed: bool
    dnc_entry_id: str | None


def receive(ctx: Ctx, sender: str, to: str, body: str) -> InboundResult:
    """A text a contact sent to one of the workspace's numbers. An opt-out word
    (``core.compliance.opt_out``) lists the sender on the workspace's do-not-call list at
    once, so no campaign calls or texts it again, and emits ``contact.opted_out``."""
    region = ctx.workspace.default_region or "US"
    try:
        own = parse_e164(to, region)
    except InvalidPhone as exc:
        raise InvalidInput(f"to: {exc}", field="to") from None
    if ctx.session.scalar(select(PhoneNumber.id).where(
            PhoneNumber.workspace_id == ctx.workspace_id, PhoneNumber.number == own)) is None:
        raise InvalidInput(f"to: {own} is not a number of this workspace", field="to")
    try:
        phone = parse_e164(sender, region)
    except InvalidPhone as exc:
        raise InvalidInput(f"from: {exc}", field="from") from None
    keyword = opt_out_word(body)
    if keyword is None:
        return InboundResult(None, phone, False, None)
    listed = record_opt_out(ctx.session, ctx.workspace_id, phone, source="opt_out",
                            reason=f"replied '{keyword}' by text to {own}", at=ctx.now)
    if listed.created:
        contact_id = ctx.session.scalar(select(Contact.id).where(
            Contact.workspace_id == ctx.workspace_id, Contact.phone == phone))
        outbox.emit(ctx.session.connection(), ctx.workspace_id, "contact.opted_out", {
            "phone": phone, "contact_id": contact_id, "campaign_id": None, "call_id": None,
            "source": "sms"}, ctx.now)
    return InboundResult(keyword, phone, listed.created, listed.entry.id)
