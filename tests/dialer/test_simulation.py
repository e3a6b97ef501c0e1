"""The simulator: a scenario through the API's schemas and services, then the real dialer on
virtual time. These tests check what a forecast promises: determinism, calls only inside the
calling hours, a summary that agrees with the call log, and field-named input errors."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ringwise.dialer.simulation import (
    Prepared,
    ScenarioError,
    Simulation,
    contact_id_for,
    load_scenario,
    parse_scenario,
    preflight_summary,
    prepare,
    run,
    slot_limit,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AREA_CODES = ("212", "312", "303", "415", "602", "808")  # NY, Chicago, Denver, SF, AZ, HI


def phones(count: int, start: int = 0) -> list[str]:
    return [f"+1{AREA_CODES[i % len(AREA_CODES)]}555{1000 + i:04d}"
            for i in range(start, start + count)]


def scenario(**overrides: Any) -> dict[str, Any]:
    """A small weekday 09:00-17:00 campaign over several zones."""
    data: dict[str, Any] = {
        "name": "test",
        "launch_at": "2026-03-02T13:00:00Z",  # Monday 08:00 New York
        "horizon_days": 10,
        "seed": 3,
        "settings": {"concurrency_limit": 4},
        "assistant": {"name": "Ava", "first_message": "Hi {{first_name}}",
                      "voicemail_message": "Please call back"},
        "phone_numbers": [{"number": "+12125550999"}, {"number": "(415) 555-0999"}],
        "campaign": {
            "name": "Forecast",
            "caller_id": {"mode": "pool", "phone_number_ids": ["+12125550999",
                                                               "(415) 555-0999"]},
            "schedule": {"days": ["mon", "tue", "wed", "thu", "fri"],
                         "call_hours": {"start_time": "09:00", "end_time": "17:00"},
                         "end_at": "2026-03-07T12:00:00Z"},
            "retry": {"delays_minutes": [30, 90], "max_attempts": 3},
            "concurrency_limit": 3,
        },
        "contacts": [{"phone": p, "first_name": f"C{i}"} for i, p in enumerate(phones(60))],
        "carrier": {"answer_rate": 0.2, "voicemail_rate": 0.2, "busy_rate": 0.1},
    }
    data.update(overrides)
    return data


def simulate(data: dict[str, Any], tmp_path: Path | None = None, **kwargs: Any) -> Simulation:
    prepared = prepare(parse_scenario(data, tmp_path))
    return run(prepared, **kwargs)


@pytest.fixture(scope="module")
def result() -> Simulation:
    return simulate(scenario())


def lines(sim: Simulation) -> list[dict[str, Any]]:
    return [json.loads(line) for line in sim.call_lines()]


# --- determinism -------------------------------------------------------------------------------

def test_same_seed_same_calls_byte_for_byte(result: Simulation, tmp_path: Path) -> None:
    again = simulate(scenario())
    assert list(again.call_lines()) == list(result.call_lines())
    assert json.dumps(again.summary) == json.dumps(result.summary)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    with first.open("w") as out:
        result.write_calls(out)
    with second.open("w") as out:
        again.write_calls(out)
    assert first.read_bytes() == second.read_bytes()


def test_another_seed_gives_other_calls(result: Simulation) -> None:
    other = simulate(scenario(), seed=4)
    assert other.summary["seed"] == 4
    assert list(other.call_lines()) != list(result.call_lines())


def test_ids_are_derived_not_random(result: Simulation) -> None:
    by_phone = {row["phone"]: row["contact_id"] for row in lines(result)}
    for phone, contact_id in by_phone.items():
        assert contact_id == contact_id_for(phone)


# --- the call log ------------------------------------------------------------------------------

def test_calls_are_placed_only_inside_calling_hours(result: Simulation) -> None:
    rows = lines(result)
    assert rows
    end = datetime(2026, 3, 7, 12, tzinfo=UTC)
    for row in rows:
        placed = datetime.fromisoformat(row["placed_at"].replace("Z", "+00:00"))
        assert placed < end
        assert row["timezone"]
        for name in row["timezone"].split(","):
            local = placed.astimezone(ZoneInfo(name))
            assert local.weekday() < 5, row
            assert time(9) <= local.time() < time(17), row


def test_call_rows_are_complete_and_ordered(result: Simulation) -> None:
    rows = lines(result)
    assert list(rows[0]) == ["call_id", "contact_id", "phone", "attempt", "caller_id",
                             "timezone", "placed_at", "answered_at", "ended_at", "outcome"]
    placed = [row["placed_at"] for row in rows]
    assert placed == sorted(placed)
    assert len({row["call_id"] for row in rows}) == len(rows)
    attempts: dict[str, list[int]] = {}
    for row in rows:
        assert row["caller_id"] in ("+12125550999", "+14155550999")
        assert row["placed_at"].endswith("Z") and row["ended_at"].endswith("Z")
        assert row["placed_at"] <= row["ended_at"]
        if row["answered_at"] is not None:
            assert row["placed_at"] <= row["answered_at"] <= row["ended_at"]
        attempts.setdefault(row["contact_id"], []).append(row["attempt"])
    for numbers in attempts.values():
        assert numbers == list(range(1, len(numbers) + 1))
        assert len(numbers) <= 3


def test_summary_agrees_with_the_call_log(result: Simulation) -> None:
    rows, summary = lines(result), result.summary
    assert summary["attempts"] == len(rows)
    outcomes = Counter(row["outcome"] for row in rows)
    assert {k: v for k, v in summary["outcomes"].items() if v} == dict(outcomes)
    assert summary["connects"] == outcomes["answered"]
    assert summary["last_call_ended_at"] == max(row["ended_at"] for row in rows)
    assert sum(summary["attempts_per_hour"].values()) == len(rows)
    per_hour = Counter(row["placed_at"][:13] + ":00Z" for row in rows)
    assert summary["attempts_per_hour"] == dict(sorted(per_hour.items()))
    assert summary["peak_attempts_per_hour"] == max(per_hour.values())
    assert summary["attempts_by_caller_id"] == dict(sorted(
        Counter(row["caller_id"] for row in rows).items()))
    contacts = summary["contacts"]
    reached = {row["contact_id"] for row in rows if row["outcome"] == "answered"}
    assert contacts["reached"] == len(reached)
    assert contacts["loaded"] == 60
    assert contacts["left"] == 60 - len(reached)
    assert sum(contacts["by_state"].values()) == 60
    assert sum(sum(v.values()) for v in contacts["left_why"].values()) == contacts["left"]


def test_capacity_metrics(result: Simulation) -> None:
    capacity = result.summary["capacity"]
    assert capacity["slot_limit"] == 3  # campaign 3 under the workspace's 4
    assert 1 <= capacity["peak_concurrency"] <= 3
    assert capacity["slot_utilization"] is not None
    assert 0 < capacity["slot_utilization"] <= 1
    rows = lines(result)
    busy = sum((datetime.fromisoformat(r["ended_at"].replace("Z", "+00:00"))
                - datetime.fromisoformat(r["placed_at"].replace("Z", "+00:00"))).total_seconds()
               for r in rows) / 3600
    assert capacity["busy_slot_hours"] == pytest.approx(busy, abs=0.01)


def test_peak_concurrency_is_the_most_calls_in_flight(result: Simulation) -> None:
    events: list[tuple[str, int]] = []
    for row in lines(result):
        if row["ended_at"] > row["placed_at"]:
            events += [(row["placed_at"], 1), (row["ended_at"], -1)]
    level = peak = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        level += delta
        peak = max(peak, level)
    assert result.summary["capacity"]["peak_concurrency"] == peak


def test_the_campaign_finishes_or_says_why(result: Simulation) -> None:
    summary = result.summary
    assert summary["stop_reason"] in ("completed", "horizon", "idle")
    if summary["stop_reason"] == "completed":
        assert summary["completed_at"] == summary["stopped_at"]
        assert summary["campaign_status"] == "completed"
        assert summary["contacts"]["by_state"]["pending"] == 0


def test_horizon_stops_the_run_and_says_so() -> None:
    sim = simulate(scenario(horizon_days=0.1))  # 2.4 h: not even the first window ends
    summary = sim.summary
    assert summary["stop_reason"] == "horizon"
    assert summary["completed_at"] is None
    assert summary["stopped_at"] == "2026-03-02T15:24:00.000Z"
    assert summary["contacts"]["left"] > 0
    assert "pending-at-stop" in summary["contacts"]["left_why"]


# --- input accounting and preflight ------------------------------------------------------------

def test_invalid_duplicate_and_dnc_rows_are_not_loaded(tmp_path: Path) -> None:
    csv_file = tmp_path / "more.csv"
    csv_file.write_text("phone,first_name\n+13125559000,Csv\nnot a phone,Bad\n"
                        "+13125559000,Again\n+12125551000,Overlap\n", encoding="utf-8")
    data = scenario(
        contacts=[{"phone": "+12125551000"}, {"phone": "12345"}, {"phone": "+12125551000"},
                  {"phone": "+14155552000", "email": "not-an-email"},
                  {"phone": "+14155552001"}, {"phone": "+16025552002"}],
        contacts_csv="more.csv",
        dnc=["(415) 555-2001", "+16025552002"])
    prepared = prepare(parse_scenario(data, tmp_path))
    report = prepared.preflight
    # inline: 6 rows, 2 invalid, 1 duplicate; csv: 4 rows, 1 invalid, 2 duplicates
    assert prepared.inputs.rows == 10
    assert report.skipped["invalid"] == 3
    assert report.skipped["duplicate"] == 3
    assert report.skipped["dnc"] == 2
    assert report.contacts == 10
    assert report.callable == 2 and len(prepared.targets) == 2
    assert {t.phone for t in prepared.targets} == {"+12125551000", "+13125559000"}
    sources = [(r.source, r.field) for r in report.rejections]
    assert sources == [("contacts[1]", "phone"), ("contacts[3]", "email"),
                       ("more.csv row 3", "phone")]
    summary = run(prepared).summary
    assert summary["contacts"]["not_loaded"] == {"invalid": 3, "duplicate": 3, "dnc": 2}
    assert summary["contacts"]["loaded"] == 2
    assert all(line.count("+1415555200") == 0 for line in run(prepared).call_lines())


def test_preflight_counts_no_window_before_end() -> None:
    # Honolulu opens at 19:00 UTC, after end_at: never called. A toll-free number spans ~40
    # zones that are never all inside 09:00-17:00 at once.
    data = scenario(contacts=[{"phone": "+12125551000"}, {"phone": "+18085551000"},
                              {"phone": "+18005551000"}])
    data["campaign"]["schedule"]["end_at"] = "2026-03-02T18:00:00Z"
    prepared = prepare(parse_scenario(data))
    assert prepared.preflight.skipped["no_window_before_end"] == 2
    assert prepared.preflight.callable == 1
    assert prepared.preflight.first_eligible_at == datetime(2026, 3, 2, 14, tzinfo=UTC)
    summary = run(prepared).summary
    assert summary["contacts"]["left_why"]["no-window-before-end"] == {"never-called": 2}


def test_preflight_only_does_not_start(tmp_path: Path) -> None:
    data = scenario(phone_numbers=[])
    data["campaign"]["caller_id"] = {"mode": "pool"}
    prepared = prepare(parse_scenario(data), start=False)
    answer = preflight_summary(prepared)
    assert answer["ready"] is False
    assert answer["not_ready"]["field"] == "campaign.caller_id.phone_number_ids"
    assert answer["contacts"] == 60 and answer["callable"] == 60
    assert prepared.campaign.status == "draft"
    with pytest.raises(ScenarioError) as caught:
        prepare(parse_scenario(data))
    assert caught.value.field == "campaign.caller_id.phone_number_ids"


def test_future_schedule_start_is_honoured() -> None:
    data = scenario()
    data["campaign"]["schedule"]["start_at"] = "2026-03-03T15:00:00Z"
    prepared = prepare(parse_scenario(data))
    assert prepared.campaign.status == "scheduled"
    rows = lines(run(prepared))
    assert rows and min(r["placed_at"] for r in rows) >= "2026-03-03T15:00:00.000Z"


def test_slot_limit_takes_the_tighter_of_workspace_and_campaign() -> None:
    prepared: Prepared = prepare(parse_scenario(scenario(
        settings={"concurrency_limit": 10, "concurrency_rate": 50})))
    assert slot_limit(prepared.workspace, prepared.campaign) == 3
    unlimited = scenario(settings={"concurrency_limit": 10, "concurrency_rate": 50})
    unlimited["campaign"]["concurrency_limit"] = 0
    prepared = prepare(parse_scenario(unlimited))
    assert slot_limit(prepared.workspace, prepared.campaign) == 5


# --- bad input names the field -----------------------------------------------------------------

def _error(data: Any, tmp_path: Path | None = None) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        prepare(parse_scenario(data, tmp_path))
    return caught.value


def _campaign(**changes: Any) -> dict[str, Any]:
    data = scenario()
    data["campaign"].update(changes)
    return data


@pytest.mark.parametrize(("data", "field"), [
    (_campaign(retry={"delays_minutes": [0, 60]}), "campaign.retry.delays_minutes[0]"),
    (_campaign(retry={"delays_minutes": [30], "bogus": 1}), "campaign.retry.bogus"),
    (_campaign(schedule={"days": ["funday"]}), "campaign.schedule.days[0]"),
    (_campaign(concurrency_limit=5000), "campaign.concurrency_limit"),
    (_campaign(caller_id={"mode": "pool", "phone_number_ids": ["+19995550000"]}),
     "campaign.caller_id.phone_number_ids[0]"),
    (scenario(carrier={"answer_rate": 2}), "carrier.answer_rate"),
    (scenario(carrier={"talk_time": {"kind": "lognormal", "median_s": 30}}),
     "carrier.talk_time.sigma"),
    (scenario(settings={"timezone": "Mars/Olympus"}), "settings.timezone"),
    (scenario(phone_numbers=[{"number": "+12125550999"}, {"number": "555"}]),
     "phone_numbers[1].number"),
    (scenario(dnc=["+12125550000", "nope"]), "dnc[1]"),
    (scenario(horizon_days=0), "horizon_days"),
    (scenario(launch_at="2026-03-02T13:00:00"), "launch_at"),
    (scenario(unknown_section=1), "unknown_section"),
    (scenario(contacts=["+12125551000"]), "contacts[0]"),
    (scenario(contacts_csv="missing.csv"), "contacts_csv"),
    (_campaign(schedule={"end_at": "2026-03-01T00:00:00Z"}), "campaign.schedule.end_at"),
])
def test_bad_fields_are_named(data: dict[str, Any], field: str) -> None:
    error = _error(data)
    assert error.field == field, str(error)
    assert str(error).startswith(f"{field}: ")


def test_missing_campaign_is_named() -> None:
    data = scenario()
    del data["campaign"]
    assert _error(data).field == "campaign"


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{\"launch_at\": ", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.field is None
    assert "not valid JSON" in str(caught.value)


def test_csv_without_phone_column(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("name,email\nAnn,a@example.com\n", encoding="utf-8")
    error = _error(scenario(contacts_csv="c.csv"), tmp_path)
    assert error.field == "contacts_csv"
    assert "no phone column" in error.message


# --- the examples ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["quick.json", "retry-heavy.json"])
def test_examples_run(name: str) -> None:
    sim = run(prepare(load_scenario(EXAMPLES / name)))
    assert sim.summary["attempts"] > 0
    assert sim.summary["scenario"] == name.removesuffix(".json")


def test_benchmark_example_is_valid() -> None:
    loaded = load_scenario(EXAMPLES / "week-100k.json")
    assert loaded.file.contacts_csv == "contacts-100k.csv"
    assert loaded.file.horizon_days == 7


def test_csv_mapping_names_its_key(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("Mobile,name\n+12125551000,Ann\n", encoding="utf-8")
    error = _error(scenario(contacts_csv="c.csv", csv_mapping={"phone": "Cell"}), tmp_path)
    assert error.field == "csv_mapping.phone"
    loaded = prepare(parse_scenario(
        scenario(contacts=[], contacts_csv="c.csv", csv_mapping={"phone": "Mobile"}), tmp_path))
    assert [t.phone for t in loaded.targets] == ["+12125551000"]


# --- what a forecast must get right about timing ------------------------------------------------
# A number not in service fails the instant it is dialed: the driver must apply that ending at
# once, or it hides every later call ending and the slots sit idle (a bug once).


def test_slots_stay_busy_while_contacts_wait() -> None:
    summary = run(prepare(load_scenario(EXAMPLES / "quick.json"))).summary
    assert summary["capacity"]["slot_utilization"] > 0.95


def test_completes_when_the_last_contact_is_done() -> None:
    summary = run(prepare(load_scenario(EXAMPLES / "quick.json"))).summary
    assert summary["campaign_ended_reason"] == "all-contacts-done"
    assert summary["completed_at"] == summary["last_call_ended_at"]


def test_contacts_loaded_scheduled_run_as_if_the_dialer_scheduled_them() -> None:
    """The simulator hands over contacts already scheduled by the preflight (a shortcut for
    speed); the run must equal the one where the dialer schedules them on its first tick."""
    from dataclasses import replace

    prepared = prepare(parse_scenario(scenario()))
    assert all(t.due_at is not None for t in prepared.targets)
    unscheduled = replace(prepared, targets=tuple(
        replace(t, due_at=None, window_end=None) for t in prepared.targets))
    shortcut, full = run(prepared), run(unscheduled)
    assert list(shortcut.call_lines()) == list(full.call_lines())
    for key in ("attempts", "capacity", "outcomes", "completed_at"):
        assert shortcut.summary[key] == full.summary[key], key
