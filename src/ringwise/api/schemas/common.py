"""Schema pieces shared by every resource."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Strict(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped (no mass assignment)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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
