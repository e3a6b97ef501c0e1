"""IANA time zone names."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_timezone(name: str) -> bool:
    if not name or name != name.strip() or name.startswith("/") or ".." in name:
        return False
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def check_timezone(name: str) -> str:
    """Return ``name`` if it is an IANA zone ("Europe/Madrid"), else raise ValueError."""
    if not is_timezone(name):
        raise ValueError(f"'{name}' is not an IANA time zone (like 'America/New_York')")
    return name
