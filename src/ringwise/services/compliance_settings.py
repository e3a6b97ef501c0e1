"""A workspace's compliance settings with their defaults filled in (pure: no I/O).

The ``workspaces.compliance`` JSON document holds only the keys the workspace set (validated
by ``api.schemas.settings.ComplianceSettingsUpdate``); the defaults live here, once, so a
changed default reaches every workspace that never chose otherwise. The dialer converts the
returned plain dict into its floors and caps.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final, Protocol

# Calling hours where no built-in legal floor exists (countries without rules): Mon-Sat
# 09:00-20:00 callee-local, a conservative reading of the common European rules.
DEFAULT_FLOOR: Final[dict[str, Any]] = {
    "days": ["mon", "tue", "wed", "thu", "fri", "sat"],
    "slots": [{"start_time": "09:00", "end_time": "20:00"}],
}
# National registries must be scrubbed at most 31 days before a call (47 CFR 64.1200(c)(2)).
REGISTRY_SCRUB_MAX_AGE: Final = timedelta(days=31)
KEYS: Final = ("default_floor", "stricter_floor", "frequency_caps", "require_registry_scrub")


class HasCompliance(Protocol):
    @property
    def compliance(self) -> dict[str, Any] | None: ...


def effective(stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The stored document (only the keys that were set) with every default filled in:
    ``{"default_floor": {"days": [...], "slots": [{"start_time", "end_time"}, ...]},
    "stricter_floor": same shape or None, "frequency_caps": [{"max_calls", "per_hours"}],
    "require_registry_scrub": bool}``. A new dict: changing it changes nothing stored."""
    doc = stored or {}
    return {
        "default_floor": copy.deepcopy(doc.get("default_floor") or DEFAULT_FLOOR),
        "stricter_floor": copy.deepcopy(doc.get("stricter_floor")),
        "frequency_caps": copy.deepcopy(list(doc.get("frequency_caps") or [])),
        "require_registry_scrub": bool(doc.get("require_registry_scrub", False)),
    }


def settings_of(workspace: HasCompliance) -> dict[str, Any]:
    """The effective compliance settings of a workspace row (see ``effective``)."""
    return effective(workspace.compliance)


def merge(stored: Mapping[str, Any] | None, changes: Mapping[str, Any]) -> dict[str, Any] | None:
    """A PATCH applied to the stored document: each key of ``changes`` replaces the stored
    one, a key changed to None goes back to its default (is dropped). None when nothing is
    left to store."""
    doc = {k: v for k, v in (stored or {}).items() if k in KEYS}
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = copy.deepcopy(value)
    return doc or None
