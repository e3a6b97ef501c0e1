"""/compat/kathan (being built; docs/compat.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/compat/kathan", tags=["compat: kathan"])
