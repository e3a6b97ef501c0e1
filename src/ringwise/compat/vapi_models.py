"""Request and response shapes of /compat/vapi (docs/compat.md): Vapi's camelCase
``POST /campaign`` body and ``Campaign`` object, validated here; the cross-field rules the page
states (one of assistantId / workflowId / squadId, phoneNumberId xor dialPlan, customers
without dialPlan) are model validators naming the Vapi field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from ringwise.api.schemas.common import Strict
from ringwise.api.schemas.contacts import MAX_BULK
from ringwise.errors import FieldError

VapiStatus = Literal["scheduled", "in-progress", "ended"]
VapiEndedReason = Literal["campaign.scheduled.ended-by-user",
                          "campaign.in-progress.ended-by-user", "campaign.ended.success"]
ASSISTANT_KEYS = ("assistantId", "workflowId", "squadId")
MAX_DIAL_PLAN = 1_000  # entries: the native caller_id pool bound

_ID = "a4b8c1d2-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
_NUMBER_ID = "9c0d7e4a-1f2b-4c3d-8e5f-6a7b8c9d0e1f"
_CUSTOMER: dict[str, Any] = {"number": "+12125550100", "name": "Ann Lee",
                             "email": "ann@example.com", "externalId": "crm-1"}


class _Camel(Strict):
    """Vapi bodies: camelCase names, unknown properties refused (Vapi whitelists too)."""

    model_config = ConfigDict(alias_generator=to_camel)


class VapiAssistantOverrides(_Camel):
    """The subset of Vapi's per-customer ``assistantOverrides`` Ringwise can honour."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"firstMessage": "Hi {{first_name}}, it's Riley.", "variableValues": {"plan": "Pro"}},
    ]})

    first_message: str | None = Field(default=None, max_length=5_000,
                                      examples=["Hi {{first_name}}, it's Riley."])
    voicemail_message: str | None = Field(default=None, max_length=5_000,
                                          examples=["Please call us back."])
    variable_values: dict[str, Any] | None = Field(default=None, examples=[{"plan": "Pro"}])

    @field_validator("variable_values")
    @classmethod
    def _scalars(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        # The native template variables are scalars; one message, not one per JSON type.
        for key, item in (value or {}).items():
            if item is not None and not isinstance(item, str | int | float | bool):
                raise FieldError(key, "values must be text, numbers, booleans or null")
        return value


class VapiCustomer(_Camel):
    """A customer to call (Vapi's CreateCustomerDTO, phone customers only)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CUSTOMER]})

    number: str | None = Field(default=None, max_length=64, examples=["+12125550100"],
                               description="E.164 (or national format in the workspace's "
                                           "default region)")
    name: str | None = Field(default=None, max_length=511, examples=["Ann Lee"],
                             description="Split at the last space into first / last name")
    email: str | None = Field(default=None, max_length=320, examples=["ann@example.com"])
    external_id: str | None = Field(default=None, max_length=255, examples=["crm-1"],
                                    description="Stored as the contact's metadata.external_id")
    number_e164_check_enabled: bool = Field(
        default=True, examples=[True],
        description="Accepted; Ringwise always requires a number it can parse")
    extension: str | None = Field(default=None, examples=[None],
                                  description="Not supported: refused when given")
    sip_uri: str | None = Field(default=None, examples=[None],
                                description="Not supported: refused when given")
    assistant_overrides: VapiAssistantOverrides | None = None

    @model_validator(mode="after")
    def _phone_only(self) -> VapiCustomer:
        # Ringwise dials phone numbers; silently dropping an extension or a SIP address would
        # call someone else, so these are refused rather than ignored.
        if self.sip_uri is not None:
            raise FieldError("sipUri", "SIP customers are not supported; give number")
        if self.extension is not None:
            raise FieldError("extension", "dialing an extension is not supported")
        if not self.number:
            raise FieldError("number", "is required")
        return self

    def native(self) -> dict[str, Any]:
        """The native inline contact (CampaignContactInput) of this customer."""
        contact: dict[str, Any] = {"phone": self.number}
        if self.name:
            first, _, last = self.name.strip().rpartition(" ")
            contact["first_name"], contact["last_name"] = (first, last) if first else (last, None)
        if self.email:
            contact["email"] = self.email
        if self.external_id:
            contact["metadata"] = {"external_id": self.external_id}
        overrides = self.assistant_overrides
        if overrides is not None:
            contact["assistant_overrides"] = {k: v for k, v in {
                "first_message": overrides.first_message,
                "voicemail_message": overrides.voicemail_message,
                "variables": overrides.variable_values}.items() if v is not None}
        return contact


class VapiDialPlanEntry(_Camel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"phoneNumberId": _NUMBER_ID, "customers": [_CUSTOMER]}]})

    phone_number_id: str = Field(min_length=1, max_length=64, examples=[_NUMBER_ID])
    customers: list[VapiCustomer] = Field(min_length=1, max_length=MAX_BULK)


class VapiSchedulePlan(_Camel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"earliestAt": "2026-03-02T16:00:00.000Z", "latestAt": "2026-03-02T20:00:00.000Z"}]})

    earliest_at: AwareDatetime = Field(examples=["2026-03-02T16:00:00.000Z"],
                                       description="First instant a call may be placed")
    latest_at: AwareDatetime | None = Field(
        default=None, examples=["2026-03-02T20:00:00.000Z"],
        description="No call is placed at or after it; calls not placed by then are dropped")

    @model_validator(mode="after")
    def _order(self) -> VapiSchedulePlan:
        if self.latest_at is not None and self.latest_at <= self.earliest_at:
            raise FieldError("latestAt", "must be after earliestAt")
        return self


class VapiCampaignCreate(_Camel):
    """``POST /campaign``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "Q2 renewals", "assistantId": _ID, "phoneNumberId": _NUMBER_ID,
        "schedulePlan": {"earliestAt": "2026-03-02T16:00:00.000Z",
                         "latestAt": "2026-03-02T20:00:00.000Z"},
        "customers": [_CUSTOMER],
    }]})

    name: str = Field(min_length=1, max_length=255, examples=["Q2 renewals"])
    assistant_id: str | None = Field(default=None, max_length=64, examples=[_ID])
    workflow_id: str | None = Field(default=None, max_length=64, examples=[None])
    squad_id: str | None = Field(default=None, max_length=64, examples=[None])
    phone_number_id: str | None = Field(default=None, min_length=1, max_length=64,
                                        examples=[_NUMBER_ID])
    dial_plan: list[VapiDialPlanEntry] | None = Field(default=None, min_length=1,
                                                      max_length=MAX_DIAL_PLAN)
    schedule_plan: VapiSchedulePlan | None = None
    customers: list[VapiCustomer] | None = Field(default=None, max_length=MAX_BULK)

    @model_validator(mode="after")
    def _rules(self) -> VapiCampaignCreate:
        given = [k for k, v in zip(ASSISTANT_KEYS, self.assistant_choice, strict=True) if v]
        if len(given) > 1:
            raise FieldError(given[1], "only one of assistantId, workflowId, or squadId can "
                                       "be used")
        if self.dial_plan is not None:
            if self.phone_number_id is not None:
                raise FieldError("phoneNumberId", "phoneNumberId and dialPlan are mutually "
                                                  "exclusive")
            if self.customers is not None:
                raise FieldError("customers", "with dialPlan, customers are given in its "
                                              "entries")
            total = sum(len(e.customers) for e in self.dial_plan)
            if total > MAX_BULK:
                raise FieldError("dialPlan", f"at most {MAX_BULK} customers in all")
        else:
            if self.phone_number_id is None:
                raise FieldError("phoneNumberId", "is required if dialPlan is not provided")
            if not self.customers:
                raise FieldError("customers", "is required if dialPlan is not provided")
        return self

    @property
    def assistant_choice(self) -> tuple[str | None, str | None, str | None]:
        return self.assistant_id, self.workflow_id, self.squad_id


# --- responses ------------------------------------------------------------------------------

class VapiCustomerOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_CUSTOMER]})

    number: str = Field(examples=["+12125550100"])
    name: str | None = Field(default=None, examples=["Ann Lee"])
    email: str | None = Field(default=None, examples=["ann@example.com"])
    externalId: str | None = Field(default=None, examples=["crm-1"])


class VapiDialPlanEntryOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"phoneNumberId": _NUMBER_ID, "customers": [_CUSTOMER]}]})

    phoneNumberId: str = Field(examples=[_NUMBER_ID])
    customers: list[VapiCustomerOut]


class VapiSchedulePlanOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"earliestAt": "2026-03-02T16:00:00.000Z", "latestAt": "2026-03-02T20:00:00.000Z"}]})

    earliestAt: str | None = Field(default=None, examples=["2026-03-02T16:00:00.000Z"])
    latestAt: str | None = Field(default=None, examples=["2026-03-02T20:00:00.000Z"])


_CALL: dict[str, Any] = {
    "status": "ended", "endedReason": "customer-ended-call",
    "customer": {"number": "+12125550100"}, "phoneNumberId": _NUMBER_ID,
    "createdAt": "2026-03-02T16:00:00.000Z", "startedAt": "2026-03-02T16:00:00.000Z",
    "endedAt": "2026-03-02T16:01:30.000Z"}


class VapiCampaignCall(BaseModel):
    """One call of the campaign (the native call, GET /v1/calls/{id})."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CALL]})

    status: str = Field(examples=["ended"], description="queued | ringing | in-progress | "
                                                        "ended")
    endedReason: str | None = Field(default=None, examples=["customer-ended-call"])
    customer: dict[str, str] = Field(examples=[{"number": "+12125550100"}])
    phoneNumberId: str | None = Field(default=None, examples=[_NUMBER_ID])
    createdAt: str = Field(examples=["2026-03-02T16:00:00.000Z"])
    startedAt: str | None = Field(default=None, examples=["2026-03-02T16:00:00.000Z"])
    endedAt: str | None = Field(default=None, examples=["2026-03-02T16:01:30.000Z"])


_CAMPAIGN: dict[str, Any] = {
    "status": "ended", "endedReason": "campaign.ended.success", "name": "Q2 renewals",
    "assistantId": _ID, "workflowId": None, "squadId": None, "phoneNumberId": _NUMBER_ID,
    "dialPlan": None,
    "schedulePlan": {"earliestAt": "2026-03-02T16:00:00.000Z",
                     "latestAt": "2026-03-02T20:00:00.000Z"},
    "customers": [_CUSTOMER], "id": "3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8",
    "orgId": "0e1d2c3b-4a59-4876-9543-210fedcba987",
    "createdAt": "2026-03-02T15:00:00.000Z", "updatedAt": "2026-03-02T16:01:30.000Z",
    "calls": {"5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b": _CALL},
    "callsCounterScheduled": 0, "callsCounterQueued": 0, "callsCounterInProgress": 0,
    "callsCounterEndedVoicemail": 0, "callsCounterEnded": 1,
}


class VapiCampaign(BaseModel):
    """Vapi's Campaign object."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CAMPAIGN]})

    status: VapiStatus = Field(examples=["ended"])
    endedReason: VapiEndedReason | None = Field(
        default=None, examples=["campaign.ended.success"])
    name: str = Field(examples=["Q2 renewals"])
    assistantId: str | None = Field(default=None, examples=[_ID])
    workflowId: str | None = Field(default=None, examples=[None])
    squadId: str | None = Field(default=None, examples=[None])
    phoneNumberId: str | None = Field(default=None, examples=[_NUMBER_ID])
    dialPlan: list[VapiDialPlanEntryOut] | None = Field(default=None, examples=[None])
    schedulePlan: VapiSchedulePlanOut | None = None
    customers: list[VapiCustomerOut] | None = Field(default=None, examples=[[_CUSTOMER]])
    id: str = Field(examples=["3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8"])
    orgId: str = Field(examples=["0e1d2c3b-4a59-4876-9543-210fedcba987"],
                       description="The Ringwise workspace")
    createdAt: str = Field(examples=["2026-03-02T15:00:00.000Z"])
    updatedAt: str = Field(examples=["2026-03-02T16:01:30.000Z"])
    calls: dict[str, VapiCampaignCall] = Field(examples=[{"5e6f7a8b-...": _CALL}])
    callsCounterScheduled: int = Field(examples=[0])
    callsCounterQueued: int = Field(examples=[0])
    callsCounterInProgress: int = Field(examples=[0])
    callsCounterEndedVoicemail: int = Field(examples=[0])
    callsCounterEnded: int = Field(examples=[1])


class VapiPaginationMeta(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"itemsPerPage": 100, "totalItems": 1, "currentPage": 1}]})

    itemsPerPage: int = Field(examples=[100])
    totalItems: int = Field(examples=[1])
    currentPage: int = Field(examples=[1])


class VapiCampaignPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"results": [_CAMPAIGN], "metadata": {"itemsPerPage": 100, "totalItems": 1,
                                              "currentPage": 1}}]})

    results: list[VapiCampaign]
    metadata: VapiPaginationMeta


class VapiErrorBody(BaseModel):
    """Vapi's (NestJS's) error body."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": ["phoneNumberId: is required if dialPlan is not provided"],
         "error": "Bad Request", "statusCode": 400}]})

    message: list[str] | str = Field(examples=[["name: this field is required"]])
    error: str = Field(examples=["Bad Request"])
    statusCode: int = Field(examples=[400])
