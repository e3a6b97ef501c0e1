"""/compat/vapi: Vapi's campaign API (``POST /campaign``, ``GET /campaign/{id}``,
``GET /campaign``) on native campaigns (docs/compat.md).

A Vapi campaign launches when it is created (Vapi has no drafts), so a create is the native
create with ``auto_start``; everything else is the native services. Errors are Vapi's
(NestJS's) ``{"message": [...], "error": "Bad Request", "statusCode": 400}``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import Select, func, select

from ringwise.api.errors import error_field
from ringwise.api.routers.base import bearer
from ringwise.api.routing import WorkspaceRoute, get_ctx
from ringwise.api.schemas.campaigns import CampaignCreate
from ringwise.api.schemas.stats import counters_of
from ringwise.compat.vapi_models import (
    ASSISTANT_KEYS,
    VapiCampaign,
    VapiCampaignCall,
    VapiCampaignCreate,
    VapiCampaignPage,
    VapiCustomerOut,
    VapiDialPlanEntryOut,
    VapiEndedReason,
    VapiErrorBody,
    VapiPaginationMeta,
    VapiSchedulePlanOut,
    VapiStatus,
)
from ringwise.db.models import Assistant, Call, Campaign, CampaignContact, Contact
from ringwise.errors import AuthenticationFailed, NotFound, RingwiseError
from ringwise.services import campaigns
from ringwise.services.context import Ctx
from ringwise.services.lookup import get_owned

_KIND_KEY = {"assistant": "assistantId", "workflow": "workflowId", "squad": "squadId"}
_KEY_KIND = {v: k for k, v in _KIND_KEY.items()}
# Native lifecycle -> Vapi's three states (a native draft has not started: "scheduled").
_STATUS: dict[str, VapiStatus] = {
    "draft": "scheduled", "scheduled": "scheduled", "running": "in-progress",
    "paused": "in-progress", "completed": "ended", "canceled": "ended"}
_NATIVE_STATUSES: dict[str, tuple[str, ...]] = {
    vapi: tuple(n for n, v in _STATUS.items() if v == vapi) for vapi in set(_STATUS.values())}
_CALL_STATUS = {"dialing": "queued"}  # Vapi has no "dialing"; the rest are Vapi's names
# Vapi's text for a bad key, so clients that match on it keep working.
_BAD_KEY = ("Invalid Key. Hot tip, you may be using the private key instead of the public key, "
            "or vice versa.")
MAX_PAGE_SIZE = 1_000


class VapiError(Exception):
    def __init__(self, status: int, messages: list[str] | str) -> None:
        super().__init__(messages)
        self.status = status
        self.messages = messages


def _bad(path: str, reason: str) -> VapiError:
    return VapiError(400, [f"{path}: {reason}"])


def error_response(status: int, messages: list[str] | str) -> JSONResponse:
    return JSONResponse(status_code=status, content={
        "message": messages, "error": HTTPStatus(status).phrase, "statusCode": status})


# --- native field paths -> Vapi's ------------------------------------------------------------

_CONTACT_FIELDS = {"phone": "number", "first_name": "name", "last_name": "name",
                   "email": "email", "metadata": "externalId",
                   "assistant_overrides": "assistantOverrides"}
_OVERRIDE_FIELDS = {"first_message": "firstMessage", "voicemail_message": "voicemailMessage",
                    "variables": "variableValues"}


def _dotted(path: str) -> str:
    """'customers[0].number' -> 'customers.0.number' (class-validator's notation)."""
    return re.sub(r"\[(\d+)\]", r".\1", path)


def _contact_rest(rest: str) -> str:
    """The Vapi name of a native contact sub-path ('.phone' -> '.number')."""
    parts = [p for p in rest.split(".") if p]
    if not parts:
        return ""
    head = _CONTACT_FIELDS.get(re.sub(r"\[\d+\]$", "", parts[0]), parts[0])
    if head == "assistantOverrides" and len(parts) > 1:
        return f".{head}.{_OVERRIDE_FIELDS.get(parts[1], parts[1])}"
    return f".{head}"


def vapi_path(field: str | None, assistant_key: str = "assistantId") -> str | None:
    """The Vapi request field a native error blames."""
    if not field:
        return None
    found = re.match(r"^caller_id\.dial_plan\[(\d+)\]\.contacts\[(\d+)\](.*)$", field)
    if found:
        return f"dialPlan.{found[1]}.customers.{found[2]}{_contact_rest(found[3])}"
    found = re.match(r"^contacts\[(\d+)\](.*)$", field)
    if found:
        return f"customers.{found[1]}{_contact_rest(found[2])}"
    found = re.match(r"^caller_id\.dial_plan\[(\d+)\]\.phone_number_id$", field)
    if found:
        return f"dialPlan.{found[1]}.phoneNumberId"
    if field.startswith("caller_id.dial_plan"):
        return "dialPlan"
    if field.startswith("caller_id"):
        return "phoneNumberId"
    return {"schedule.start_at": "schedulePlan.earliestAt",
            "schedule.end_at": "schedulePlan.latestAt",
            "schedule": "schedulePlan", "assistant_id": assistant_key,
            "contacts": "customers"}.get(field, _dotted(field))


def _reason(message: str, field: str | None) -> str:
    """A native message without its own 'field: ' prefix."""
    if field and message.startswith(f"{field}: "):
        return message[len(field) + 2:]
    return message.removeprefix("Value error, ")


def _validation_messages(errors: Sequence[Any], translate: Callable[[str | None], str | None]
                         ) -> list[str]:
    messages: list[str] = []
    for error in errors:
        kind = error.get("type")
        loc = [p for p in error.get("loc", ()) if p != "body"]
        if kind == "extra_forbidden":
            name = _dotted(translate(error_field(dict(error, loc=loc))) or "")
            messages.append(f"property {name} should not exist")
            continue
        path = translate(error_field(dict(error, loc=loc)))
        path = _dotted(path) if path and kind != "json_invalid" else None
        if kind == "missing":
            reason = "this field is required" if path else "the request has no body"
        elif kind == "json_invalid":
            reason = "the request body is not valid JSON"
        else:
            reason = _reason(str(error.get("msg", "invalid value")), None)
        messages.append(f"{path}: {reason}" if path else reason)
    return messages or ["invalid request"]


def _from_native(exc: RingwiseError, assistant_key: str = "assistantId") -> JSONResponse:
    if isinstance(exc, AuthenticationFailed):
        return error_response(401, _BAD_KEY)
    if isinstance(exc, NotFound) and exc.field is None:  # the campaign in the URL
        return error_response(404, "Campaign not found")
    path = vapi_path(exc.field, assistant_key)
    reason = _reason(exc.message, exc.field)
    message = f"{path}: {reason}" if path else reason
    # Everything else is about the body (a bad reference in it included): 400, as Vapi does.
    status = exc.status_code if exc.status_code in (413, 429) else 400
    return error_response(status, [message])


class VapiRoute(WorkspaceRoute):
    """The native route (auth, one transaction) with Vapi's error bodies. The transaction is
    rolled back before an exception leaves the inner handler."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await inner(request)
            except RequestValidationError as exc:
                return error_response(400, _validation_messages(exc.errors(), lambda p: p))
            except VapiError as exc:
                return error_response(exc.status, exc.messages)
            except RingwiseError as exc:
                return _from_native(exc, getattr(request.state, "vapi_assistant_key",
                                                 "assistantId"))

        return handler


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": VapiErrorBody, "description": "The body or a query parameter is invalid; "
                                                 "each message starts with the field"},
    401: {"model": VapiErrorBody, "description": "Missing or unknown key"},
    404: {"model": VapiErrorBody, "description": "No such campaign in this workspace"},
}

router = APIRouter(prefix="/compat/vapi", tags=["compat: vapi"], route_class=VapiRoute,
                   dependencies=[Security(bearer)], responses=_ERRORS)


# --- create ----------------------------------------------------------------------------------

def _assistant(ctx: Ctx, body: VapiCampaignCreate) -> Assistant:
    """The assistant named by assistantId / workflowId / squadId (of that kind), else the
    workspace's compat default."""
    for key, value in zip(ASSISTANT_KEYS, body.assistant_choice, strict=True):
        if value:
            try:
                assistant = get_owned(ctx, Assistant, value, key)
            except NotFound:
                raise _bad(key, f"'{value}' not found") from None
            if assistant.kind != _KEY_KIND[key]:
                raise _bad(key, f"'{value}' is a {assistant.kind}, not a {_KEY_KIND[key]}; "
                                f"pass it as {_KIND_KEY.get(assistant.kind, 'assistantId')}")
            return assistant
    default = (ctx.workspace.compat or {}).get("assistant_id")
    if not default:
        raise _bad("assistantId", "give assistantId, workflowId or squadId (this workspace "
                                  "has no compat default assistant)")
    try:
        return get_owned(ctx, Assistant, default, "assistantId")
    except NotFound:
        raise _bad("assistantId", "the workspace's compat default assistant no longer "
                                  "exists; give assistantId, workflowId or squadId") from None


def native_body(body: VapiCampaignCreate, assistant_id: str) -> dict[str, Any]:
    """The native create body (docs/compat.md has the field table)."""
    schedule: dict[str, Any] = {"retry_window_minutes": 60}  # "retried for up to one hour"
    if body.schedule_plan is not None:
        schedule["start_at"] = body.schedule_plan.earliest_at.isoformat()
        if body.schedule_plan.latest_at is not None:
            schedule["end_at"] = body.schedule_plan.latest_at.isoformat()
    data: dict[str, Any] = {
        "name": body.name, "assistant_id": assistant_id, "schedule": schedule,
        # Vapi calls each customer once: its only "retry" is waiting for capacity.
        "retry": {"auto_retry": False},
        "auto_start": True,  # a Vapi campaign launches on creation (no drafts)
    }
    if body.dial_plan is not None:
        data["caller_id"] = {"mode": "dial_plan", "dial_plan": [
            {"phone_number_id": e.phone_number_id, "contacts": [c.native() for c in e.customers]}
            for e in body.dial_plan]}
    else:
        data["caller_id"] = {"mode": "fixed", "phone_number_ids": [body.phone_number_id]}
        data["contacts"] = [c.native() for c in body.customers or ()]
    return data


@router.post("/campaign", status_code=201, response_model=VapiCampaign,
             summary="Create Campaign (Vapi)")
def create_campaign(body: VapiCampaignCreate, request: Request,
                    ctx: Ctx = Depends(get_ctx)) -> VapiCampaign:
    assistant = _assistant(ctx, body)
    request.state.vapi_assistant_key = _KIND_KEY.get(assistant.kind, "assistantId")
    data = native_body(body, assistant.id)
    try:
        native = CampaignCreate.model_validate(data)
    except ValidationError as exc:  # a customer field the native contact refuses
        key = request.state.vapi_assistant_key
        raise VapiError(400, _validation_messages(
            exc.errors(), lambda p: vapi_path(p, key))) from None
    campaign, _ = campaigns.create_campaign(ctx, native)
    return _render(ctx, [campaign])[0]


# --- read ------------------------------------------------------------------------------------

@router.get("/campaign/{campaign_id}", response_model=VapiCampaign,
            summary="Get Campaign (Vapi)")
def get_campaign(campaign_id: str, ctx: Ctx = Depends(get_ctx)) -> VapiCampaign:
    return _render(ctx, [campaigns.get_campaign(ctx, campaign_id)])[0]


@router.get("/campaign", response_model=VapiCampaignPage, summary="List Campaigns (Vapi)")
def list_campaigns(
    id: str | None = Query(None, max_length=64, description="Only this campaign"),
    status: VapiStatus | None = Query(None, description="scheduled | in-progress | ended"),
    page: int = Query(1, ge=1, le=1_000_000, description="1-based page number"),
    sortOrder: Literal["ASC", "DESC"] = Query("DESC", description="By createdAt"),
    limit: int = Query(100, ge=0, le=MAX_PAGE_SIZE, description="Page size, 0-1000"),
    createdAtGt: datetime | None = None,
    createdAtLt: datetime | None = None,
    createdAtGe: datetime | None = None,
    createdAtLe: datetime | None = None,
    updatedAtGt: datetime | None = None,
    updatedAtLt: datetime | None = None,
    updatedAtGe: datetime | None = None,
    updatedAtLe: datetime | None = None,
    ctx: Ctx = Depends(get_ctx),
) -> VapiCampaignPage:
    query: Select[Any] = select(Campaign).where(Campaign.workspace_id == ctx.workspace_id)
    if id is not None:
        query = query.where(Campaign.id == id)
    if status is not None:
        query = query.where(Campaign.status.in_(_NATIVE_STATUSES[status]))
    bounds = {"createdAtGt": createdAtGt, "createdAtLt": createdAtLt,
              "createdAtGe": createdAtGe, "createdAtLe": createdAtLe,
              "updatedAtGt": updatedAtGt, "updatedAtLt": updatedAtLt,
              "updatedAtGe": updatedAtGe, "updatedAtLe": updatedAtLe}
    for name, value in bounds.items():
        if value is None:
            continue
        if value.tzinfo is None:  # an instant needs its offset (naive means nothing here)
            value = value.replace(tzinfo=UTC)
        column = Campaign.created_at if name.startswith("created") else Campaign.updated_at
        query = query.where({"Gt": column > value, "Lt": column < value,
                             "Ge": column >= value, "Le": column <= value}[name[-2:]])
    total = int(ctx.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    order = (Campaign.created_at.asc(), Campaign.id.asc()) if sortOrder == "ASC" \
        else (Campaign.created_at.desc(), Campaign.id.desc())
    rows = list(ctx.session.scalars(query.order_by(*order).offset((page - 1) * limit)
                                    .limit(limit))) if limit else []
    return VapiCampaignPage(results=_render(ctx, rows), metadata=VapiPaginationMeta(
        itemsPerPage=limit, totalItems=total, currentPage=page))


# --- rendering -------------------------------------------------------------------------------

def _instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _stored_instant(value: Any) -> str | None:
    return _instant(datetime.fromisoformat(value)) if isinstance(value, str) else None


def _ended_reason(campaign: Campaign) -> VapiEndedReason | None:
    if campaign.status == "completed":
        return "campaign.ended.success"
    if campaign.status == "canceled":
        return ("campaign.in-progress.ended-by-user" if campaign.started_at is not None
                else "campaign.scheduled.ended-by-user")
    return None


def _chunks(ids: list[str], size: int = 1_000) -> list[list[str]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def _render(ctx: Ctx, rows: Sequence[Campaign]) -> list[VapiCampaign]:
    """Vapi Campaign objects, with a fixed number of queries for the whole page."""
    ids = [c.id for c in rows]
    counters = campaigns.counters_for(ctx.session, ids)
    kinds: dict[str, str] = {}
    assistant_ids = list({c.assistant_id for c in rows if c.assistant_id})
    for chunk in _chunks(assistant_ids):
        kinds.update((row.id, row.kind) for row in ctx.session.execute(
            select(Assistant.id, Assistant.kind).where(Assistant.id.in_(chunk))))
    customers: dict[str, list[tuple[str | None, VapiCustomerOut]]] = defaultdict(list)
    calls: dict[str, dict[str, VapiCampaignCall]] = defaultdict(dict)
    for chunk in _chunks(ids):
        for campaign_id, number_id, phone, first, last, email, metadata in ctx.session.execute(
                select(CampaignContact.campaign_id, CampaignContact.caller_number_id,
                       Contact.phone, Contact.first_name, Contact.last_name, Contact.email,
                       Contact.metadata_)
                .join(Contact, Contact.id == CampaignContact.contact_id)
                .where(CampaignContact.campaign_id.in_(chunk))
                .order_by(CampaignContact.id)):
            name = " ".join(p for p in (first, last) if p) or None
            external = (metadata or {}).get("external_id")
            customers[campaign_id].append((number_id, VapiCustomerOut(
                number=phone, name=name, email=email,
                externalId=str(external) if external is not None else None)))
        for call in ctx.session.execute(
                select(Call.id, Call.campaign_id, Call.status, Call.ended_reason,
                       Call.to_number, Call.phone_number_id, Call.created_at,
                       Call.started_at, Call.ended_at)
                .where(Call.campaign_id.in_(chunk))
                .order_by(Call.created_at, Call.id)):
            call_id, campaign_id, call_status, reason, to, number_id, created, started, ended \
                = call
            assert campaign_id is not None  # selected by it
            calls[campaign_id][call_id] = VapiCampaignCall(
                status=_CALL_STATUS.get(call_status, call_status), endedReason=reason,
                customer={"number": to}, phoneNumberId=number_id,
                createdAt=_instant(created) or "", startedAt=_instant(started),
                endedAt=_instant(ended))
    out: list[VapiCampaign] = []
    for campaign in rows:
        caller = campaign.caller_id or {}
        kind = kinds.get(campaign.assistant_id or "", "assistant")
        assistant = {key: (campaign.assistant_id if _KEY_KIND[key] == kind else None)
                     for key in ASSISTANT_KEYS}
        listed = customers.get(campaign.id, [])
        dial_plan = None
        phone_number_id = None
        top_customers: list[VapiCustomerOut] | None = [c for _, c in listed]
        if caller.get("mode") == "dial_plan":
            top_customers = None
            dial_plan = [VapiDialPlanEntryOut(
                phoneNumberId=e["phone_number_id"],
                customers=[c for n, c in listed if n == e["phone_number_id"]])
                for e in caller.get("dial_plan", [])]
        elif caller.get("phone_number_ids"):
            phone_number_id = caller["phone_number_ids"][0]
        schedule = campaign.schedule or {}
        plan = None
        if schedule.get("start_at") or schedule.get("end_at"):
            plan = VapiSchedulePlanOut(earliestAt=_stored_instant(schedule.get("start_at")),
                                       latestAt=_stored_instant(schedule.get("end_at")))
        counts = counters_of(counters.get(campaign.id))
        out.append(VapiCampaign(
            status=_STATUS[campaign.status], endedReason=_ended_reason(campaign),
            name=campaign.name, assistantId=assistant["assistantId"],
            workflowId=assistant["workflowId"], squadId=assistant["squadId"],
            phoneNumberId=phone_number_id, dialPlan=dial_plan, schedulePlan=plan,
            customers=top_customers, id=campaign.id, orgId=campaign.workspace_id,
            createdAt=_instant(campaign.created_at) or "",
            updatedAt=_instant(campaign.updated_at) or "",
            calls=calls.get(campaign.id, {}),
            callsCounterScheduled=counts.scheduled, callsCounterQueued=counts.queued,
            callsCounterInProgress=counts.in_progress,
            callsCounterEndedVoicemail=counts.ended_voicemail,
            callsCounterEnded=counts.ended))
    return out
