"""/compat/playbook (being built; docs/compat.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/compat/playbook", tags=["compat: playbook"])
