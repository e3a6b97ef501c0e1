"""Caller id: which of the workspace's own numbers calls a contact.

Pure: no I/O. Inputs are plain values (never DB rows); only a number passed in can be chosen,
so the caller passes the workspace's numbers that the campaign may use, and nothing else.

Modes (the campaign's ``caller_id.mode``):

* ``fixed``: the one configured number. If several are passed, the first in canonical order
  (below) is used, so the choice does not depend on how they were listed.
* ``pool``: round-robin over the pool by ``rotation``. Numbers are put in a canonical order
  (E.164, then id) first, so the same pool listed in any order, by any worker, gives the same
  number. :func:`rotation_for` derives ``rotation`` from a stable key of the campaign contact
  and its attempt number: first attempts spread over the pool, and each retry of a contact
  moves to the next number (a callee who ignored one number may pick up another). A caller may
  pass any other counter instead (e.g. a campaign-wide dial counter).
* ``local_presence``: the nearest numbers to the callee, by tier: same country and area code,
  else same country and region (state / province), else same country, else any pool number.
  Ties within the best tier rotate like ``pool``. A field that is unknown (None) on either
  side never matches.
* ``dial_plan``: the number assigned to this contact (the campaign contact's
  ``caller_number_id``), if it is still among the numbers passed in.

When nothing fits (empty pool, no or vanished dial-plan number) the choice has ``number=None``
and a reason the dialer can record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

from ringwise.core.phones import describe

CallerIdMode = Literal["fixed", "pool", "local_presence", "dial_plan"]
CALLER_ID_MODES: Final[tuple[CallerIdMode, ...]] = get_args(CallerIdMode)

# Why a number was chosen, or why none was.
ChoiceReason = Literal[
    "fixed", "pool-rotation", "dial-plan",
    "same-area-code", "same-region", "same-country", "any-pool-number",
    "no-numbers", "no-dial-plan-number", "dial-plan-number-gone",
]
# local_presence tiers, nearest first.
PRESENCE_TIERS: Final[tuple[ChoiceReason, ...]] = (
    "same-area-code", "same-region", "same-country", "any-pool-number")


@dataclass(frozen=True, slots=True)
class OwnedNumber:
    """A number of the workspace that may be used as caller id."""

    id: str
    e164: str
    country: str | None = None  # ISO 3166-1 alpha-2
    region: str | None = None  # state / province
    area_code: str | None = None


@dataclass(frozen=True, slots=True)
class Callee:
    """Where the called number is, as far as its numbering plan tells."""

    e164: str
    country: str | None = None
    region: str | None = None
    area_code: str | None = None


@dataclass(frozen=True, slots=True)
class CallerIdChoice:
    """The number to call from (None: no number fits) and why."""

    number: OwnedNumber | None
    reason: ChoiceReason


def callee_from_e164(e164: str) -> Callee:
    """A :class:`Callee` located with :func:`ringwise.core.phones.describe`."""
    info = describe(e164)
    return Callee(e164=e164, country=info.country, region=info.region, area_code=info.area_code)


def owned_number_from_e164(number_id: str, e164: str) -> OwnedNumber:
    """An :class:`OwnedNumber` located the same way as callees, so the tiers compare alike."""
    info = describe(e164)
    return OwnedNumber(id=number_id, e164=e164, country=info.country, region=info.region,
                       area_code=info.area_code)


def rotation_for(contact_key: str, attempt: int) -> int:
    """A rotation counter for ``pool`` / ``local_presence``: stable per contact (not Python's
    salted ``hash``, so every process agrees), plus ``attempt - 1`` so retries move on."""
    digest = hashlib.blake2b(contact_key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") + attempt - 1


def presence_tier(number: OwnedNumber, callee: Callee) -> int:
    """Index in :data:`PRESENCE_TIERS` of how near ``number`` is to ``callee`` (0 = nearest)."""
    if number.country is None or number.country != callee.country:
        return 3
    if number.area_code is not None and number.area_code == callee.area_code:
        return 0
    if number.region is not None and number.region == callee.region:
        return 1
    return 2


def canonical_order(numbers: Iterable[OwnedNumber]) -> tuple[OwnedNumber, ...]:
    """Numbers sorted by (E.164, id), one per id: the order rotations count in. An id given
    twice with different details is refused: which one won would depend on the order."""
    unique: dict[str, OwnedNumber] = {}
    for number in numbers:
        if unique.setdefault(number.id, number) != number:
            raise ValueError(f"number id {number.id!r} is given twice with different details")
    return tuple(sorted(unique.values(), key=lambda number: (number.e164, number.id)))


def choose_caller_number(mode: CallerIdMode, numbers: Sequence[OwnedNumber], callee: Callee,
                         *, rotation: int = 0,
                         assigned_number_id: str | None = None) -> CallerIdChoice:
    """Which of ``numbers`` calls ``callee`` under ``mode``; see the module doc.

    ``rotation`` drives ``pool`` and ties in ``local_presence`` (see :func:`rotation_for`);
    ``assigned_number_id`` is the dial-plan assignment, used by ``dial_plan`` only.
    """
    return choose_from_ordered(mode, canonical_order(numbers), callee, rotation=rotation,
                               assigned_number_id=assigned_number_id)


def choose_from_ordered(mode: CallerIdMode, ordered: tuple[OwnedNumber, ...], callee: Callee,
                        *, rotation: int = 0,
                        assigned_number_id: str | None = None) -> CallerIdChoice:
    """:func:`choose_caller_number` for numbers already in :func:`canonical_order` (the
    dialer orders a pool once per claim, not once per call)."""
    if mode not in CALLER_ID_MODES:
        raise ValueError(f"unknown caller id mode {mode!r}")
    if mode == "dial_plan":
        if assigned_number_id is None:
            return CallerIdChoice(None, "no-dial-plan-number")
        for number in ordered:
            if number.id == assigned_number_id:
                return CallerIdChoice(number, "dial-plan")
        return CallerIdChoice(None, "dial-plan-number-gone")
    if not ordered:
        return CallerIdChoice(None, "no-numbers")
    if mode == "fixed":
        return CallerIdChoice(ordered[0], "fixed")
    if mode == "pool":
        return CallerIdChoice(ordered[rotation % len(ordered)], "pool-rotation")
    tiers = [presence_tier(number, callee) for number in ordered]
    best = min(tiers)
    nearest = [number for number, tier in zip(ordered, tiers, strict=True) if tier == best]
    return CallerIdChoice(nearest[rotation % len(nearest)], PRESENCE_TIERS[best])
