"""/compat/kathan: Kathan's ``POST /campaign``, translated onto native campaigns.

A Kathan client changes only its base URL and key (docs/compat.md). The request becomes a
native ``CampaignCreate`` run through ``services.campaigns.create_campaign``, so the campaign
shows in ``/v1/campaigns`` and runs on the native dialer. Kathan is a FastAPI application, so
errors have that framework's shapes: ``{"detail": [...]}`` (422) for invalid input, ``{"detail":
"..."}`` for everything else; a missing ``Authorization`` or ``X-User-ID`` is 401 ``{"detail":
"Not authenticated"}`` as FastAPI's security classes answer it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Response, Security
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPBearer
from pydantic import ValidationError

from ringwise.api.routing import WorkspaceRoute, get_ctx, presented_key
from ringwise.api.schemas.campaigns import CampaignCounts, CampaignCreate
from ringwise.api.schemas.shared import SpeechSettings
from ringwise.compat.common import Loc, dotted, fastapi_422, native_errors, split_path
from ringwise.compat.kathan_schemas import (
    KathanCampaign,
    KathanCampaignCreate,
    KathanHTTPError,
    KathanSpeechSettings,
    KathanStatus,
    parse_instant,
)
from ringwise.db.models import Assistant, Campaign, ContactList, PhoneNumber
from ringwise.errors import AuthenticationFailed, InvalidInput, RingwiseError
from ringwise.services import campaigns, contact_lists
from ringwise.services.context import Ctx

_NOT_AUTHENTICATED = "Not authenticated"

# Declared for the OpenAPI document (the two schemes of Kathan's page); the route class checks.
bearer = HTTPBearer(auto_error=False, description="A Ringwise workspace API key")
user_id_header = APIKeyHeader(name="X-User-ID", auto_error=False,
                              description="Required by Kathan; Ringwise accepts any value "
                                          "(the key identifies the workspace)")


class KathanRoute(WorkspaceRoute):
    """The native route (auth, one transaction) with Kathan's error bodies. The transaction is
    already rolled back when an exception leaves the inner handler."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            # FastAPI checks the page's schemes in order: the bearer key, then X-User-ID.
            if not presented_key(request):
                return _unauthenticated(_NOT_AUTHENTICATED, "Bearer")
            if not request.headers.get("x-user-id", "").strip():
                return _unauthenticated(_NOT_AUTHENTICATED, "APIKey")
            try:
                return await inner(request)
            except RequestValidationError as exc:
                return JSONResponse(status_code=422,
                                    content={"detail": jsonable_encoder(exc.errors())})
            except AuthenticationFailed as exc:  # a key was presented: say what is wrong
                return _unauthenticated(exc.message, "Bearer")
            except RingwiseError as exc:
                return JSONResponse(status_code=exc.status_code,
                                    content={"detail": exc.message})

        return handler


def _unauthenticated(message: str, scheme: str) -> JSONResponse:
    return JSONResponse(status_code=401, content={"detail": message},
                        headers={"WWW-Authenticate": scheme})


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": KathanHTTPError,
          "description": "Missing or unknown bearer key, or no X-User-ID header"},
    404: {"model": KathanHTTPError,
          "description": "An assistant_id, phone_number_id or recipient_list_id that is not "
                         "this workspace's; the detail names the field"},
}

router = APIRouter(prefix="/compat/kathan", tags=["compat: kathan"], route_class=KathanRoute,
                   dependencies=[Security(bearer), Security(user_id_header)],
                   responses=_ERRORS)


# --- translation ----------------------------------------------------------------------------

def _instant(value: str | None, zone: str, field: str) -> str | None:
    """ISO 8601 with an offset as given; a naive value in the workspace's zone."""
    if value is None:
        return None
    parsed = parse_instant(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    try:
        return parsed.astimezone(UTC).isoformat()
    except OverflowError:  # 0001-01-01 east of UTC, 9999-12-31 west of it
        raise RequestValidationError([{
            "type": "value_error", "loc": ("body", field), "input": value,
            "msg": "Value error, is out of range"}]) from None


def _native(body: KathanCampaignCreate, zone: str) -> dict[str, Any]:
    """The native create body of a Kathan request (docs/field-mapping.md, Kathan)."""
    schedule: dict[str, Any] = {}
    start = _instant(body.scheduleStartTime, zone, "scheduleStartTime")
    end = _instant(body.scheduleEndTime, zone, "scheduleEndTime")
    if start is not None:
        schedule["start_at"] = start
    if end is not None:
        schedule["end_at"] = end
    memory: dict[str, Any] = {"use_returning_greeting": body.use_returning_greeting,
                              "use_short_term_summaries": body.use_short_term_summaries,
                              "short_term_summaries_limit": body.short_term_summaries_limit}
    native: dict[str, Any] = {
        "name": body.name,
        "assistant_id": body.assistant_id,
        "channel": body.channel,
        "caller_id": {"mode": "fixed", "phone_number_ids": [body.phone_number_id]},
        "schedule": schedule,
        "concurrency_limit": body.max_concurrency,
        "retry": body.retry_policy or {},
        "speech_settings": body.speech_settings.model_dump()
        if body.speech_settings is not None else None,
        "campaign_context": body.campaign_context,
        "opening_message": body.opening_message_template,
        "memory": memory,
        "contact_list_ids": [body.recipient_list_id] if body.recipient_list_id else [],
        "contacts": [{"phone": r.phone_number, "campaign_metadata": r.metadata,
                      "assistant_overrides": r.assistant_overrides}
                     for r in body.recipients or ()],
    }
    if body.machine_detection_timeout_seconds is not None:
        native["voicemail"] = {"detection_timeout_seconds":
                               body.machine_detection_timeout_seconds}
    return native


# Native field (dotted path prefix) -> the Kathan field it came from; longest prefix first.
# ``True``: the rest of the native path continues inside the Kathan field.
_FIELDS: tuple[tuple[str, Loc, bool], ...] = (
    ("caller_id", ("phone_number_id",), False),
    ("schedule.start_at", ("scheduleStartTime",), False),
    ("schedule.end_at", ("scheduleEndTime",), False),
    ("schedule", ("scheduleStartTime",), False),
    ("concurrency_limit", ("max_concurrency",), False),
    ("retry", ("retry_policy",), True),
    ("opening_message", ("opening_message_template",), False),
    ("memory.use_returning_greeting", ("use_returning_greeting",), False),
    ("memory.use_short_term_summaries", ("use_short_term_summaries",), False),
    ("memory", ("short_term_summaries_limit",), False),
    ("voicemail", ("machine_detection_timeout_seconds",), False),
    ("contact_list_ids", ("recipient_list_id",), False),
)
_CONTACT = re.compile(r"contacts\[(\d+)\](?:\.(\w+))?(.*)")
_RECIPIENT_FIELDS = {"phone": "phone_number", "campaign_metadata": "metadata",
                     "assistant_overrides": "assistant_overrides"}


def kathan_loc(path: str | None) -> Loc:
    """The Kathan field behind a native field path."""
    if not path:
        return ()
    contact = _CONTACT.fullmatch(path)
    if contact is not None:
        index, name, rest = contact.groups()
        if name is None:
            return ("recipients", int(index))
        # Inline contacts take the native contact fields too (e.g. a bad "phone" format is
        # reported on phone_number); others are not Kathan's and never reach here.
        return ("recipients", int(index), _RECIPIENT_FIELDS.get(name, name), *split_path(rest))
    if path == "contacts":
        return ("recipients",)
    for prefix, loc, nested in _FIELDS:
        if path == prefix or path.startswith((prefix + ".", prefix + "[")):
            return loc + split_path(path[len(prefix):]) if nested else loc
    return split_path(path)



def _invalid(errors: list[tuple[str | None, str, str]],
             body: KathanCampaignCreate) -> RequestValidationError:
    """A 422 in FastAPI's shape from native (field path, type, message) errors."""
    return fastapi_422([(kathan_loc(path), kind, message) for path, kind, message in errors],
                       body.model_dump(mode="json"))



def _translate(error: RingwiseError, body: KathanCampaignCreate) -> Exception:
    """A native service error, re-worded with the Kathan field it is about."""
    message = error.message
    if error.field and message.startswith(error.field + ": "):
        message = message[len(error.field) + 2:]
    if isinstance(error, InvalidInput):
        return _invalid([(error.field, "value_error", message)], body)
    if error.field:
        return type(error)(f"{dotted(kathan_loc(error.field))}: {message}", field=error.field)
    return error


# --- response -------------------------------------------------------------------------------

def _status(status: str) -> KathanStatus:
    if status == "scheduled":
        return "running"  # started, waiting for scheduleStartTime
    if status == "canceled":
        return "completed"
    return status  # type: ignore[return-value]  # draft | running | paused | completed


def _response(ctx: Ctx, campaign: Campaign, body: KathanCampaignCreate) -> KathanCampaign:
    assistant = ctx.session.get(Assistant, campaign.assistant_id)
    number = ctx.session.get(PhoneNumber, body.phone_number_id)
    listed = ctx.session.get(ContactList, body.recipient_list_id) \
        if body.recipient_list_id else None
    # No campaign speech settings: the assistant's apply, else the defaults.
    speech = campaign.speech_settings or (assistant.speech_settings if assistant else None) \
        or SpeechSettings().model_dump()
    schedule, memory = campaign.schedule or {}, campaign.memory or {}
    return KathanCampaign(
        id=campaign.id, name=campaign.name, assistant_id=campaign.assistant_id or "",
        channel=campaign.channel or body.channel, phone_number_id=body.phone_number_id,
        status=_status(campaign.status), max_concurrency=campaign.concurrency_limit,
        retry_policy=campaign.retry, speech_settings=KathanSpeechSettings(**speech),
        assistant_name=assistant.name if assistant else None,
        caller_id_number=number.number if number else None,
        schedule_start_time=schedule.get("start_at"), schedule_end_time=schedule.get("end_at"),
        campaign_context=campaign.campaign_context,
        opening_message_template=campaign.opening_message,
        use_returning_greeting=bool(memory.get("use_returning_greeting")),
        use_short_term_summaries=bool(memory.get("use_short_term_summaries")),
        short_term_summaries_limit=memory.get("short_term_summaries_limit"),
        machine_detection_timeout_seconds=(campaign.voicemail or {}).get(
            "detection_timeout_seconds"),
        recipient_list_id=listed.id if listed else None,
        recipient_list_name=listed.name if listed else None,
        recipient_list_row_count=contact_lists.member_counts(ctx, [listed.id])[listed.id]
        if listed else None,
        counts=CampaignCounts.model_validate(campaigns.get_counters(ctx.session, campaign.id)),
        created_at=_iso(campaign.created_at), updated_at=_iso(campaign.updated_at))


def _iso(value: datetime | None) -> str | None:
    """Like the native API: UTC with a 'Z'."""
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- route ----------------------------------------------------------------------------------

@router.post("/campaign", status_code=200, response_model=KathanCampaign,
             summary="Kathan: create a campaign (a draft, with its recipients)")
def create_campaign(body: KathanCampaignCreate, ctx: Ctx = Depends(get_ctx)) -> KathanCampaign:
    try:
        native = CampaignCreate.model_validate(_native(body, ctx.workspace.timezone))
    except ValidationError as exc:
        # Kathan's model checks what the page states; this catches the native rules on top
        # (lengths, templates, retry keys, assistant override keys, NUL characters ...).
        raise _invalid(native_errors(exc), body) from None
    try:
        campaign, _ = campaigns.create_campaign(ctx, native)
    except RingwiseError as exc:
        raise _translate(exc, body) from None
    return _response(ctx, campaign, body)
