"""Do-not-call lists: the workspace's list and each campaign's suppression list.

An entry is a phone number or an area-code wildcard ("212*", "+44 20*"), stored in canonical
form (``core.compliance.dnc``): "+12125550100", "+1212*".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from ringwise.api.schemas.common import Out, Strict
from ringwise.api.schemas.contacts import (
    MAX_BULK,
    MAX_PHONE_TEXT,
    BulkRows,
    RowRejection,
)
from ringwise.errors import FieldError

DncSource = Literal["api", "csv", "opt_out", "call"]
DNC_SOURCES: tuple[str, ...] = get_args(DncSource)
DncKind = Literal["number", "area_code"]
MAX_REASON = 255

_ENTRY_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
_CAMPAIGN_ID = "3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8"


def _number_text(value: Any) -> Any:
    # Spreadsheets and some CRMs send phone numbers as JSON numbers.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class DncEntryInput(Strict):
    """One number (``phone``) or one number or area-code wildcard (``pattern``), not both."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"phone": "+1 (212) 555-0100", "reason": "asked not to be called"},
        {"pattern": "212*", "reason": "no calls to Manhattan"},
    ]})

    phone: str | None = Field(default=None, min_length=1, max_length=MAX_PHONE_TEXT,
                              examples=["+1 (212) 555-0100"],
                              description="A phone number: E.164, or national format in the "
                                          "default region")
    pattern: str | None = Field(default=None, min_length=1, max_length=MAX_PHONE_TEXT,
                                examples=["212*"],
                                description="A phone number, or an area-code wildcard: "
                                            "'212*', '+1212*', '(212) *', '+44 20*'")
    reason: str | None = Field(default=None, max_length=MAX_REASON,
                               examples=["asked not to be called"])

    @field_validator("phone", "pattern", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return _number_text(value)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _one(self) -> DncEntryInput:
        if self.phone is None and self.pattern is None:
            raise FieldError("phone", "give phone (a number) or pattern (a number or an "
                                      "area-code wildcard like '212*')")
        if self.phone is not None and self.pattern is not None:
            raise FieldError("pattern", "give phone or pattern, not both")
        return self

    @property
    def field(self) -> str:
        return "phone" if self.phone is not None else "pattern"

    @property
    def text(self) -> str:
        value = self.phone if self.phone is not None else self.pattern
        assert value is not None
        return value


class DncBulkCreate(BulkRows):
    """Up to 10,000 entries. A row that is invalid is reported, the others are added."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "default_region": "US",
        "entries": [{"phone": "212-555-0100", "reason": "asked not to be called"},
                    {"pattern": "+1 646*"}],
    }]})

    entries: list[DncEntryInput] = Field(min_length=1, max_length=MAX_BULK,
                                         examples=[[{"phone": "212-555-0100"}]])
    default_region: str | None = Field(
        default=None, min_length=2, max_length=2, examples=["US"],
        description="Region for numbers without +country; defaults to the workspace's")
    rows_field: ClassVar[str] = "entries"
    row_model: ClassVar[type[BaseModel]] = DncEntryInput


class DncEntryOut(Out):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": _ENTRY_ID, "campaign_id": None, "pattern": "+12125550100", "kind": "number",
        "source": "api", "reason": "asked not to be called",
        "created_at": "2026-03-02T15:00:00Z",
    }]})

    id: str = Field(examples=[_ENTRY_ID])
    campaign_id: str | None = Field(
        default=None, examples=[None],
        description="null: the workspace's do-not-call list; else the campaign whose "
                    "suppression list holds the entry")
    pattern: str = Field(examples=["+12125550100"],
                         description="E.164 number, or wildcard like '+1212*'")
    kind: DncKind = Field(examples=["number"], description="number | area_code")
    source: DncSource = Field(examples=["api"],
                              description="How it was added: api | csv | opt_out (the callee "
                                          "asked, during a call) | call")
    reason: str | None = Field(default=None, examples=["asked not to be called"])
    created_at: datetime = Field(examples=["2026-03-02T15:00:00Z"])


class DncBulkResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "added": 1, "already_listed": 0, "duplicates": 0,
        "entry_ids": [_ENTRY_ID, None],
        "rejected": [{"index": 1, "field": "pattern",
                      "reason": "'21*': a North American area code has 3 digits, the first "
                                "2-9, and is not N11 (like '212*')"}],
    }]})

    added: int = Field(examples=[1], description="New entries")
    already_listed: int = Field(examples=[0], description="Already on the list: left as is")
    duplicates: int = Field(examples=[0], description="Rows repeating an earlier row's "
                                                      "pattern")
    entry_ids: list[str | None] = Field(examples=[[_ENTRY_ID, None]],
                                        description="One per request row, in order; null "
                                                    "for a rejected row")
    rejected: list[RowRejection] = Field(examples=[[]])


class DncCheckResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "phone": "+12125550100", "listed": True,
        "matches": [{"id": _ENTRY_ID, "campaign_id": None, "pattern": "+1212*",
                     "kind": "area_code", "source": "api", "reason": None,
                     "created_at": "2026-03-02T15:00:00Z"}],
    }]})

    phone: str = Field(examples=["+12125550100"], description="E.164")
    listed: bool = Field(examples=[True], description="True: the number may not be called")
    matches: list[DncEntryOut] = Field(
        examples=[[]], description="The entries that match, most specific first: the "
                                   "workspace's list, then the campaign's suppression list")


class DncImportResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "campaign_id": None, "rows": 3, "added": 1, "already_listed": 1, "duplicates": 0,
        "rejected": 1,
        "rejections": [{"index": 4, "field": "phone",
                        "reason": "'555' is not a valid phone number"}],
        "rejections_truncated": False, "encoding": "utf-8", "delimiter": ",",
        "header": True, "columns": {"phone": "Phone", "reason": "Notes"},
    }]})

    campaign_id: str | None = Field(default=None, examples=[None],
                                    description="null: the workspace's list")
    rows: int = Field(examples=[3], description="Data rows read (blank lines not counted)")
    added: int = Field(examples=[1])
    already_listed: int = Field(examples=[1])
    duplicates: int = Field(examples=[0], description="Rows repeating an earlier row's "
                                                      "pattern")
    rejected: int = Field(examples=[1])
    rejections: list[RowRejection] = Field(
        examples=[[]], description="The first 1,000 rejected rows: spreadsheet row number "
                                   "(header = row 1), field and reason")
    rejections_truncated: bool = Field(examples=[False])
    encoding: str = Field(examples=["utf-8"])
    delimiter: str = Field(examples=[","])
    header: bool = Field(examples=[True], description="False: the file had no header row, "
                                                      "its first column was read as numbers")
    columns: dict[str, str] = Field(examples=[{"phone": "Phone", "reason": "Notes"}],
                                    description="Field -> the file's column header")
