"""``ringwise simulate``, run the way a person runs it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ringwise.cli import app

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
QUICK = EXAMPLES / "quick.json"


def simulate(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["simulate", *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def summary_of(*args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(simulate(*args).stdout)
    return data


def test_help() -> None:
    assert "Usage" in simulate("--help").output


def test_calls_out_is_byte_identical_for_a_seed(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    summary = summary_of(str(QUICK), "--seed", "5", "--calls-out", str(first))
    summary_of(str(QUICK), "--seed", "5", "--calls-out", str(second))
    summary_of(str(QUICK), "--seed", "6", "--calls-out", str(other))
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    rows = [json.loads(line) for line in first.read_text().splitlines()]
    assert summary["seed"] == 5
    assert summary["attempts"] == len(rows) > 0
    outcomes = Counter(row["outcome"] for row in rows)
    assert {k: v for k, v in summary["outcomes"].items() if v} == dict(outcomes)
    assert summary["connects"] == outcomes["answered"]


def test_summary_shape() -> None:
    summary = summary_of(str(QUICK))
    for key in ("completed_at", "stop_reason", "attempts", "outcomes", "connects",
                "capacity", "attempts_per_hour", "contacts", "preflight"):
        assert key in summary
    capacity = summary["capacity"]
    assert capacity["peak_concurrency"] <= capacity["slot_limit"] == 5
    assert summary["contacts"]["not_loaded"] == {"invalid": 3, "duplicate": 6, "dnc": 3}


def test_preflight_only(tmp_path: Path) -> None:
    calls = tmp_path / "calls.jsonl"
    result = simulate(str(QUICK), "--preflight", "--calls-out", str(calls))
    answer = json.loads(result.stdout)
    assert not calls.exists()  # no calls placed, none written
    assert answer["skipped"] == {"invalid": 3, "duplicate": 6, "dnc": 3,
                                 "no_consent": 0, "registry_scrub_stale": 0, "unknown_timezone": 0,
                                 "no_window_before_end": 3}
    assert answer["contacts"] == answer["input_rows"] == 501
    assert answer["callable"] + answer["skipped_total"] == answer["contacts"]
    assert answer["ready"] is True
    assert answer["rejections"][0]["field"] == "phone"


def test_contacts_option_replaces_the_scenarios_csv(tmp_path: Path) -> None:
    csv_file = tmp_path / "few.csv"
    csv_file.write_text("phone\n+12125551111\n+13125551111\n", encoding="utf-8")
    answer = json.loads(simulate(str(QUICK), "--contacts", str(csv_file),
                                 "--preflight").stdout)
    assert answer["contacts"] == 3  # two from the file, one inline in the scenario


def bad(tmp_path: Path, change: dict[str, Any]) -> str:
    data = json.loads(QUICK.read_text())
    for path, value in change.items():
        target = data
        *parents, last = path.split(".")
        for part in parents:
            target = target[part]
        target[last] = value
    scenario = tmp_path / "bad.json"
    scenario.write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "contacts-500.csv").write_bytes((EXAMPLES / "contacts-500.csv").read_bytes())
    return str(scenario)


@pytest.mark.parametrize(("change", "field"), [
    ({"campaign.retry": {"delays_minutes": [0]}}, "campaign.retry.delays_minutes[0]"),
    ({"carrier.answer_rate": -1}, "carrier.answer_rate"),
    ({"settings.concurrency_limit": 0}, "settings.concurrency_limit"),
    ({"dnc": ["+1212555000", "x"]}, "dnc[0]"),
])
def test_bad_scenario_exits_2_naming_the_field(tmp_path: Path, change: dict[str, Any],
                                               field: str) -> None:
    result = simulate(bad(tmp_path, change), code=2)
    assert result.stdout == ""
    assert f"error: {field}: " in result.stderr


def test_not_json_exits_2(tmp_path: Path) -> None:
    scenario = tmp_path / "x.json"
    scenario.write_text("[1, 2", encoding="utf-8")
    assert "not valid JSON" in simulate(str(scenario), code=2).stderr


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = simulate(str(tmp_path / "nope.json"), code=2)
    assert "Usage: ringwise simulate" in result.output and result.stdout == ""
