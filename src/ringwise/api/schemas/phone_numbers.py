"""Phone numbers a workspace owns and calls from."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from ringwise.api.schemas.common import Out
from ringwise.api.schemas.shared import CleanStrict

Provider = Literal["simulated", "twilio", "vobiz"]
MAX_CPS = 100.0

_CPS_HELP = "Dial starts per second allowed from this number (carrier limit), > 0 and <= 100"


class PhoneNumberCreate(CleanStrict):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"number": "+14155550123", "provider": "twilio", "label": "SF main line",
         "cps_limit": 1},
    ]})

    number: str = Field(min_length=1, max_length=32, examples=["+14155550123"],
                        description="E.164, or national digits in the workspace's region")
    provider: Provider = Field(default="simulated",
                               description="simulated (demo / tests) | twilio | vobiz")
    label: str | None = Field(default=None, max_length=255, examples=["SF main line"])
    cps_limit: float = Field(default=1.0, gt=0, le=MAX_CPS, examples=[1], description=_CPS_HELP)


class PhoneNumberUpdate(CleanStrict):
    """Only label and cps_limit can change; the number and provider are fixed."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"label": "SF overflow", "cps_limit": 2},
    ]})

    label: str | None = Field(default=None, max_length=255, description="null clears it")
    cps_limit: float | None = Field(default=None, gt=0, le=MAX_CPS, description=_CPS_HELP)


class PhoneNumberOut(Out):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "9c0d7e4a-1f2b-4c3d-8e5f-6a7b8c9d0e1f", "number": "+14155550123",
         "provider": "twilio", "label": "SF main line", "cps_limit": 1.0, "country": "US",
         "region": "CA", "area_code": "415", "timezones": ["America/Los_Angeles"],
         "created_at": "2026-03-02T15:00:00Z", "updated_at": "2026-03-02T15:00:00Z"},
    ]})

    id: str = Field(examples=["9c0d7e4a-1f2b-4c3d-8e5f-6a7b8c9d0e1f"])
    number: str = Field(examples=["+14155550123"], description="E.164")
    provider: Provider
    label: str | None = None
    cps_limit: float
    country: str | None = Field(default=None, examples=["US"], description="ISO 3166-1 alpha-2")
    region: str | None = Field(default=None, examples=["CA"],
                               description="State / province code, where the numbering plan "
                                           "tells it (US, CA)")
    area_code: str | None = Field(default=None, examples=["415"])
    timezones: list[str] = Field(default_factory=list, examples=[["America/Los_Angeles"]],
                                 description="Candidate IANA zones of the number's area")
    created_at: datetime
    updated_at: datetime

    @field_validator("timezones", mode="before")
    @classmethod
    def _no_zones(cls, value: list[str] | None) -> list[str]:
        return [] if value is None else value
