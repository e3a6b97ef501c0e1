"""API keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from ringwise.api.schemas.common import Out, Strict


class ApiKeyCreate(Strict):
    name: str = Field(default="", max_length=255, examples=["CRM integration"])


class ApiKeyOut(Out):
    id: str = Field(examples=["0b6f3c51-8d0e-4c84-9a53-3f1d8a2e7c11"])
    name: str = Field(examples=["CRM integration"])
    prefix: str = Field(examples=["rw_live_7Gk2"], description="First characters of the key")
    created_at: datetime = Field(examples=["2026-03-02T15:00:00Z"])
    last_used_at: datetime | None = Field(default=None, examples=["2026-03-02T15:04:10Z"],
                                          description="Refreshed at most once a minute")
    revoked_at: datetime | None = Field(default=None, examples=[None])


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(
        description="The secret key. Shown only in this response: store it now.",
        examples=["rw_live_7Gk2mQ9xT4bL0sVn3HcY8pW1eRzA5d2F1kq9"],
    )
