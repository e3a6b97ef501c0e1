"""GET /v1/campaigns/{id}/preflight: how many pending contacts the dialer will skip, and why.

The verdicts come from ``dialer.preflight``, which asks the dialer's own compiled plan
(``dialer.plans``) when each contact could first be called, so the answer is what the dialer
will do, not an estimate of it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import Depends
from sqlalchemy import select

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import get_ctx
from ringwise.api.schemas.common import ErrorResponse
from ringwise.api.schemas.preflight import CampaignPreflight, NotReady, PreflightSkipped
from ringwise.db.models import Assistant, Campaign, CampaignContact
from ringwise.dialer.plans import compile_plan
from ringwise.dialer.preflight import preflight
from ringwise.dialer.sql_store import campaign_view, target_of, target_query, workspace_view
from ringwise.errors import Conflict, RingwiseError
from ringwise.services import campaigns, dnc
from ringwise.services.context import Ctx

router = workspace_router("/v1/campaigns", "campaigns")

_CONFLICT: dict[int | str, dict[str, Any]] = {409: {
    "model": ErrorResponse,
    "description": "The campaign's stored settings cannot be dialed (`not_dialable`); the "
                   "message names the setting",
}}
_CLOSED = ("completed", "canceled")


@router.get("/{campaign_id}/preflight", response_model=CampaignPreflight, responses=_CONFLICT,
            summary="Preview how many pending contacts will be skipped, and why")
def get_preflight(campaign_id: str, ctx: Ctx = Depends(get_ctx)) -> CampaignPreflight:
    """Evaluates every pending contact now, the way the dialer schedules and gates it:
    contacts on a do-not-call or suppression list, without consent (telemarketing), with a
    stale registry scrub (when required), with no time zone, or with no calling window
    (campaign schedule and legal hours) before the schedule's `end_at`, are counted as
    skipped; the others are callable from `first_eligible_at`. Read-only."""
    campaign = campaigns.get_campaign(ctx, campaign_id)
    counters = campaigns.get_counters(ctx.session, campaign.id)
    messages: tuple[str | None, str | None] = (None, None)
    if campaign.assistant_id is not None:
        row = ctx.session.execute(
            select(Assistant.first_message, Assistant.voicemail_message)
            .where(Assistant.id == campaign.assistant_id)).first()
        if row is not None:
            messages = (row[0], row[1])
    view = campaign_view(campaign, counters, *messages)
    try:
        plan = compile_plan(view, workspace_view(ctx.workspace))
    except (ValueError, KeyError) as exc:
        head, sep, _ = str(exc).partition(": ")
        raise Conflict(f"the campaign cannot be dialed: {exc}", code="not_dialable",
                       field=head if sep else None) from None
    query = (target_query().where(CampaignContact.campaign_id == campaign.id,
                                   CampaignContact.state == "pending")
             .order_by(CampaignContact.id))
    targets = [target_of(row) for row in ctx.session.execute(query).mappings()]
    listed = dnc.listed_phones(ctx.session, ctx.workspace.id, [campaign.id],
                               [t.phone for t in targets])
    report = preflight(plan, (replace(t, dnc=listed.get(t.phone)) for t in targets), ctx.now)
    return CampaignPreflight(
        campaign_id=campaign.id, status=campaign.status, at=report.at,
        contacts_total=counters.contacts_total, contacts=report.contacts,
        callable=report.callable, skipped=PreflightSkipped(**report.skipped),
        skipped_total=report.skipped_total, first_eligible_at=report.first_eligible_at,
        **_readiness(ctx, campaign))


def _readiness(ctx: Ctx, campaign: Campaign) -> dict[str, Any]:
    if campaign.status in _CLOSED:
        return {"ready": False, "not_ready": NotReady(
            field="status", message=f"the campaign is {campaign.status}")}
    if campaign.status not in ("draft", "paused"):
        return {"ready": True, "not_ready": None}
    try:
        campaigns.check_startable(ctx, campaign)
    except RingwiseError as exc:
        return {"ready": False, "not_ready": NotReady(field=exc.field, message=exc.message)}
    return {"ready": True, "not_ready": None}
