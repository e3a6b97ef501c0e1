"""/compat/kejue: Kejue's ``POST /api/v1/campaigns``, translated onto native campaigns.

A Kejue client changes only its base URL and key (docs/compat.md). The request becomes a
native ``CampaignCreate`` run through ``services.campaigns.create_campaign``, so the campaign
shows in ``/v1/campaigns`` and runs on the native dialer. Errors have the shapes of the FastAPI
application the page documents: ``{"detail": [...]}`` (422) for invalid input, ``{"detail":
"..."}`` for everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request, Response, Security
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from ringwise.api.routers.base import api_key_header
from ringwise.api.routing import WorkspaceRoute, get_ctx
from ringwise.api.schemas.campaigns import CampaignCreate
from ringwise.api.schemas.compat_settings import CompatDefaults
from ringwise.compat.common import Loc, dotted, fastapi_422, native_errors, split_path
from ringwise.compat.kejue_schemas import (
    WEEKDAY_NAMES,
    KejueCallSettings,
    KejueCampaignCreate,
    KejueCampaignCreated,
    KejueHTTPError,
)
from ringwise.errors import AuthenticationFailed, Conflict, InvalidInput, RingwiseError
from ringwise.services import campaigns
from ringwise.services.context import Ctx


class KejueRoute(WorkspaceRoute):
    """The native route (auth, one transaction) with Kejue's error bodies. The transaction is
    already rolled back when an exception leaves the inner handler."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await inner(request)
            except RequestValidationError as exc:
                return JSONResponse(status_code=422,
                                    content={"detail": jsonable_encoder(exc.errors())})
            except AuthenticationFailed as exc:
                # FastAPI's APIKeyHeader answers a missing key with exactly this.
                missing = not request.headers.get("x-api-key") \
                    and not request.headers.get("authorization")
                return JSONResponse(status_code=401,
                                    content={"detail": "Not authenticated" if missing
                                             else exc.message},
                                    headers={"WWW-Authenticate": "APIKey"})
            except RingwiseError as exc:
                return JSONResponse(status_code=exc.status_code,
                                    content={"detail": exc.message})

        return handler


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": KejueHTTPError, "description": "Missing or unknown X-API-Key"},
    404: {"model": KejueHTTPError,
          "description": "A persona_id, voice_config_id or contact id that is not this "
                         "workspace's; the detail names the field"},
    409: {"model": KejueHTTPError,
          "description": "auto_start without what a start needs (persona, contacts, a caller "
                         "number), or the workspace's compat defaults are unusable"},
}

router = APIRouter(prefix="/compat/kejue", tags=["compat: kejue"], route_class=KejueRoute,
                   dependencies=[Security(api_key_header)], responses=_ERRORS)


# --- translation ----------------------------------------------------------------------------

def _hour(hour: int) -> str:
    return f"{hour:02d}:00"


def _native(body: KejueCampaignCreate, defaults: CompatDefaults) -> dict[str, Any]:
    """The native create body of a Kejue request (workspace defaults where Kejue is silent)."""
    ref = body.assistant_ref
    settings = body.call_settings or KejueCallSettings()
    schedule: dict[str, Any] = {}
    if settings.allowed_days is not None:
        schedule["days"] = [WEEKDAY_NAMES[day] for day in settings.allowed_days]
    if settings.call_start_hour is not None or settings.call_end_hour is not None:
        # Only one bound given: the window runs from midnight, or to the end of the day.
        schedule["call_hours"] = {"start_time": _hour(settings.call_start_hour or 0),
                                  "end_time": _hour(settings.call_end_hour or 24)}
    if body.scheduled_start_at is not None:
        schedule["local_start_at"] = body.scheduled_start_at
    retry: dict[str, Any] = {}
    if settings.auto_retry is not None:
        retry["auto_retry"] = settings.auto_retry
    if settings.retry_schedule is not None:
        retry["delays_minutes"] = settings.retry_schedule
    analysis: dict[str, Any] | None = None
    if any(v is not None for v in (settings.scoring_criteria, settings.structured_data_schema,
                                   settings.tags)):
        analysis = {
            "scoring_criteria": settings.scoring_criteria,
            "structured_data_schema": [f.model_dump() for f in
                                       settings.structured_data_schema or ()],
            "tags": [t.model_dump() for t in settings.tags or ()],
        }
    return {
        "name": body.name,
        "description": body.description,
        "assistant_id": ref[1] if ref else defaults.assistant_id,
        # Kejue names no caller number: the workspace's compat defaults, else all its numbers.
        "caller_id": {"mode": "local_presence" if settings.phone_assignment_mode == "local"
                      else "pool", "phone_number_ids": list(defaults.phone_number_ids)},
        "schedule": schedule,
        "retry": retry,
        "analysis": analysis,
        "priority": body.priority,
        "metadata": body.metadata,
        "contact_ids": body.contact_ids or [],
        "auto_start": body.auto_start,
    }


# Native field (dotted path prefix) -> the Kejue field it came from; longest prefix first.
_FIELDS: tuple[tuple[str, Loc], ...] = (
    ("schedule.call_hours.start_time", ("call_settings", "call_start_hour")),
    ("schedule.call_hours", ("call_settings", "call_end_hour")),
    ("schedule.days", ("call_settings", "allowed_days")),
    ("schedule.local_start_at", ("scheduled_start_at",)),
    ("retry.delays_minutes", ("call_settings", "retry_schedule")),
    ("retry", ("call_settings", "auto_retry")),
    ("analysis.scoring_criteria", ("call_settings", "scoring_criteria")),
    ("analysis.structured_data_schema", ("call_settings", "structured_data_schema")),
    ("analysis.tags", ("call_settings", "tags")),
    ("analysis", ("call_settings",)),
    ("schedule", ("call_settings",)),
)


def _kejue_loc(path: str | None, body: KejueCampaignCreate) -> Loc | None:
    """The Kejue field behind a native field path; None for what the workspace's compat
    defaults supplied (the client cannot fix those)."""
    if not path:
        return ()
    if path.startswith("caller_id"):
        return None
    if path.startswith("assistant_id"):
        ref = body.assistant_ref
        return (ref[0],) if ref else None
    for prefix, loc in _FIELDS:
        if path == prefix or path.startswith((prefix + ".", prefix + "[")):
            rest = split_path(path[len(prefix):])
            # A Kejue field that is a scalar has no native sub-fields to point into.
            return loc + rest if loc[-1] in ("retry_schedule", "structured_data_schema",
                                             "tags", "allowed_days") else loc
    return split_path(path)



def _defaults_error(message: str) -> Conflict:
    return Conflict(f"the workspace's compat defaults cannot be used: {message} (set them "
                    "with PATCH /v1/settings {\"compat\": {...}})")


def _invalid(errors: list[tuple[str | None, str, str]], body: KejueCampaignCreate) -> Exception:
    """A 422 in FastAPI's shape from native (field path, type, message) errors."""
    located: list[tuple[Loc, str, str]] = []
    for path, kind, message in errors:
        loc = _kejue_loc(path, body)
        if loc is None:
            return _defaults_error(f"{path}: {message}")
        located.append((loc, kind, message))
    return fastapi_422(located, body.model_dump(mode="json"))


def _translate(error: RingwiseError, body: KejueCampaignCreate) -> Exception:
    """A native service error, re-worded with the Kejue field it is about."""
    if isinstance(error, InvalidInput):
        message = error.message
        if error.field and message.startswith(error.field + ": "):
            message = message[len(error.field) + 2:]
        return _invalid([(error.field, "value_error", message)], body)
    loc = _kejue_loc(error.field, body)
    if error.field and loc is None:
        if error.status_code == 404:
            return type(error)(f"a compat default no longer exists: {error.message} (update "
                               "PATCH /v1/settings compat)", field=error.field)
        return type(error)(f"{error.message} (workspace compat defaults)", field=error.field)
    if loc:
        return type(error)(f"{dotted(loc)}: {error.message}", field=error.field)
    return error


def _check_startable(body: KejueCampaignCreate, native: CampaignCreate) -> None:
    """auto_start prerequisites in Kejue's words (the native check names native fields)."""
    if not body.auto_start:
        return
    if native.assistant_id is None:
        raise Conflict("auto_start needs persona_id or voice_config_id (the workspace has no "
                       "compat default assistant)")
    if not native.contact_ids:
        raise Conflict("auto_start needs contacts: contact_ids is empty")


@router.post("/api/v1/campaigns", status_code=200, response_model=KejueCampaignCreated,
             summary="Kejue: create a campaign (optionally with contacts, optionally started)")
def create_campaign(body: KejueCampaignCreate,
                    ctx: Ctx = Depends(get_ctx)) -> KejueCampaignCreated:
    defaults = CompatDefaults.model_validate(ctx.workspace.compat or {})
    try:
        native = CampaignCreate.model_validate(_native(body, defaults))
    except ValidationError as exc:
        # Kejue's own model checks what the page states; this catches the native rules on top
        # (NUL characters, for one), named by the Kejue field.
        raise _invalid(native_errors(exc), body) from None
    _check_startable(body, native)
    try:
        campaign, added = campaigns.create_campaign(ctx, native)
    except RingwiseError as exc:
        raise _translate(exc, body) from None
    return KejueCampaignCreated(
        id=campaign.id, name=campaign.name, status=campaign.status,
        created_at=campaign.created_at, persona_id=campaign.assistant_id,
        contacts_added=added.added,
        scheduled_start_at=(campaign.schedule or {}).get("local_start_at"))
