"""/compat/kayse: Kayse AI's campaigns API (shared/seeds/002_225ed1004cde9c63.txt) translated
onto native campaigns, contact lists and assistants. docs/compat.md maps every field.

Kayse shows integer ids: campaigns and case lists (native contact lists) get theirs from
``ringwise.compat.ids``. A campaign is created and started in one transaction (Kayse has no
start call: its runs say when it dials); its ``report_schedule`` becomes the native campaign
report in that same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.exc import IntegrityError

from ringwise.api.errors import error_body, validation_response
from ringwise.api.routers.base import api_key_header, bearer
from ringwise.api.routing import WorkspaceRoute, get_ctx
from ringwise.api.schemas.campaigns import (
    MAX_CONCURRENCY,
    MAX_RUNS,
    CampaignCreate,
    ReportSchedule,
    Run,
)
from ringwise.api.schemas.common import ErrorResponse, Strict
from ringwise.compat import ids
from ringwise.compat.common import native_campaign
from ringwise.core.hours import TimeSlot, check_slots
from ringwise.db.engine import Database
from ringwise.db.models import Campaign, ContactList
from ringwise.errors import FieldError, NotFound, RingwiseError
from ringwise.services import campaign_stats, campaigns, contact_lists
from ringwise.services.context import Ctx
from ringwise.services.pagination import MAX_LIMIT

SYSTEM = "kayse"
CAMPAIGN = "campaign"
CASE_LIST = "contact_list"
ORIGIN = "public_api"  # every campaign is reached through this API as far as Kayse can tell
_MAX_ID = 2**31 - 1  # compat_ids.id is a 32-bit integer on PostgreSQL
_META_KEY = "kayse"  # native campaign metadata: {"kayse": {"case_list_id": 123}}

# Native field -> Kayse field, longest prefix first (errors of the native services name
# native fields; a Kayse client must see its own names).
_FIELDS: tuple[tuple[str, str], ...] = (
    ("schedule.business_hours", "business_hours"),
    ("schedule.use_workspace_business_hours", "use_company_hours"),
    ("schedule.runs", "runs"),
    ("options.on_behalf_of_clients", "is_obo"),
    ("options.", ""),
    ("contact_list_ids", "case_list_id"),
    ("contacts", "case_list_id"),  # start's "no contacts": the case list is empty
    ("assistant_id", "agent_id"),
)


def kayse_field(field: str | None) -> str | None:
    """The Kayse name of a native field path (unchanged when Kayse has the same name)."""
    if field is None:
        return None
    for native, foreign in _FIELDS:
        if field == native or (field.startswith(native) and (
                native.endswith(".") or field[len(native)] in ".[")):
            if native == "contact_list_ids":
                return foreign  # contact_list_ids[0] is the one case list
            return foreign + field[len(native):]
    return field


def _retarget(message: str, native: str | None, foreign: str | None) -> str:
    if native and foreign and native != foreign and message.startswith(f"{native}:"):
        return foreign + message[len(native):]
    return message


class KayseRoute(WorkspaceRoute):
    """The native route (auth, one transaction), with errors naming Kayse's fields."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await inner(request)  # rolled back already when it raises
            except RequestValidationError as exc:
                return validation_response(exc.errors())
            except RingwiseError as exc:
                field = kayse_field(exc.field)
                return JSONResponse(
                    status_code=exc.status_code,
                    content=error_body(exc.code, _retarget(exc.message, exc.field, field),
                                       field, exc.details))

        return handler


router = APIRouter(
    prefix="/compat/kayse", tags=["compat: kayse"], route_class=KayseRoute,
    dependencies=[Security(api_key_header), Security(bearer)],
    responses={
        401: {"model": ErrorResponse, "description": "Missing, unknown or revoked API key "
                                                     "(X-API-KEY: a Ringwise workspace key)"},
        404: {"model": ErrorResponse, "description": "agent_id or case_list_id is not this "
                                                     "workspace's"},
        409: {"model": ErrorResponse, "description": "The campaign cannot start: campaigns "
                                                     "disabled, empty case list, no caller "
                                                     "number"},
        422: {"model": ErrorResponse, "description": "A field is invalid; `field` names it "
                                                     "(Kayse's name)"},
    },
)


# --- bodies ---------------------------------------------------------------------------------

_EXAMPLE: dict[str, Any] = {
    "name": "Outreach Campaign", "agent_id": "6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f",
    "case_list_id": 123, "is_obo": False, "calls_scheduled_externally": False,
    "runs": [{"client_run_id": "run-1", "start_date": "2026-02-20", "end_date": "2026-02-20",
              "start_time": "09:00", "end_time": "17:00", "messaging_only": False}],
    "report_schedule": {"name": "Weekly Campaign Report", "run_client_ids": ["run-1"],
                        "frequency": "weekly", "weekday": 2, "time": "09:30",
                        "recipients": ["reports@firm.com"], "format": "csv",
                        "date_range": "cumulative", "filters": {}},
}


class KayseCampaignCreate(Strict):
    """Kayse's create body, as documented; unknown fields are refused."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    name: str = Field(min_length=1, max_length=255, examples=["Outreach Campaign"])
    agent_id: str | None = Field(
        default=None, min_length=1, max_length=64,
        examples=["6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f"],
        description="A Ringwise assistant's id; required unless every run is messaging_only")
    case_list_id: int = Field(strict=True, ge=1, le=_MAX_ID, examples=[123],
                              description="A contact list's integer id "
                                          "(GET /compat/kayse/v1/case-lists)")
    is_obo: bool = Field(default=False, examples=[False])
    calls_scheduled_externally: bool = Field(default=False, examples=[False])
    never_ending: bool = Field(default=False, examples=[False])
    concurrency_limit: int = Field(default=0, strict=True, ge=0, le=MAX_CONCURRENCY,
                                   examples=[5], description="0: unlimited (the workspace's "
                                                             "limit)")
    self_healing_disabled: bool = Field(default=False, examples=[False])
    form_id: int | None = Field(default=None, strict=True, examples=[7])
    use_company_hours: bool = Field(default=False, examples=[False])
    business_hours: list[TimeSlot] | None = Field(
        default=None, max_length=24,
        examples=[[{"start_time": "09:00", "end_time": "12:00"}]],
        description="Required when use_company_hours is true; slots inside 08:00-21:00")
    runs: list[Run] = Field(min_length=1, max_length=MAX_RUNS)
    report_schedule: ReportSchedule | None = None

    @model_validator(mode="after")
    def _rules(self) -> KayseCampaignCreate:
        if self.business_hours is not None:
            check_slots(self.business_hours, "business_hours")
        if self.use_company_hours and not self.business_hours:
            raise FieldError("business_hours", "required when use_company_hours is true")
        calling = [i for i, run in enumerate(self.runs) if not run.messaging_only]
        for index in calling:
            if not self.runs[index].has_times and not self.use_company_hours:
                raise FieldError(f"runs[{index}].start_time",
                                 "required for a run that is not messaging_only")
        if calling and self.agent_id is None:
            raise FieldError("agent_id", "required unless every run is messaging_only")
        if self.report_schedule is not None:
            known = {run.client_run_id for run in self.runs}
            for index, run_id in enumerate(self.report_schedule.run_client_ids):
                if run_id not in known:
                    raise FieldError(f"report_schedule.run_client_ids[{index}]",
                                     f"'{run_id}' is not the client_run_id of any run")
        return self


class KayseCreated(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 1}]})

    id: int = Field(examples=[1])


class KayseSlot(BaseModel):
    start_time: str = Field(examples=["09:00"])
    end_time: str = Field(examples=["12:00"])


class KayseSettings(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "is_enabled": True, "concurrency_rate": 70,
        "business_hours": [{"start_time": "09:00", "end_time": "12:00"},
                           {"start_time": "13:00", "end_time": "17:00"}]}]})

    is_enabled: bool = Field(examples=[True])
    concurrency_rate: int = Field(examples=[70])
    business_hours: list[KayseSlot] | None = Field(examples=[[
        {"start_time": "09:00", "end_time": "12:00"}]])


class KayseStats(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "total_calls": 132, "success_calls": 85, "success_calls_percentage": 70.8,
        "failed_calls": 35, "average_sentiment_score": 0.76, "conversion_rate": 42.1}]})

    total_calls: int = Field(examples=[132])
    success_calls: int = Field(examples=[85])
    success_calls_percentage: float | None = Field(examples=[70.8])
    failed_calls: int = Field(examples=[35])
    average_sentiment_score: float | None = Field(examples=[0.76])
    conversion_rate: float | None = Field(examples=[42.1])


class KayseCampaign(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 1, "name": "Outreach Campaign", "agent_id": "6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f",
        "case_list_id": 123, "origin": ORIGIN, "update_origin": None,
        "stats": KayseStats.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
    }]})

    id: int = Field(examples=[1])
    name: str = Field(examples=["Outreach Campaign"])
    agent_id: str | None = Field(examples=["6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f"])
    case_list_id: int | None = Field(examples=[123])
    origin: str = Field(examples=[ORIGIN])
    update_origin: str | None = Field(examples=[None])
    stats: KayseStats


class KayseCaseList(BaseModel):
    """A native contact list under the integer id Kayse bodies use."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 123, "name": "Case list", "contact_count": 250,
        "native_id": "5d0c7a2e-1b7f-4c1a-8e0e-9a3f6b2d4c11"}]})

    id: int = Field(examples=[123])
    name: str = Field(examples=["Case list"])
    contact_count: int = Field(examples=[250])
    native_id: str = Field(examples=["5d0c7a2e-1b7f-4c1a-8e0e-9a3f6b2d4c11"],
                           description="Its id in /v1/contact-lists")


# --- translation ----------------------------------------------------------------------------

def native_body(ctx: Ctx, body: KayseCampaignCreate) -> CampaignCreate:
    """The native create body; InvalidInput naming the native field if the native schema
    refuses something the Kayse model let through (the route renames it)."""
    list_id = ids.native_id(ctx.session, SYSTEM, CASE_LIST, ctx.workspace_id, body.case_list_id)
    if list_id is None:
        raise NotFound(f"case list {body.case_list_id} not found", field="case_list_id")
    schedule: dict[str, Any] = {"runs": [run.model_dump(mode="json") for run in body.runs]}
    if body.use_company_hours:  # business hours replace the runs' own times
        schedule["business_hours"] = [s.model_dump() for s in body.business_hours or ()]
    defaults = ctx.workspace.compat or {}
    data: dict[str, Any] = {
        "name": body.name,
        "assistant_id": body.agent_id,
        "contact_list_ids": [list_id],
        # Kayse names no caller number: the compat defaults, else every number of the
        # workspace (the pool is decided at dial time).
        "caller_id": {"mode": "pool",
                      "phone_number_ids": list(defaults.get("phone_number_ids") or [])},
        "schedule": schedule,
        "concurrency_limit": body.concurrency_limit,
        "never_ending": body.never_ending,
        "report_schedule": (body.report_schedule.model_dump(mode="json")
                            if body.report_schedule is not None else None),
        "options": {"on_behalf_of_clients": body.is_obo,
                    "calls_scheduled_externally": body.calls_scheduled_externally,
                    "self_healing_disabled": body.self_healing_disabled,
                    "form_id": body.form_id},
        "metadata": {_META_KEY: {"case_list_id": body.case_list_id}},
        "auto_start": True,  # Kayse has no start call: the runs say when it dials
    }
    return native_campaign(data)


def _allocate(db: Database, kind: str, workspace_id: str, native_ids: Sequence[str],
              at: datetime) -> dict[str, int]:
    """Integer ids for objects that have none yet, in their own short write transaction: a
    GET's read transaction must not take SQLite's write lock."""
    for attempt in range(2):
        try:
            with db.transaction() as session:
                return {n: ids.external_id(session, SYSTEM, kind, workspace_id, n, at)
                        for n in native_ids}
        except IntegrityError:  # PostgreSQL: a concurrent request allocated one first
            if attempt:
                raise
    raise AssertionError("unreachable")


def _integer_ids(request: Request, ctx: Ctx, kind: str,
                 native_ids: Sequence[str]) -> dict[str, int]:
    known = ids.external_ids(ctx.session, SYSTEM, kind, list(native_ids))
    missing = [n for n in native_ids if n not in known]
    if missing:
        known.update(_allocate(request.app.state.ringwise.db, kind, ctx.workspace_id,
                               missing, ctx.now))
    return known


def _case_list_of(campaign: Campaign) -> int | None:
    value = ((campaign.metadata_ or {}).get(_META_KEY) or {})
    found = value.get("case_list_id") if isinstance(value, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def _all_campaigns(ctx: Ctx, search: str | None) -> list[Campaign]:
    """Every matching campaign (Kayse's list is not paginated), newest first."""
    found: list[Campaign] = []
    cursor: str | None = None
    while True:
        page = campaigns.list_campaigns(ctx, limit=MAX_LIMIT, cursor=cursor, search=search)
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


# --- routes ---------------------------------------------------------------------------------

@router.post("/v1/campaigns", status_code=201, response_model=KayseCreated,
             summary="Kayse: create a campaign (started at once; its runs say when it dials)")
def create_campaign(body: KayseCampaignCreate, ctx: Ctx = Depends(get_ctx)) -> KayseCreated:
    campaign, _ = campaigns.create_campaign(ctx, native_body(ctx, body))
    return KayseCreated(id=ids.external_id(ctx.session, SYSTEM, CAMPAIGN, ctx.workspace_id,
                                           campaign.id, ctx.now))


@router.get("/v1/campaigns/settings", response_model=KayseSettings,
            summary="Kayse: campaign feature status, concurrency rate, business hours")
def get_settings(ctx: Ctx = Depends(get_ctx)) -> KayseSettings:
    workspace = ctx.workspace
    return KayseSettings.model_validate({
        "is_enabled": workspace.campaigns_enabled,
        "concurrency_rate": workspace.concurrency_rate,
        "business_hours": workspace.business_hours or None})


@router.get("/v1/campaigns", response_model=list[KayseCampaign],
            summary="Kayse: list campaigns with their stats")
def list_campaigns(
    request: Request,
    key: str | None = Query(None, max_length=255, description="Search term (name or "
                                                              "description, any case)"),
    ctx: Ctx = Depends(get_ctx),
) -> list[KayseCampaign]:
    rows = _all_campaigns(ctx, key)
    numbers = _integer_ids(request, ctx, CAMPAIGN, [c.id for c in rows])
    stats = campaign_stats.summaries(ctx, rows)
    return [KayseCampaign(
        id=numbers[c.id], name=c.name, agent_id=c.assistant_id, case_list_id=_case_list_of(c),
        origin=ORIGIN, update_origin=None,
        stats=KayseStats.model_validate(stats[c.id].model_dump())) for c in rows]


@router.get("/v1/case-lists", response_model=list[KayseCaseList],
            summary="Ringwise addition: contact lists with the integer ids case_list_id takes")
def list_case_lists(
    request: Request,
    key: str | None = Query(None, max_length=255, description="Search term (name or "
                                                              "description, any case)"),
    ctx: Ctx = Depends(get_ctx),
) -> list[KayseCaseList]:
    rows: list[ContactList] = []
    cursor: str | None = None
    while True:
        page = contact_lists.list_lists(ctx, limit=MAX_LIMIT, cursor=cursor, search=key)
        rows.extend(page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    numbers = _integer_ids(request, ctx, CASE_LIST, [r.id for r in rows])
    counts = contact_lists.member_counts(ctx, [r.id for r in rows])
    return [KayseCaseList(id=numbers[r.id], name=r.name, contact_count=counts[r.id],
                          native_id=r.id) for r in rows]
