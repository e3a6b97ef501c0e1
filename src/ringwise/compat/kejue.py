"""/compat/kejue (being built; docs/compat.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/compat/kejue", tags=["compat: kejue"])
