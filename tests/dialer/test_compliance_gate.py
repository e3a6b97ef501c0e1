"""The dial-time gate's own shortcuts agree with the rules they stand for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import phonenumbers
from hypothesis import given
from hypothesis import strategies as st

from ringwise.core.compliance.floors import floor_for
from ringwise.core.compliance.jurisdiction import jurisdiction_of
from ringwise.core.phones import describe
from ringwise.dialer.compliance import Profile, check, floor_of
from ringwise.dialer.store import Target

AT = datetime(2026, 3, 2, 15, tzinfo=UTC)


@given(st.lists(st.tuples(st.integers(200, 999), st.integers(200, 999),
                          st.integers(0, 9999)), min_size=1, max_size=40),
       st.sampled_from([None, "Florida", "CT", "Ontario"]))
def test_the_floor_shared_by_a_prefix_is_each_numbers_own(
        parts: list[tuple[int, int, int]], state: str | None) -> None:
    """floor_of remembers a North American floor by area code and exchange; every number of
    the prefix must have that floor when described on its own."""
    profile = Profile()  # a fresh memo
    for npa, nxx, line in parts:
        phone = f"+1{npa}{nxx}{line:04d}"
        if not phonenumbers.is_valid_number(phonenumbers.parse(phone)):
            continue
        expected = floor_for(jurisdiction_of(describe(phone), state, None), profile.floors)
        assert floor_of(phone, state, None, profile) == expected, phone


def _target(**facts: object) -> Target:
    base = Target(id="t", campaign_id="c", contact_id="p", phone="+13055550100",
                  contact_timezone=None, zones=None, attempts=0, due_at=None, window_end=None,
                  caller_number_id=None, first_attempt_at=None)
    return Target(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **facts})


def test_the_gate_blocks_and_defers_for_its_reasons() -> None:
    profile = Profile()
    floor = floor_of("+13055550100", None, None, profile)  # Florida: 3 calls per 24 h
    assert check(_target(), floor, profile, AT, telemarketing=False,
                 regulation_f=False).decision == "dial"
    assert check(_target(dnc="+1305*"), floor, profile, AT, telemarketing=False,
                 regulation_f=False).reason == "dnc-listed"
    assert check(_target(consent_basis="express"), floor, profile, AT, telemarketing=True,
                 regulation_f=False).reason == "no-consent"
    assert check(_target(consent_basis="express_written"), floor, profile, AT,
                 telemarketing=True, regulation_f=False).decision == "dial"
    three = tuple(AT - timedelta(hours=h) for h in (1, 2, 3))
    deferred = check(_target(recent_calls=three), floor, profile, AT, telemarketing=False,
                     regulation_f=False)
    assert deferred.decision == "defer" and deferred.reason == "cap:us-fl-3-per-24h"
    assert deferred.not_before == AT + timedelta(hours=21)
    talked = check(_target(recent_calls=(AT - timedelta(days=1),),
                           conversations=(AT - timedelta(days=1),)), floor, profile, AT,
                   telemarketing=False, regulation_f=True)
    assert talked.decision == "defer" and talked.reason == "cap:regulation-f"
    strict = Profile(require_registry_scrub=True)
    for scrubbed in (None, AT - timedelta(days=32), AT + timedelta(days=1)):
        assert check(_target(registry_scrubbed_at=scrubbed), floor, strict, AT,
                     telemarketing=False, regulation_f=False).reason == "registry-scrub-stale"
    assert check(_target(registry_scrubbed_at=AT - timedelta(days=30)), floor, strict, AT,
                 telemarketing=False, regulation_f=False).decision == "dial"
