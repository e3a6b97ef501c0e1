"""/compat/playbook: the playbook-based campaign API (shared/seeds/003_2f2bb110975fc459.txt)
translated onto native campaigns. docs/compat.md maps every field.

``POST /campaign`` becomes one native campaign created and started in one transaction (the
page has no start call); ``POST /call`` becomes a one-contact native campaign started at once
(Ringwise places calls only through campaigns: the dialer's retries, calling-hour floors, DNC
checks and caller pools then apply to a single call too). ``GET /call/{id}`` reads a campaign
contact (what ``POST /call`` returns) or a native call. Errors are the page's
``{"error": "..."}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import select

from ringwise.api.errors import error_field
from ringwise.api.routers.base import api_key_header, bearer
from ringwise.api.routing import WorkspaceRoute, get_ctx
from ringwise.api.schemas.campaigns import CampaignCreate
from ringwise.compat.common import native_campaign
from ringwise.compat.playbook_schemas import (
    CALL_NOT_FOUND,
    PHONE_REQUIRED,
    PLAYBOOK_NOT_FOUND,
    UNAUTHENTICATED,
    PlaybookCall,
    PlaybookCallCreate,
    PlaybookCallStarted,
    PlaybookCampaignCreate,
    PlaybookCampaignScheduled,
    PlaybookCampaignStarted,
    PlaybookError,
    PlaybookInputError,
    parse_launch_at,
)
from ringwise.db.models import Call, Campaign, CampaignContact, Contact
from ringwise.errors import AuthenticationFailed, InvalidInput, NotFound, RingwiseError
from ringwise.ids import is_uuid
from ringwise.services import campaigns
from ringwise.services.context import Ctx

STAGGER_SECONDS = 2  # the page's "small stagger between contacts" of a scheduled campaign

# Native field path -> the playbook field it came from (errors must name the client's fields).
_FIELDS: tuple[tuple[str, str], ...] = (
    ("assistant_id", "playbook_id"),
    ("retry.delays_minutes", "recall"),
    ("retry", "recall"),
    ("schedule.start_at", "launch_at"),
)
_CONTACT_PHONE = re.compile(r"contacts\[\d+\]\.phone")


def playbook_field(field: str | None) -> str | None:
    if field is None:
        return None
    for native, foreign in _FIELDS:
        if field == native or (field.startswith(native) and field[len(native)] in ".["):
            return foreign + field[len(native):]
    return field


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message})


def _validation_message(errors: list[Any]) -> str:
    if not errors:
        return "invalid request"
    first = dict(errors[0])
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, PlaybookInputError):
        return str(cause)  # one of the page's own sentences, verbatim
    if first.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    path = error_field(first)
    if first.get("type") == "missing":
        message = "this field is required"
    elif first.get("type") == "extra_forbidden":
        message = "is not a field of this API"
    else:
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if path is None and first.get("type") == "model_attributes_type":
        return "the request body must be a JSON object"
    return f"{path}: {message}" if path else message


def render(exc: RingwiseError) -> JSONResponse:
    """A native error in the page's shape, with the page's status where it has one."""
    if isinstance(exc, AuthenticationFailed):
        return _error(401, UNAUTHENTICATED)
    field = exc.field or ""
    if isinstance(exc, NotFound) and field == "assistant_id":
        return _error(403, PLAYBOOK_NOT_FOUND)  # another account's is "not found" too
    if field.startswith("caller_id"):
        # The request names no number: this is the workspace's setup, not the client's input.
        return _error(409, f"{exc.message} (calls come from the workspace's "
                           "compat.phone_number_ids, else from all its phone numbers)")
    if isinstance(exc, InvalidInput) and _CONTACT_PHONE.fullmatch(field):
        reason = exc.message.removeprefix(f"{field}: ")
        return _error(400, f"Each contact must have a valid phone field: {field}: {reason}")
    foreign = playbook_field(exc.field)
    message = exc.message
    if exc.field and foreign != exc.field and message.startswith(f"{exc.field}:"):
        message = f"{foreign}{message[len(exc.field):]}"
    status = 400 if isinstance(exc, InvalidInput) else exc.status_code
    return _error(status, message)


class PlaybookRoute(WorkspaceRoute):
    """The native route (auth, one transaction), answering with the page's error bodies. The
    transaction is already rolled back when an exception leaves the inner handler."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await inner(request)
            except RequestValidationError as exc:
                return _error(400, _validation_message(list(exc.errors())))
            except RingwiseError as exc:
                return render(exc)

        return handler


def _described(description: str) -> dict[str, Any]:
    return {"model": PlaybookError, "description": description}


router = APIRouter(
    prefix="/compat/playbook", tags=["compat: playbook"], route_class=PlaybookRoute,
    dependencies=[Security(bearer), Security(api_key_header)],
    responses={
        400: _described("Invalid data: missing playbook_id, empty contacts, a contact without "
                        f"a valid phone (\"{PHONE_REQUIRED}\"), or another invalid field"),
        401: _described(f"\"{UNAUTHENTICATED}\""),
        403: _described(f"\"{PLAYBOOK_NOT_FOUND}\""),
        409: _described("Ringwise addition: the workspace cannot call (campaigns disabled, no "
                        "phone number)"),
    },
)


# --- translation ----------------------------------------------------------------------------

def native_body(ctx: Ctx, *, name: str, playbook_id: str, contacts: list[dict[str, Any]],
                recall: list[int] | None, launch_at: datetime | None) -> CampaignCreate:
    """The native create body; InvalidInput naming the native field when the native schema
    refuses a value the playbook model let through (the route renames it)."""
    defaults = ctx.workspace.compat or {}
    schedule: dict[str, Any] = {}
    if launch_at is not None:
        schedule = {"start_at": launch_at.isoformat(), "stagger_seconds": STAGGER_SECONDS}
    data: dict[str, Any] = {
        "name": name,
        "description": "Created through /compat/playbook",
        "assistant_id": playbook_id,
        # The page names no caller number: the compat defaults, else every number of the
        # workspace (picked at dial time).
        "caller_id": {"mode": "pool",
                      "phone_number_ids": list(defaults.get("phone_number_ids") or [])},
        "schedule": schedule,
        # recall counts from the first call ("from the time of the call"); none: one attempt.
        "retry": ({"delays_minutes": recall, "relative_to": "first_attempt"} if recall
                  else {"auto_retry": False}),
        "contacts": contacts,
        "auto_start": True,
    }
    return native_campaign(data)


def _launch_text(at: datetime) -> str:
    return f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}Z"


# --- routes ---------------------------------------------------------------------------------

Accepted = PlaybookCampaignScheduled | PlaybookCampaignStarted


@router.post("/campaign", status_code=202, response_model=Accepted,
             summary="Playbook API: create a campaign (started now, or at launch_at)")
def create_campaign(body: PlaybookCampaignCreate, ctx: Ctx = Depends(get_ctx)) -> Accepted:
    launch = parse_launch_at(body.launch_at) if body.launch_at is not None else None
    native = native_body(
        ctx, name=f"Playbook campaign {ctx.now:%Y-%m-%d %H:%M:%S} UTC",
        playbook_id=body.playbook_id,
        contacts=[c.model_dump(exclude_none=True) for c in body.contacts],
        recall=body.recall if isinstance(body.recall, list) else None, launch_at=launch)
    campaign, added = campaigns.create_campaign(ctx, native)
    if launch is None:
        return PlaybookCampaignStarted(success=True, message="Campaign started successfully",
                               campaign_id=campaign.id, scheduled=False,
                               total_contacts=added.contacts_total)
    # With launch_at the page answers "scheduled", even for a past instant (its own example
    # 5.4 -> 6.2); natively such a campaign is already running.
    pending = campaigns.get_counters(ctx.session, campaign.id).contacts_pending
    return PlaybookCampaignScheduled(
        success=True, message=f"Scheduled {pending} calls for {launch:%d/%m/%Y %H:%M}",
        campaign_id=campaign.id, scheduled=True, launch_at=_launch_text(launch),
        total_contacts=added.contacts_total, scheduled_calls=pending, error_calls=0)


@router.post("/call", status_code=202, response_model=PlaybookCallStarted,
             summary="Playbook API: call one contact now (a one-contact native campaign)")
def create_call(body: PlaybookCallCreate, ctx: Ctx = Depends(get_ctx)) -> PlaybookCallStarted:
    native = native_body(
        ctx, name=f"Playbook call to {body.phone}", playbook_id=body.playbook_id,
        contacts=[body.contact()],
        recall=body.recall if isinstance(body.recall, list) else None, launch_at=None)
    campaign, _ = campaigns.create_campaign(ctx, native)
    member = ctx.session.scalar(select(CampaignContact.id)
                                .where(CampaignContact.campaign_id == campaign.id))
    assert member is not None  # the campaign was created with exactly this contact
    return PlaybookCallStarted(success=True, message="Call started successfully", call_id=member,
                       campaign_id=campaign.id)


def _recall_of(campaign: Campaign | None) -> list[int]:
    retry = (campaign.retry if campaign is not None else None) or {}
    if not retry.get("auto_retry", True):
        return []
    return [int(d) for d in retry.get("delays_minutes") or []]


def _view(call_id: str, campaign: Campaign | None, contact: Contact | None,
          latest: Call | None, **fields: Any) -> PlaybookCall:
    return PlaybookCall(
        id=call_id, campaign_id=campaign.id if campaign else None,
        playbook_id=(campaign.assistant_id if campaign else None)
        or (latest.assistant_id if latest else None),
        phone=contact.phone if contact else (latest.to_number if latest else ""),
        first_name=contact.first_name if contact else None,
        last_name=contact.last_name if contact else None,
        recall=_recall_of(campaign),
        native_call_id=latest.id if latest else None,
        started_at=latest.started_at if latest else None,
        answered_at=latest.answered_at if latest else None,
        ended_at=latest.ended_at if latest else None,
        duration_seconds=latest.duration_seconds if latest else None,
        cost=latest.cost if latest else None,
        transcript=latest.transcript if latest else None,
        recording_url=latest.recording_url if latest else None,
        analysis=latest.analysis if latest else None,
        analysis_status=latest.analysis_status if latest else None,
        **fields)


@router.get("/call/{call_id}", response_model=PlaybookCall,
            responses={404: _described(f"\"{CALL_NOT_FOUND}\"")},
            summary="Playbook API: a call's status, outcome, transcript and analysis")
def get_call(call_id: str, ctx: Ctx = Depends(get_ctx)) -> PlaybookCall:
    if not is_uuid(call_id):  # ids are UUIDs: anything else cannot exist
        raise NotFound(CALL_NOT_FOUND)
    session = ctx.session
    member = session.get(CampaignContact, call_id)
    if member is not None and member.workspace_id == ctx.workspace_id:
        latest = session.scalar(select(Call).where(Call.campaign_contact_id == member.id)
                                .order_by(Call.attempt.desc()).limit(1))
        if member.state in campaigns.TERMINAL_CONTACT_STATES:
            status = "ended"
        elif member.state == "active":
            status = latest.status if latest is not None and latest.status != "ended" \
                else "queued"
        else:
            status = "scheduled"  # waiting for its first attempt or a recall
        return _view(call_id, session.get(Campaign, member.campaign_id),
                     session.get(Contact, member.contact_id), latest,
                     status=status, outcome=member.outcome,
                     ended_reason=member.ended_reason or (latest.ended_reason if latest
                                                          else None),
                     attempts=member.attempts,
                     next_attempt_at=member.next_eligible_at if status == "scheduled"
                     else None,
                     created_at=member.created_at, updated_at=member.updated_at)
    call = session.get(Call, call_id)
    if call is None or call.workspace_id != ctx.workspace_id:
        raise NotFound(CALL_NOT_FOUND)  # another workspace's too: no id oracle
    # A native call id: that one attempt.
    return _view(call_id, session.get(Campaign, call.campaign_id) if call.campaign_id else None,
                 session.get(Contact, call.contact_id) if call.contact_id else None, call,
                 status=call.status, outcome=call.outcome, ended_reason=call.ended_reason,
                 attempts=call.attempt, next_attempt_at=None,
                 created_at=call.created_at, updated_at=call.updated_at)

