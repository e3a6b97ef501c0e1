"""A campaign's stored settings compiled once into what the dialer's decisions need.

Pure: no I/O. A plan is rebuilt only when the campaign's ``updated_at`` changes, so the hot
path never re-parses JSON settings.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from hashlib import sha1
from typing import Final

from ringwise.core.caller_id import (
    CALLER_ID_MODES,
    CallerIdMode,
    OwnedNumber,
)
from ringwise.core.compliance.disclosures import telemarketing_opening
from ringwise.core.compliance.floors import LegalFloor
from ringwise.core.compliance.state_zones import address_zones
from ringwise.core.phones import describe
from ringwise.core.retry import RetryPolicy, policy_from_dict
from ringwise.core.schedule_rules import default_zone, rules_for
from ringwise.core.windows import CallingRules, Window, contact_zones, next_window
from ringwise.dialer.compliance import (
    DEFAULT_PROFILE,
    Profile,
    floor_of,
    profile_of,
    rules_with_floor,
)
from ringwise.dialer.store import (
    CallView,
    CampaignView,
    Closed,
    NumberView,
    Scheduled,
    Target,
    WorkspaceView,
)

# Windows are computed a day at a time: a window that runs on is found again when it "ends".
WINDOW_STEP: Final = timedelta(days=1)
DEFAULT_OPENING: Final = "Hello {{first_name}}, this is an automated assistant calling."
_CALL_IDS: Final = uuid.UUID("6f1c9f52-3b0e-4c5e-9a7e-2f4e5d0c8b11")


def call_id_for(target_id: str, attempt: int) -> str:
    """The id of attempt ``attempt`` of a campaign contact: derived, not random, so the
    same attempt always has the same id (the provider's idempotency key) and a seeded
    simulation gives the same call log on every run and every store."""
    return uuid5_text(_CALL_IDS, f"{target_id}/{attempt}")


def uuid5_text(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))`` without building a UUID object (a simulation
    derives ~200,000 ids)."""
    digest = bytearray(sha1(namespace.bytes + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


DEFAULT_SUMMARIES: Final = 3  # earlier calls remembered when the limit is not set

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
    profile: Profile = DEFAULT_PROFILE  # the workspace's compliance settings
    returning_opening: str | None = None  # for a contact reached before (memory settings)
    summaries_limit: int = 0  # how many earlier call summaries the agent gets
    # A due contact not dialed within this long (no free line) is dropped, not kept waiting.
    retry_window: timedelta | None = None
    floored: dict[int, tuple[LegalFloor, CallingRules]] = field(
        default_factory=dict, compare=False, repr=False)

    @property
    def id(self) -> str:
        return self.view.id

    @property
    def telemarketing(self) -> bool:
        return self.view.telemarketing

    @property
    def regulation_f(self) -> bool:
        return self.view.regulation_f

    def zones_of(self, target: Target) -> tuple[str, ...]:
        return callee_zones(target)

    def floor_of(self, who: Target | CallView) -> LegalFloor:
        return floor_of(who.phone, who.address_state, who.address_country, self.profile)

    def rules_of(self, who: Target | CallView) -> CallingRules:
        """The campaign's rules narrowed by the contact's legal floor."""
        return self.with_floor(self.floor_of(who))

    def with_floor(self, floor: LegalFloor) -> CallingRules:
        # By identity: floors come from a cache, and hashing rules costs more than a lookup.
        known = self.floored.get(id(floor))
        if known is None or known[0] is not floor:
            known = self.floored[id(floor)] = (floor, rules_with_floor(self.rules, floor))
        return known[1]

    def window_from(self, who: Target | CallView, zones: tuple[str, ...],
                    at: datetime) -> Window | None:
        if not zones:
            return None
        return next_window(self.rules_of(who), zones, at, span_limit=WINDOW_STEP)

    def schedule(self, target: Target, at: datetime) -> Scheduled | Closed:
        """When a pending contact may next be called, from ``at`` on."""
        zones = self.zones_of(target)
        if not zones:
            return Closed(target.id, "blocked", "unknown-timezone")
        window = self.window_from(target, zones, at)
        if window is None:
            return Closed(target.id, "expired", "no-window-before-end")
        return Scheduled(target.id, zones, window.start, window.end)

    def usable_numbers(self, numbers: tuple[NumberView, ...]) -> list[NumberView]:
        if self.number_ids:
            return [n for n in numbers if n.id in self.number_ids]
        channel = self.view.channel
        return [n for n in numbers if channel is None or n.provider == channel]


def callee_zones(target: Target) -> tuple[str, ...]:
    """Every zone the callee may be in: the contact's own, its number's and its address
    state's (all must be open). None known: () and the contact is blocked, never called
    on a guess."""
    if target.zones is not None:
        return target.zones
    try:
        phone_zones = describe(target.phone).timezones
    except ValueError:
        phone_zones = ()
    own = contact_zones(target.contact_timezone, (), None)
    from_number = contact_zones(None, phone_zones, None)
    if not own and not from_number:
        return ()  # an address alone does not make a number callable: it may be stale
    return tuple(dict.fromkeys((
        *own, *from_number, *address_zones(target.address_state, target.address_country))))


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
    opening = view.opening_message or view.first_message or DEFAULT_OPENING
    memory = view.memory
    returning = (memory.get("returning_greeting") or view.returning_greeting
                 if memory.get("use_returning_greeting") else None)
    summaries = (int(memory.get("short_term_summaries_limit") or DEFAULT_SUMMARIES)
                 if memory.get("use_short_term_summaries") else 0)
    return CampaignPlan(
        view=view,
        rules=rules,
        default_zone=zone,
        policy=policy,
        caller_mode=mode,
        number_ids=frozenset(number_ids),
        opening=telemarketing_opening(opening, workspace.name) if view.telemarketing
        else opening,
        returning_opening=None if returning is None
        else telemarketing_opening(returning, workspace.name) if view.telemarketing
        else returning,
        summaries_limit=summaries,
        retry_window=(timedelta(minutes=int(view.schedule["retry_window_minutes"]))
                      if view.schedule.get("retry_window_minutes") else None),
        voicemail_message=message,
        machine_detection=bool(voicemail.get("detection_enabled", True)),
        machine_detection_timeout_s=int(voicemail.get("detection_timeout_seconds") or 30),
        stagger_seconds=int(view.schedule.get("stagger_seconds") or 0),
        end_at=datetime.fromisoformat(end_at) if end_at else None,
        profile=profile_of(workspace.compliance),
    )
