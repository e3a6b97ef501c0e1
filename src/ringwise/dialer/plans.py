"""A campaign's stored settings compiled once into what the dialer's decisions need.

Pure: no I/O. A plan is rebuilt only when the campaign's ``updated_at`` changes, so the hot
path never re-parses JSON settings.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from ringwise.core.caller_id import (
    CALLER_ID_MODES,
    CallerIdMode,
    OwnedNumber,
)
from ringwise.core.phones import describe
from ringwise.core.retry import RetryPolicy, policy_from_dict
from ringwise.core.schedule_rules import default_zone, rules_for
from ringwise.core.windows import CallingRules, Window, contact_zones, next_window
from ringwise.dialer.store import CampaignView, Closed, NumberView, Scheduled, Target, WorkspaceView

# Windows are computed a day at a time: a window that runs on is found again when it "ends".
WINDOW_STEP: Final = timedelta(days=1)
DEFAULT_OPENING: Final = "Hello {{first_name}}, this is an automated assistant calling."
_CALL_IDS: Final = uuid.UUID("6f1c9f52-3b0e-4c5e-9a7e-2f4e5d0c8b11")


def call_id_for(target_id: str, attempt: int) -> str:
    """The id of attempt ``attempt`` of a campaign contact: derived, not random, so the
    same attempt always has the same id (the provider's idempotency key) and a seeded
    simulation gives the same call log on every run and every store."""
    return str(uuid.uuid5(_CALL_IDS, f"{target_id}/{attempt}"))


@dataclass(frozen=True, slots=True)
class CampaignPlan:
    view: CampaignView
    rules: CallingRules
    default_zone: str
    policy: RetryPolicy
    caller_mode: CallerIdMode
    number_ids: frozenset[str]  # numbers the campaign names; empty: any of the workspace's
    opening: str
    voicemail_message: str | None
    machine_detection: bool
    machine_detection_timeout_s: int
    stagger_seconds: int
    end_at: datetime | None

    @property
    def id(self) -> str:
        return self.view.id

    def zones_of(self, target: Target) -> tuple[str, ...]:
        if target.zones is not None:
            return target.zones
        try:
            phone_zones = describe(target.phone).timezones
        except ValueError:
            phone_zones = ()
        return contact_zones(target.contact_timezone, phone_zones, self.default_zone)

    def window_from(self, zones: tuple[str, ...], at: datetime) -> Window | None:
        if not zones:
            return None
        return next_window(self.rules, zones, at, span_limit=WINDOW_STEP)

    def schedule(self, target: Target, at: datetime) -> Scheduled | Closed:
        """When a pending contact may next be called, from ``at`` on."""
        zones = self.zones_of(target)
        if not zones:
            return Closed(target.id, "blocked", "unknown-timezone")
        window = self.window_from(zones, at)
        if window is None:
            return Closed(target.id, "expired", "no-window-before-end")
        return Scheduled(target.id, zones, window.start, window.end)

    def usable_numbers(self, numbers: tuple[NumberView, ...]) -> list[NumberView]:
        if self.number_ids:
            return [n for n in numbers if n.id in self.number_ids]
        channel = self.view.channel
        return [n for n in numbers if channel is None or n.provider == channel]


def owned(number: NumberView) -> OwnedNumber:
    return OwnedNumber(number.id, number.e164, number.country, number.region, number.area_code)


def compile_plan(view: CampaignView, workspace: WorkspaceView) -> CampaignPlan:
    """Raises ``ValueError`` naming the setting when stored settings cannot be dialed."""
    rules = rules_for(view.schedule, workspace.business_hours)
    zone = default_zone(view.schedule, workspace.timezone)
    policy = policy_from_dict(dict(view.retry))
    mode = str(view.caller_id.get("mode", "fixed"))
    if mode not in CALLER_ID_MODES:
        raise ValueError(f"caller_id.mode: unknown mode {mode!r}")
    number_ids = set(view.caller_id.get("phone_number_ids") or ())
    for entry in view.caller_id.get("dial_plan") or ():
        number_ids.add(entry["phone_number_id"])
    voicemail = view.voicemail
    leave = voicemail.get("action") == "leave_message"
    message = (voicemail.get("message") or view.voicemail_message) if leave else None
    end_at = view.schedule.get("end_at")
    return CampaignPlan(
        view=view,
        rules=rules,
        default_zone=zone,
        policy=policy,
        caller_mode=mode,
        number_ids=frozenset(number_ids),
        opening=view.opening_message or view.first_message or DEFAULT_OPENING,
        voicemail_message=message,
        machine_detection=bool(voicemail.get("detection_enabled", True)),
        machine_detection_timeout_s=int(voicemail.get("detection_timeout_seconds") or 30),
        stagger_seconds=int(view.schedule.get("stagger_seconds") or 0),
        end_at=datetime.fromisoformat(end_at) if end_at else None,
    )
