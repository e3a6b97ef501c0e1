"""/compat/vapi (being built; docs/compat.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/compat/vapi", tags=["compat: vapi"])
