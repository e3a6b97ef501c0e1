"""/v1/campaigns: outbound call campaigns, their lifecycle and their contacts."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Query

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import get_ctx
from ringwise.api.schemas.campaigns import (
    CampaignContactOut,
    CampaignContactsAdd,
    CampaignContactsAdded,
    CampaignCounts,
    CampaignCreate,
    CampaignCreated,
    CampaignOut,
    CampaignUpdate,
)
from ringwise.api.schemas.common import ErrorResponse, ListResponse
from ringwise.api.schemas.stats import CampaignStats
from ringwise.core.campaign_lifecycle import CampaignStatus, allowed_actions
from ringwise.db.models import Campaign, CampaignCounters
from ringwise.services import campaign_stats, campaigns
from ringwise.services.context import Ctx

router = workspace_router("/v1/campaigns", "campaigns")

_CONFLICT: dict[int | str, dict[str, Any]] = {409: {
    "model": ErrorResponse,
    "description": "Not possible in the campaign's current state (`invalid_transition`, "
                   "`not_editable`, `not_ready`, `invalid_state`); the message names the "
                   "state or the missing setting",
}}


def campaign_out(campaign: Campaign, counters: CampaignCounters | None,
                 model: type[CampaignOut] = CampaignOut, **extra: Any) -> Any:
    data: dict[str, Any] = {
        name: getattr(campaign, name) for name in (
            "id", "name", "description", "status", "assistant_id", "channel", "caller_id",
            "schedule", "retry", "concurrency_limit", "priority", "never_ending", "auto_start",
            "telemarketing", "regulation_f", "voicemail", "speech_settings", "opening_message",
            "campaign_context", "memory",
            "analysis", "report_schedule", "options", "ended_reason", "created_at",
            "updated_at", "started_at", "completed_at")
    }
    data["metadata"] = campaign.metadata_
    data["allowed_actions"] = list(allowed_actions(campaign.status, api_only=True))
    data["counts"] = (CampaignCounts.model_validate(counters) if counters is not None
                      else CampaignCounts())
    return model.model_validate({**data, **extra})


@router.post("", status_code=201, response_model=CampaignCreated, responses=_CONFLICT,
             summary="Create a campaign (optionally with its contacts, optionally started)")
def create_campaign(body: CampaignCreate, ctx: Ctx = Depends(get_ctx)) -> CampaignCreated:
    campaign, added = campaigns.create_campaign(ctx, body)
    counters = campaigns.get_counters(ctx.session, campaign.id)
    out: CampaignCreated = campaign_out(campaign, counters, CampaignCreated,
                                        stats=campaign_stats.summaries(ctx, [campaign])[
                                            campaign.id],
                                        contacts_added=added.added,
                                        duplicates_ignored=added.duplicates)
    return out


@router.get("", response_model=ListResponse[CampaignOut], summary="List campaigns")
def list_campaigns(
    limit: int = Query(50, description="Page size, 1-200"),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    search: str | None = Query(None, max_length=255,
                               description="Case-insensitive substring of the name or "
                                           "description"),
    status: CampaignStatus | None = None,
    assistant_id: str | None = None,
    ctx: Ctx = Depends(get_ctx),
) -> ListResponse[CampaignOut]:
    page = campaigns.list_campaigns(ctx, limit=limit, cursor=cursor, search=search,
                                    status=status, assistant_id=assistant_id)
    counters = campaigns.counters_for(ctx.session, [c.id for c in page.items])
    stats = campaign_stats.summaries(ctx, page.items)
    return ListResponse(data=[campaign_out(c, counters.get(c.id), stats=stats.get(c.id))
                              for c in page.items],
                        next_cursor=page.next_cursor)


@router.get("/{campaign_id}", response_model=CampaignOut,
            summary="Get a campaign with its live counters")
def get_campaign(campaign_id: str, ctx: Ctx = Depends(get_ctx)) -> CampaignOut:
    campaign = campaigns.get_campaign(ctx, campaign_id)
    out: CampaignOut = campaign_out(campaign, campaigns.get_counters(ctx.session, campaign.id),
                                    stats=campaign_stats.summaries(ctx, [campaign])[campaign.id])
    return out


@router.get("/{campaign_id}/stats", response_model=CampaignStats,
            summary="A campaign's statistics (all runs, or one run)")
def get_campaign_stats(
    campaign_id: str,
    run: str | None = Query(None, max_length=255,
                            description="A run's client_run_id: only calls started in its "
                                        "dates (in the stats time zone)"),
    ctx: Ctx = Depends(get_ctx),
) -> CampaignStats:
    """Sums kept per hour as calls end and are analyzed: reading costs the same for ten calls
    or a million, also while the campaign runs."""
    return campaign_stats.campaign_stats(ctx, campaign_id, run=run)


@router.patch("/{campaign_id}", response_model=CampaignOut, responses=_CONFLICT,
              summary="Change a draft or paused campaign's settings")
def update_campaign(campaign_id: str, body: CampaignUpdate,
                    ctx: Ctx = Depends(get_ctx)) -> CampaignOut:
    campaign = campaigns.update_campaign(ctx, campaign_id, body)
    out: CampaignOut = campaign_out(campaign, campaigns.get_counters(ctx.session, campaign.id),
                                    stats=campaign_stats.summaries(ctx, [campaign])[campaign.id])
    return out


def _act(ctx: Ctx, campaign_id: str, action: str) -> CampaignOut:
    campaign = campaigns.apply_action(ctx, campaign_id, action)
    out: CampaignOut = campaign_out(campaign, campaigns.get_counters(ctx.session, campaign.id),
                                    stats=campaign_stats.summaries(ctx, [campaign])[campaign.id])
    return out


@router.post("/{campaign_id}/start", response_model=CampaignOut, responses=_CONFLICT,
             summary="Start a draft: scheduled if its schedule starts later, else running")
def start_campaign(campaign_id: str, ctx: Ctx = Depends(get_ctx)) -> CampaignOut:
    return _act(ctx, campaign_id, "start")


@router.post("/{campaign_id}/pause", response_model=CampaignOut, responses=_CONFLICT,
             summary="Pause a scheduled or running campaign (calls in progress finish)")
def pause_campaign(campaign_id: str, ctx: Ctx = Depends(get_ctx)) -> CampaignOut:
    return _act(ctx, campaign_id, "pause")


@router.post("/{campaign_id}/resume", response_model=CampaignOut, responses=_CONFLICT,
             summary="Resume a paused campaign")
def resume_campaign(campaign_id: str, ctx: Ctx = Depends(get_ctx)) -> CampaignOut:
    return _act(ctx, campaign_id, "resume")


@router.post("/{campaign_id}/cancel", response_model=CampaignOut, responses=_CONFLICT,
             summary="Cancel a campaign for good; its waiting contacts are skipped")
def cancel_campaign(campaign_id: str, ctx: Ctx = Depends(get_ctx)) -> CampaignOut:
    return _act(ctx, campaign_id, "cancel")


@router.post("/{campaign_id}/contacts", response_model=CampaignContactsAdded,
             responses=_CONFLICT,
             summary="Add contacts by id, by list or inline (duplicates ignored)")
def add_campaign_contacts(campaign_id: str, body: CampaignContactsAdd,
                          ctx: Ctx = Depends(get_ctx)) -> CampaignContactsAdded:
    result = campaigns.add_contacts(ctx, campaign_id, body)
    return CampaignContactsAdded(added=result.added, duplicates=result.duplicates,
                                 contacts_total=result.contacts_total)


@router.get("/{campaign_id}/contacts", response_model=ListResponse[CampaignContactOut],
            summary="List a campaign's contacts with their state and attempts")
def list_campaign_contacts(
    campaign_id: str,
    limit: int = Query(50, description="Page size, 1-200"),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    state: str | None = Query(None, pattern="^(pending|active|done|skipped)$",
                              description="pending | active | done | skipped"),
    ctx: Ctx = Depends(get_ctx),
) -> ListResponse[CampaignContactOut]:
    page = campaigns.list_campaign_contacts(ctx, campaign_id, limit=limit, cursor=cursor,
                                            state=state)
    data = [
        CampaignContactOut(
            id=cc.id, contact_id=cc.contact_id, phone=contact.phone,
            first_name=contact.first_name, last_name=contact.last_name, state=cc.state,
            outcome=cc.outcome, attempts=cc.attempts, next_eligible_at=cc.next_eligible_at,
            caller_number_id=cc.caller_number_id, assistant_overrides=cc.assistant_overrides,
            metadata=cc.metadata_, created_at=cc.created_at, updated_at=cc.updated_at)
        for cc, contact in page.items
    ]
    return ListResponse(data=data, next_cursor=page.next_cursor)
