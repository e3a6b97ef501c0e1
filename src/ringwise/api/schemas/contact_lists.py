"""Contact lists, their members, and the CSV import report."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from ringwise.api.schemas.common import Out, Strict
from ringwise.api.schemas.contacts import MAX_BULK, RowRejection

_LIST_ID = "5d0c7a2e-1b7f-4c1a-8e0e-9a3f6b2d4c11"
_CONTACT_ID = "0b6f3c51-8d0e-4c84-9a53-3f1d8a2e7c11"


class ContactListCreate(Strict):
    name: str = Field(min_length=1, max_length=255, examples=["Spring webinar leads"])
    description: str | None = Field(default=None, max_length=10_000,
                                    examples=["Signed up on the landing page in March"])


class ContactListUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=255,
                             examples=["Webinar leads (March)"])
    description: str | None = Field(default=None, max_length=10_000,
                                    examples=["Signed up in March"])

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("name cannot be null")
        return value


class ContactListOut(Out):
    id: str = Field(examples=[_LIST_ID])
    name: str = Field(examples=["Spring webinar leads"])
    description: str | None = Field(default=None, examples=["Signed up in March"])
    contact_count: int = Field(examples=[1250], description="Contacts in the list")
    created_at: datetime = Field(examples=["2026-03-02T15:00:00Z"])
    updated_at: datetime = Field(examples=["2026-03-02T15:00:00Z"])


class ContactIds(Strict):
    contact_ids: list[str] = Field(min_length=1, max_length=MAX_BULK,
                                   examples=[[_CONTACT_ID]],
                                   description="Up to 10,000 contact ids of this workspace")


class MembershipChange(BaseModel):
    list_id: str = Field(examples=[_LIST_ID])
    added: int = Field(default=0, examples=[2],
                       description="Contacts that were not in the list before")
    removed: int = Field(default=0, examples=[0], description="Contacts taken out of the list")
    contact_count: int = Field(examples=[1252], description="Contacts in the list now")


class ImportResult(BaseModel):
    """What a CSV import did. Rows are numbered as a spreadsheet shows them: 1-based, the header
    is row 1 and the first data row is row 2; a blank line counts as a row; a quoted cell
    spanning several lines is one row."""

    model_config = {"json_schema_extra": {"examples": [{
        "list_id": _LIST_ID, "rows": 4, "imported": 3, "created": 2, "updated": 0,
        "duplicates": 1, "rejected": 1,
        "rejections": [{"index": 4, "field": "phone",
                        "reason": "'555-0100' is not a valid phone number"}],
        "rejections_truncated": False, "encoding": "utf-8", "delimiter": ",",
        "columns": {"phone": "Mobile", "first_name": "First Name",
                    "custom_fields.lead_source": "Lead Source"},
        "contact_count": 2,
    }]}}

    list_id: str = Field(examples=[_LIST_ID])
    rows: int = Field(examples=[4], description="Data rows read (blank lines not counted)")
    imported: int = Field(examples=[3], description="Rows written: created + updated + "
                                                    "duplicates")
    created: int = Field(examples=[2], description="New contacts")
    updated: int = Field(examples=[0], description="Contacts that already existed, updated")
    duplicates: int = Field(examples=[1], description="Rows whose phone appeared earlier in the "
                                                      "file; merged into that contact (the "
                                                      "later row's non-empty values win)")
    rejected: int = Field(examples=[1], description="Rows not written")
    rejections: list[RowRejection] = Field(
        examples=[[{"index": 4, "field": "phone", "reason": "'555' is not a valid phone "
                                                            "number"}]],
        description="The first 1,000 rejected rows; `index` is the spreadsheet row number",
    )
    rejections_truncated: bool = Field(examples=[False],
                                       description="True when more than 1,000 rows were "
                                                   "rejected")
    encoding: str = Field(examples=["utf-8"], description="Detected text encoding")
    delimiter: str = Field(examples=[","], description="Detected or given delimiter")
    columns: dict[str, str] = Field(examples=[{"phone": "Mobile"}],
                                    description="Contact field -> the file's column used")
    contact_count: int = Field(examples=[2], description="Contacts in the list now")
