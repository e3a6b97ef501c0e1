"""The workspace's defaults for the /compat dialects: what to use where a foreign API says
nothing (docs/compat.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ringwise.api.schemas.common import Strict

_EXAMPLE: dict[str, Any] = {
    "assistant_id": "6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f",
    "phone_number_ids": ["9c0d7e4a-1f2b-4c3d-8e5f-6a7b8c9d0e1f"],
}


class CompatDefaultsUpdate(Strict):
    """Replaces the stored defaults."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    assistant_id: str | None = Field(
        default=None, description="The assistant of a compat campaign whose request names "
                                  "none")
    phone_number_ids: list[str] = Field(
        default_factory=list, max_length=1000,
        description="Caller numbers of a compat campaign whose request names none; empty: "
                    "all the workspace's numbers")


class CompatDefaults(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    assistant_id: str | None = None
    phone_number_ids: list[str] = Field(default_factory=list)
