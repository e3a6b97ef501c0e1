from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringwise.core.caller_id import (
    CALLER_ID_MODES,
    PRESENCE_TIERS,
    Callee,
    CallerIdMode,
    OwnedNumber,
    callee_from_e164,
    choose_caller_number,
    owned_number_from_e164,
    presence_tier,
    rotation_for,
)

NYC_212 = OwnedNumber("n-212", "+12125550001", "US", "NY", "212")
NYC_646 = OwnedNumber("n-646", "+16465550001", "US", "NY", "646")
SYRACUSE = OwnedNumber("n-315", "+13155550001", "US", "NY", "315")
SF = OwnedNumber("n-415", "+14155550001", "US", "CA", "415")
TORONTO = OwnedNumber("n-416", "+14165550001", "CA", "ON", "416")
MADRID = OwnedNumber("n-911", "+34911000001", "ES", None, "911")
POOL = [NYC_212, NYC_646, SYRACUSE, SF, TORONTO, MADRID]


def test_callee_and_owned_number_from_e164() -> None:
    assert callee_from_e164("+12125550123") == Callee("+12125550123", "US", "NY", "212")
    assert owned_number_from_e164("x", "+14165550100") == OwnedNumber(
        "x", "+14165550100", "CA", "ON", "416")


def test_local_presence_tiers() -> None:
    def pick(callee: Callee, pool: list[OwnedNumber]) -> tuple[str | None, str]:
        choice = choose_caller_number("local_presence", pool, callee)
        return (choice.number.id if choice.number else None), choice.reason

    manhattan = Callee("+12125550123", "US", "NY", "212")
    assert pick(manhattan, POOL) == ("n-212", "same-area-code")
    assert pick(manhattan, [SF, SYRACUSE, TORONTO]) == ("n-315", "same-region")
    assert pick(manhattan, [SF, TORONTO, MADRID]) == ("n-415", "same-country")
    assert pick(manhattan, [TORONTO, MADRID]) == ("n-416", "any-pool-number")
    # the same area code in another country is not local
    assert pick(Callee("+34911999999", "ES", None, "911"), [MADRID, NYC_212]) == (
        "n-911", "same-area-code")
    # unknown fields never match
    assert pick(Callee("+99", None, None, None), [MADRID, NYC_212]) == (
        "n-212", "any-pool-number")


def test_local_presence_rotates_among_ties_only() -> None:
    brooklyn = Callee("+17185550123", "US", "NY", "718")
    picks = {choose_caller_number("local_presence", POOL, brooklyn, rotation=r).number
             for r in range(6)}
    assert picks == {NYC_212, NYC_646, SYRACUSE}


def test_pool_round_robin_in_canonical_order() -> None:
    callee = Callee("+12125550123", "US", "NY", "212")
    ordered = sorted(POOL, key=lambda n: n.e164)
    for rotation in range(12):
        choice = choose_caller_number("pool", list(reversed(POOL)), callee, rotation=rotation)
        assert choice.number == ordered[rotation % len(ordered)]
        assert choice.reason == "pool-rotation"


def test_retries_move_to_the_next_pool_number() -> None:
    callee = Callee("+12125550123", "US", "NY", "212")
    first, second = (choose_caller_number("pool", POOL, callee,
                                          rotation=rotation_for("cc-1", attempt)).number
                     for attempt in (1, 2))
    assert first != second
    assert rotation_for("cc-1", 1) == rotation_for("cc-1", 1)  # stable across processes


def test_an_id_given_twice_must_be_the_same_number() -> None:
    callee = Callee("+12125550123", "US", "NY", "212")
    assert choose_caller_number("pool", [SF, SF], callee).number == SF
    with pytest.raises(ValueError, match="given twice"):
        choose_caller_number("pool", [SF, OwnedNumber(SF.id, "+14155550009")], callee)


def test_fixed_and_empty() -> None:
    callee = Callee("+12125550123", "US", "NY", "212")
    assert choose_caller_number("fixed", [SF], callee).number == SF
    for mode in ("fixed", "pool", "local_presence"):
        choice = choose_caller_number(mode, [], callee)
        assert (choice.number, choice.reason) == (None, "no-numbers")


def test_dial_plan() -> None:
    callee = Callee("+12125550123", "US", "NY", "212")
    assert choose_caller_number("dial_plan", POOL, callee,
                                assigned_number_id="n-415").number == SF
    gone = choose_caller_number("dial_plan", POOL, callee, assigned_number_id="deleted")
    assert (gone.number, gone.reason) == (None, "dial-plan-number-gone")
    missing = choose_caller_number("dial_plan", POOL, callee)
    assert (missing.number, missing.reason) == (None, "no-dial-plan-number")


# --- properties ---------------------------------------------------------------------------

countries = st.sampled_from(["US", "CA", "ES", None])
regions = st.sampled_from(["NY", "CA", "ON", None])
area_codes = st.sampled_from(["212", "415", "416", "911", None])
owned = st.builds(OwnedNumber, id=st.text("abcdef", min_size=1, max_size=3),
                  e164=st.sampled_from(["+12125550001", "+14155550002", "+34911000003"]),
                  country=countries, region=regions, area_code=area_codes)
callees = st.builds(Callee, e164=st.just("+12125550123"), country=countries, region=regions,
                    area_code=area_codes)
modes = st.sampled_from(CALLER_ID_MODES)


pools = st.lists(owned, max_size=8, unique_by=lambda number: number.id)


@given(mode=modes, pool=pools, callee=callees,
       rotation=st.integers(0, 10**6), assigned=st.one_of(st.none(), st.text("abcdef", max_size=3)),
       data=st.data())
def test_choice_is_one_of_the_given_numbers_and_deterministic(
        mode: CallerIdMode, pool: list[OwnedNumber], callee: Callee, rotation: int,
        assigned: str | None, data: st.DataObject) -> None:
    choice = choose_caller_number(mode, pool, callee, rotation=rotation,
                                  assigned_number_id=assigned)
    if choice.number is not None:
        assert choice.number in pool
    else:
        assert choice.reason in ("no-numbers", "no-dial-plan-number", "dial-plan-number-gone")
    # same inputs, in any order, give the same choice
    shuffled = data.draw(st.permutations(pool))
    assert choose_caller_number(mode, shuffled, callee, rotation=rotation,
                                assigned_number_id=assigned) == choice


@given(pool=pools.filter(bool), callee=callees,
       rotation=st.integers(0, 10**6))
def test_local_presence_never_picks_a_farther_number(pool: list[OwnedNumber], callee: Callee,
                                                     rotation: int) -> None:
    choice = choose_caller_number("local_presence", pool, callee, rotation=rotation)
    assert choice.number is not None
    nearest = min(presence_tier(number, callee) for number in pool)
    assert presence_tier(choice.number, callee) == nearest
    assert choice.reason == PRESENCE_TIERS[nearest]
