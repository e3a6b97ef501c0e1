"""The compliance gate of a dial: the legal floor of a contact, and whether it may be called now.

Pure: everything the gate needs comes with the contact (the store reads the do-not-call match
and the number's recent calls in the claim's transaction) and with the workspace's settings.
The rules themselves are data in ``core.compliance``; this module only puts them together in
the order a dial is checked:

1. the number is on the workspace's do-not-call list or the campaign's suppression list;
2. a telemarketing campaign, and the contact has no recorded consent;
3. the workspace requires a national-registry scrub, and the contact's is missing or stale;
4. a frequency cap (state law, workspace cap, Regulation F) is full: the dial is deferred to
   the instant the cap allows, never dropped.

Calling hours are not checked here: the legal floor is part of the contact's calling rules
(``CallingRules.floor``), so windows never open outside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Any, Final, Literal

from ringwise.core.compliance.caps import FrequencyCap, RegulationF, blocking_cap, next_allowed
from ringwise.core.compliance.floors import (
    DEFAULT_FLOOR_SETTINGS,
    FloorRule,
    FloorSettings,
    LegalFloor,
    floor_for,
    workspace_rule,
)
from ringwise.core.compliance.jurisdiction import jurisdiction_of
from ringwise.core.phones import PhoneInfo, describe
from ringwise.core.timezones import zone
from ringwise.core.windows import CallingRules, TimeRange
from ringwise.dialer.store import Target

REGISTRY_MAX_AGE: Final = timedelta(days=31)  # 47 CFR 64.1200(c)(2)(i)(D): scrub every 31 days
# Telemarketing with an artificial voice (an AI voice, FCC 24-17) needs prior express written
# consent: 47 CFR 64.1200(a)(2)-(3); an established business relationship no longer suffices.
CONSENTED: Final = frozenset({"express_written"})
REGULATION_F: Final = RegulationF()
_DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Profile:
    """A workspace's compliance settings, compiled."""

    floors: FloorSettings = DEFAULT_FLOOR_SETTINGS
    require_registry_scrub: bool = False
    # Floors by (country, state, address state, address country): hashing the settings for
    # a shared cache at every dial would cost more than the lookup.
    memo: dict[tuple[str | int | None, ...], LegalFloor] = field(
        default_factory=dict, compare=False, repr=False)


DEFAULT_PROFILE: Final = Profile()


@dataclass(frozen=True, slots=True)
class Verdict:
    """``dial``, or ``block`` (the contact is closed), or ``defer`` until ``not_before``."""

    decision: Literal["dial", "block", "defer"]
    reason: str | None = None
    not_before: datetime | None = None


DIAL: Final = Verdict("dial")


def profile_of(settings: Mapping[str, Any] | None) -> Profile:
    """The workspace's ``compliance`` settings (as stored; absent keys take the defaults)."""
    if not settings:
        return DEFAULT_PROFILE
    return _profile(_frozen(settings))


def floor_of(phone: str, address_state: str | None, address_country: str | None,
             profile: Profile) -> LegalFloor:
    """Every legal rule that applies to a contact: its number's country and state, and its
    address's; a number that does not parse gets the workspace's default floor."""
    # A North American number's country and state follow from its area code and exchange:
    # the floor is shared by the prefix, without describing every number.
    short = (phone[:8], len(phone), address_state, address_country) \
        if phone.startswith("+1") else None
    if short is not None and (known := profile.memo.get(short)) is not None:
        return known
    try:
        info = describe(phone)
    except ValueError:  # no number to go by: the address alone, else the default floor
        info = PhoneInfo(e164="", country=None, region=None, area_code=None, timezones=())
    key = (info.country, info.region, address_state, address_country)
    found = profile.memo.get(key)
    if found is None:
        if len(profile.memo) > 65_536:
            profile.memo.clear()
        where = PhoneInfo(e164="", country=info.country, region=info.region, area_code=None,
                          timezones=())
        found = profile.memo[key] = floor_for(
            jurisdiction_of(where, address_state, address_country), profile.floors)
    if short is not None:
        profile.memo[short] = found
    return found


@lru_cache(maxsize=8192)
def rules_with_floor(rules: CallingRules, floor: LegalFloor) -> CallingRules:
    """A campaign's rules narrowed by a legal floor (cached: few floors per campaign)."""
    return replace(rules, floor=floor)


def check(target: Target, floor: LegalFloor, profile: Profile, at: datetime, *,
          telemarketing: bool, regulation_f: bool) -> Verdict:
    """May ``target`` be dialed at ``at`` (its window being open)? See the module doc."""
    if target.dnc is not None:
        return Verdict("block", "dnc-listed")
    if telemarketing and target.consent_basis not in CONSENTED:
        return Verdict("block", "no-consent")
    if profile.require_registry_scrub and (
            target.registry_scrubbed_at is None
            or not timedelta(0) <= at - target.registry_scrubbed_at <= REGISTRY_MAX_AGE):
        return Verdict("block", "registry-scrub-stale")
    caps = floor.caps
    if not caps and not regulation_f:
        return DIAL
    later = at
    reason: str | None = None
    if caps:
        cap = blocking_cap(caps, target.recent_calls, at)
        if cap is not None:
            later, reason = next_allowed(caps, target.recent_calls, at), f"cap:{cap.key}"
    if regulation_f:
        allowed = REGULATION_F.next_allowed(target.recent_calls, target.conversations, later)
        if allowed > later:
            later, reason = allowed, "cap:regulation-f"
    if later > at:
        return Verdict("defer", reason, later)
    return DIAL


def local_times(zones: Sequence[str], at: datetime) -> tuple[tuple[str, str], ...]:
    """The callee's local wall-clock time in each candidate zone, for the audit trail."""
    return tuple((name, at.astimezone(zone(name)).isoformat(timespec="seconds"))
                 for name in zones)


# --- compiling settings ------------------------------------------------------------------------

def _frozen(value: Any) -> Any:
    """A hashable copy of JSON settings, so compiled profiles can be cached."""
    if isinstance(value, Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


@lru_cache(maxsize=256)
def _profile(frozen: tuple[tuple[str, Any], ...]) -> Profile:
    settings = dict(frozen)
    default = _rule("workspace-default", "Workspace default floor",
                    settings.get("default_floor"))
    stricter = _rule("workspace-stricter", "Workspace stricter floor",
                     settings.get("stricter_floor"))
    caps = tuple(
        FrequencyCap(key=f"workspace-{index}", title=f"Workspace cap #{index + 1}",
                     source="workspace setting", limit=int(entry["max_calls"]),
                     window=timedelta(hours=float(entry["per_hours"])))
        for index, entry in enumerate(dict(c) for c in settings.get("frequency_caps") or ()))
    floors = FloorSettings(default_floor=default or DEFAULT_FLOOR_SETTINGS.default_floor,
                           stricter=stricter, caps=caps)
    return Profile(floors=floors,
                   require_registry_scrub=bool(settings.get("require_registry_scrub")))


def _rule(key: str, title: str, frozen: Any) -> FloorRule | None:
    if not frozen:
        return None
    floor = dict(frozen)
    days = floor.get("days") or _DAYS
    slots: list[TimeRange] = [
        (_time(dict(slot)["start_time"]), _time(dict(slot)["end_time"]))
        for slot in floor.get("slots") or ()]
    return workspace_rule(key, title, {_DAYS.index(day): slots for day in days})


def _time(text: str) -> time:
    return time.fromisoformat(text)

