"""Schema pieces shared by every resource."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ringwise.errors import FieldError

T = TypeVar("T")


def find_nul(value: Any, path: str = "") -> str | None:
    """Path of the first string (value or key) holding a NUL character, else None.

    PostgreSQL cannot store NUL in text or jsonb, so such input must be a 422 at the edge, not
    a database error; SQLite would store it, and the two stores must not disagree.
    """
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "\x00" in key:
                return path or child.replace("\x00", "\\u0000")
            found = find_nul(item, child)
            if found is not None:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = find_nul(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


class Strict(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped (no mass assignment),
    and no text anywhere in them (metadata included) may hold a NUL character."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        path = find_nul(data) if isinstance(data, dict) else None
        if path is not None:
            raise FieldError(path, "text cannot contain the NUL character (\\u0000)")
        return data


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)


class ErrorDetail(BaseModel):
    code: str = Field(examples=["invalid"])
    message: str = Field(examples=["priority: Input should be less than or equal to 100"])
    field: str | None = Field(default=None, examples=["priority"])


class ErrorResponse(BaseModel):
    error: ErrorDetail


class ListResponse(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last page.",
        examples=["WyIyMDI2LTAzLTAyVDE1OjAwOjAwKzAwOjAwIiwgIjBiNmYzYzUxIl0"],
    )


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "Missing, malformed, unknown or revoked API key"},
    404: {"model": ErrorResponse, "description": "No such object in this workspace"},
    422: {"model": ErrorResponse, "description": "A field is invalid; `field` names it"},
}
