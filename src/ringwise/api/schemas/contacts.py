"""Contacts: the person to call, keyed by E.164 phone within a workspace.

The field rules (lengths, e-mail shape, IANA zone, empty text means "no value") live in
``normalize_text_field`` so the JSON API and the streamed CSV import apply exactly the same ones.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Self, TypeVar, get_args

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.functional_validators import ModelWrapValidatorHandler

from ringwise.api.schemas.common import Out, Strict
from ringwise.core.phones import describe, is_region
from ringwise.core.timezones import is_timezone
from ringwise.db.models import Contact
from ringwise.errors import FieldError, InvalidInput

ItemT = TypeVar("ItemT", bound=BaseModel)

MAX_BULK = 10_000
MAX_PHONE_TEXT = 64

# Text fields of a contact and their column lengths (db.models.Contact), in storage order.
TEXT_FIELDS: dict[str, int] = {
    "first_name": 255, "last_name": 255, "email": 320, "company": 255, "job_title": 255,
    "address": 1024, "city": 255, "state": 255, "country": 255, "postal_code": 32,
    "timezone": 64, "utm_source": 255, "utm_medium": 255, "utm_campaign": 255,
    "utm_term": 255, "utm_content": 255,
}
JSON_FIELDS = ("custom_fields", "metadata")

# Consent and registry-scrub fields: typed (a closed set, instants), not free text.
ConsentBasis = Literal["express_written", "express", "existing_business_relationship", "none"]
CONSENT_BASES: tuple[str, ...] = get_args(ConsentBasis)
INSTANT_FIELDS = ("consent_at", "registry_scrubbed_at")
CONSENT_FIELDS = ("consent_basis", *INSTANT_FIELDS)

EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def normalize_text_field(name: str, value: str) -> str | None:
    """Stripped value, None when empty; ValueError (plain reason) when not acceptable."""
    value = value.strip()
    if not value:
        return None
    if len(value) > TEXT_FIELDS[name]:
        raise ValueError(f"longer than {TEXT_FIELDS[name]} characters")
    if name == "email" and not EMAIL_PATTERN.fullmatch(value):
        raise ValueError(f"'{value}' is not an e-mail address")
    if name == "timezone" and not is_timezone(value):
        raise ValueError(f"'{value}' is not an IANA time zone (like 'America/New_York')")
    return value


def consent_basis(value: str) -> str | None:
    """'Express Written' -> 'express_written'; None when empty; ValueError unless a basis."""
    key = re.sub(r"[\s-]+", "_", value.strip().lower())
    if not key:
        return None
    if key not in CONSENT_BASES:
        raise ValueError(f"'{value.strip()}' is not a consent basis (one of "
                         f"{', '.join(CONSENT_BASES)})")
    return key


def instant(value: str) -> datetime | None:
    """An ISO-8601 date and time with its UTC offset ('2026-02-14T16:20:00Z',
    '2026-02-14T11:20:00-05:00') -> aware UTC datetime; None when empty. A time without an
    offset is refused: it would mean a different instant in every time zone."""
    text = value.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text}' is not an ISO-8601 date and time like "
                         "'2026-02-14T16:20:00Z'") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"'{text}' has no UTC offset; add one, like '2026-02-14T16:20:00Z' "
                         "or '2026-02-14T11:20:00-05:00'")
    return parsed.astimezone(UTC)


def normalize_consent_field(name: str, value: str) -> str | datetime | None:
    """``consent_basis`` or an instant field from text (CSV cells, JSON strings)."""
    return consent_basis(value) if name == "consent_basis" else instant(value)


def region_code(value: str) -> str:
    """'es' -> 'ES'; ValueError unless phone numbers can be parsed for that region."""
    code = value.strip().upper()
    if not is_region(code):
        raise ValueError(f"'{value}' is not a region code (ISO 3166-1 alpha-2, like 'US')")
    return code


def check_region(value: str, field: str) -> str:
    """``region_code`` for values outside a model (query parameters): InvalidInput."""
    try:
        return region_code(value)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from None


def compact_mapping(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Keys with null or empty-string values are dropped: in an upsert they mean "keep"."""
    if not value:
        return None
    kept = {k: v for k, v in value.items() if v is not None and v != ""}
    return kept or None


_CONTACT_EXAMPLE: dict[str, Any] = {
    "phone": "+34600123456", "first_name": "Juan", "last_name": "García",
    "email": "juan@example.com", "company": "Acme SL", "timezone": "Europe/Madrid",
    "custom_fields": {"lead_id": "ext-12345", "producto_interes": "Premium"},
}


class ContactFields(Strict):
    """The optional descriptive fields shared by create and update."""

    first_name: str | None = Field(default=None, examples=["Juan"])
    last_name: str | None = Field(default=None, examples=["García"])
    email: str | None = Field(default=None, examples=["juan@example.com"])
    company: str | None = Field(default=None, examples=["Acme SL"])
    job_title: str | None = Field(default=None, examples=["Head of Sales"])
    address: str | None = Field(default=None, examples=["Calle Mayor 1"])
    city: str | None = Field(default=None, examples=["Madrid"])
    state: str | None = Field(default=None, examples=["Madrid"])
    country: str | None = Field(default=None, examples=["ES"])
    postal_code: str | None = Field(default=None, examples=["28013"])
    timezone: str | None = Field(default=None, examples=["Europe/Madrid"],
                                 description="IANA time zone; overrides the one derived "
                                             "from the phone number")
    utm_source: str | None = Field(default=None, examples=["google"])
    utm_medium: str | None = Field(default=None, examples=["cpc"])
    utm_campaign: str | None = Field(default=None, examples=["spring_sale"])
    utm_term: str | None = Field(default=None, examples=["voice ai"])
    utm_content: str | None = Field(default=None, examples=["banner_a"])
    custom_fields: dict[str, Any] | None = Field(
        default=None, examples=[{"lead_id": "ext-12345", "origen": "web"}],
        description="Your own key-value fields, usable in prompts; merged key by key",
    )
    metadata: dict[str, Any] | None = Field(
        default=None, examples=[{"crm_id": "0031x00000AbCdE"}],
        description="Opaque data for your integration; merged key by key",
    )
    consent_basis: ConsentBasis | None = Field(
        default=None, examples=["express_written"],
        description="Consent to be called: express_written | express | "
                    "existing_business_relationship | none. Telemarketing campaigns call "
                    "only contacts with recorded consent")
    consent_at: datetime | None = Field(
        default=None, examples=["2026-02-14T16:20:00Z"],
        description="When consent was given: ISO-8601 with a UTC offset")
    registry_scrubbed_at: datetime | None = Field(
        default=None, examples=["2026-03-01T08:00:00Z"],
        description="When the number was last checked against a national do-not-call "
                    "registry: ISO-8601 with a UTC offset")

    @field_validator(*TEXT_FIELDS, mode="after")
    @classmethod
    def _text(cls, value: str | None, info: Any) -> str | None:
        return None if value is None else normalize_text_field(info.field_name, value)

    @field_validator("consent_basis", mode="before")
    @classmethod
    def _basis(cls, value: Any) -> Any:
        return consent_basis(value) if isinstance(value, str) else value

    @field_validator(*INSTANT_FIELDS, mode="before")
    @classmethod
    def _instant(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("give an ISO-8601 date and time with its UTC offset, like "
                             "'2026-02-14T16:20:00Z'")
        return instant(value)


def _phone_text(value: Any) -> Any:
    # Spreadsheets and some CRMs send phone numbers as JSON numbers.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class ContactInput(ContactFields):
    """One contact to create or update (upsert by phone). Empty fields keep stored values."""

    model_config = {"json_schema_extra": {"examples": [_CONTACT_EXAMPLE]}}

    phone: str = Field(min_length=1, max_length=MAX_PHONE_TEXT, examples=["+34600123456"],
                       description="E.164, or national format in the default region")

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: Any) -> Any:
        return _phone_text(value)


class ContactUpdate(ContactFields):
    """PATCH: only the fields sent change; null clears a field. In ``custom_fields`` and
    ``metadata`` the keys sent are merged in and a key sent as null is removed."""

    model_config = {"json_schema_extra": {"examples": [{"first_name": "Juana",
                                                       "custom_fields": {"origen": None}}]}}

    phone: str | None = Field(default=None, min_length=1, max_length=MAX_PHONE_TEXT,
                              examples=["+34600987654"])

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: Any) -> Any:
        return _phone_text(value)


class RowRejection(BaseModel):
    """A row that was not written, and why."""

    index: int = Field(examples=[3], description="0-based position in the request's list, or "
                                                 "the 1-based spreadsheet row of a CSV import")
    field: str | None = Field(default=None, examples=["phone"])
    reason: str = Field(examples=["'555-0100' is not a valid phone number"])


def split_rows(rows: list[Any], item: type[ItemT]
               ) -> tuple[list[ItemT], list[int], dict[int, RowRejection]]:
    """A bulk body's rows validated one by one: the valid items, their indexes in the
    request, and a rejection (field, reason) for each invalid row, so one bad row does not
    fail the others."""
    valid: list[ItemT] = []
    positions: list[int] = []
    invalid: dict[int, RowRejection] = {}
    for index, row in enumerate(rows):
        try:
            valid.append(item.model_validate(row))
            positions.append(index)
        except ValidationError as exc:
            field, reason = _first_error(exc)
            invalid[index] = RowRejection(index=index, field=field, reason=reason)
    return valid, positions, invalid


def _first_error(exc: ValidationError) -> tuple[str | None, str]:
    error = exc.errors()[0]
    loc = [str(p) for p in error.get("loc", ()) if not str(p).startswith("function-")]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, FieldError):  # a model-level check that blames a sub-field
        loc.append(cause.field)
    field = ".".join(loc) or None
    if error.get("type") == "missing":
        return field, "this field is required"
    return field, str(error.get("msg", "invalid value")).removeprefix("Value error, ")


class BulkRows(Strict):
    """A bulk body whose rows (the list field named ``rows_field``, of ``row_model``) are
    validated one by one: a row that fails is kept out of the list and reported in
    ``invalid_rows``; the list itself (missing, empty, too long) is a plain 422."""

    rows_field: ClassVar[str]
    row_model: ClassVar[type[BaseModel]]
    # Rows that failed validation, by their index in the request; the list holds the rest.
    _invalid: dict[int, RowRejection] = PrivateAttr(default_factory=dict)
    _positions: list[int] = PrivateAttr(default_factory=list)

    @field_validator("default_region", check_fields=False)
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return None if value is None else region_code(value)

    @model_validator(mode="wrap")
    @classmethod
    def _per_row(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        rows = data.get(cls.rows_field) if isinstance(data, dict) else None
        if not isinstance(rows, list) or not rows or len(rows) > MAX_BULK:
            return handler(data)  # the list itself is wrong: a plain 422
        valid, positions, invalid = split_rows(rows, cls.row_model)
        # When every row is invalid, build the model around a placeholder (the list may not
        # be empty), then empty it: the rejections are the answer.
        model = handler({**data, cls.rows_field: valid or [cls.row_model.model_construct()]})
        setattr(model, cls.rows_field, valid)
        model._invalid = invalid
        model._positions = positions
        return model

    @property
    def invalid_rows(self) -> dict[int, RowRejection]:
        return self._invalid

    @property
    def positions(self) -> list[int]:
        """For each valid row kept, its index in the request."""
        return self._positions


class ContactBulkCreate(BulkRows):
    """Up to 10,000 contacts. A row that fails validation is reported, the others are written."""

    model_config = {"json_schema_extra": {"examples": [{
        "default_region": "ES",
        "contacts": [_CONTACT_EXAMPLE, {"phone": "600 987 654", "first_name": "María"}],
    }]}}

    contacts: list[ContactInput] = Field(min_length=1, max_length=MAX_BULK,
                                         examples=[[_CONTACT_EXAMPLE]])
    default_region: str | None = Field(
        default=None, min_length=2, max_length=2, examples=["ES"],
        description="Region for numbers without +country; defaults to the workspace's",
    )
    rows_field: ClassVar[str] = "contacts"
    row_model: ClassVar[type[BaseModel]] = ContactInput


class ContactBulkResult(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{
        "created": 1, "updated": 0, "duplicates": 0,
        "contact_ids": ["0b6f3c51-8d0e-4c84-9a53-3f1d8a2e7c11", None],
        "rejected": [{"index": 1, "field": "phone", "reason": "'600' is not a valid phone "
                                                              "number"}],
    }]}}

    created: int = Field(examples=[1], description="New contacts")
    updated: int = Field(examples=[0], description="Existing contacts updated")
    duplicates: int = Field(examples=[0], description="Rows whose phone appeared earlier in "
                                                      "the request (merged into that contact)")
    contact_ids: list[str | None] = Field(
        examples=[["0b6f3c51-8d0e-4c84-9a53-3f1d8a2e7c11", None]],
        description="One per request row, in order; null for a rejected row",
    )
    rejected: list[RowRejection] = Field(examples=[[]])


class PhoneInfoOut(BaseModel):
    country: str | None = Field(examples=["US"], description="ISO 3166-1 alpha-2")
    region: str | None = Field(examples=["NY"], description="State or province code, when the "
                                                            "numbering plan tells it")
    area_code: str | None = Field(examples=["212"])
    timezones: list[str] = Field(examples=[["America/New_York"]],
                                 description="Candidate time zones of the number")


class ContactOut(Out):
    model_config = {"json_schema_extra": {"examples": [{
        "id": "0b6f3c51-8d0e-4c84-9a53-3f1d8a2e7c11", **_CONTACT_EXAMPLE,
        "phone_info": {"country": "ES", "region": None, "area_code": None,
                       "timezones": ["Europe/Madrid"]},
        "created_at": "2026-03-02T15:00:00Z", "updated_at": "2026-03-02T15:00:00Z",
    }]}}

    id: str = Field(examples=["0b6f3c51-8d0e-4c84-9a53-3f1d8a2e7c11"])
    phone: str = Field(examples=["+34600123456"], description="E.164")
    first_name: str | None = Field(default=None, examples=["Juan"])
    last_name: str | None = Field(default=None, examples=["García"])
    email: str | None = Field(default=None, examples=["juan@example.com"])
    company: str | None = Field(default=None, examples=["Acme SL"])
    job_title: str | None = Field(default=None, examples=["Head of Sales"])
    address: str | None = Field(default=None, examples=["Calle Mayor 1"])
    city: str | None = Field(default=None, examples=["Madrid"])
    state: str | None = Field(default=None, examples=["Madrid"])
    country: str | None = Field(default=None, examples=["ES"])
    postal_code: str | None = Field(default=None, examples=["28013"])
    timezone: str | None = Field(default=None, examples=["Europe/Madrid"])
    utm_source: str | None = Field(default=None, examples=["google"])
    utm_medium: str | None = Field(default=None, examples=["cpc"])
    utm_campaign: str | None = Field(default=None, examples=["spring_sale"])
    utm_term: str | None = Field(default=None, examples=["voice ai"])
    utm_content: str | None = Field(default=None, examples=["banner_a"])
    custom_fields: dict[str, Any] = Field(default_factory=dict, examples=[{"lead_id": "x-1"}])
    metadata: dict[str, Any] = Field(default_factory=dict, examples=[{"crm_id": "0031x"}])
    consent_basis: ConsentBasis | None = Field(default=None, examples=["express_written"])
    consent_at: datetime | None = Field(default=None, examples=["2026-02-14T16:20:00Z"])
    registry_scrubbed_at: datetime | None = Field(default=None,
                                                  examples=["2026-03-01T08:00:00Z"])
    phone_info: PhoneInfoOut = Field(description="Derived from the phone number")
    created_at: datetime = Field(examples=["2026-03-02T15:00:00Z"])
    updated_at: datetime = Field(examples=["2026-03-02T15:00:00Z"])


def contact_out(contact: Contact) -> ContactOut:
    """The API view of a contact, with phone geography derived (cached) from the number."""
    info = describe(contact.phone)
    values = {name: getattr(contact, name) for name in (*TEXT_FIELDS, *CONSENT_FIELDS)}
    return ContactOut(
        id=contact.id, phone=contact.phone, **values,
        custom_fields=contact.custom_fields if isinstance(contact.custom_fields, dict) else {},
        metadata=contact.metadata_ if isinstance(contact.metadata_, dict) else {},
        phone_info=PhoneInfoOut(country=info.country, region=info.region,
                                area_code=info.area_code, timezones=list(info.timezones)),
        created_at=contact.created_at, updated_at=contact.updated_at,
    )
