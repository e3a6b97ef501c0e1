"""The workspace's compliance settings in /v1/settings, and their effective values."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient

from ringwise.services.compliance_settings import DEFAULT_FLOOR, effective, merge, settings_of
from tests.helpers import error_of

DEFAULTS = {
    "default_floor": {"days": ["mon", "tue", "wed", "thu", "fri", "sat"],
                      "slots": [{"start_time": "09:00", "end_time": "20:00"}]},
    "stricter_floor": None, "frequency_caps": [], "require_registry_scrub": False,
}
WEEKDAYS_10_TO_7 = {"days": ["mon", "tue", "wed", "thu", "fri"],
                    "slots": [{"start_time": "10:00", "end_time": "19:00"}]}


def patch(client: TestClient, compliance: Any) -> dict[str, Any]:
    response = client.patch("/v1/settings", json={"compliance": compliance})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["compliance"]
    assert client.get("/v1/settings").json()["compliance"] == body
    return body


def test_defaults(client: TestClient) -> None:
    assert client.get("/v1/settings").json()["compliance"] == DEFAULTS


def test_keys_sent_change_the_others_keep(client: TestClient) -> None:
    body = patch(client, {"stricter_floor": WEEKDAYS_10_TO_7,
                          "frequency_caps": [{"max_calls": 3, "per_hours": 24},
                                             {"max_calls": 7, "per_hours": 168}]})
    assert body["stricter_floor"] == WEEKDAYS_10_TO_7
    assert body["default_floor"] == DEFAULTS["default_floor"]
    body = patch(client, {"require_registry_scrub": True,
                          "default_floor": {"days": ["Monday", "fri", "wed"],
                                            "slots": [{"start_time": "9:00",
                                                       "end_time": "12:00"},
                                                      {"start_time": "14:00",
                                                       "end_time": "18:00"}]}})
    assert body["require_registry_scrub"] is True
    assert body["default_floor"] == {"days": ["mon", "wed", "fri"],
                                     "slots": [{"start_time": "09:00", "end_time": "12:00"},
                                               {"start_time": "14:00", "end_time": "18:00"}]}
    assert body["stricter_floor"] == WEEKDAYS_10_TO_7  # kept
    assert len(body["frequency_caps"]) == 2
    body = patch(client, {"default_floor": None, "frequency_caps": []})
    assert body["default_floor"] == DEFAULTS["default_floor"]
    assert body["frequency_caps"] == [] and body["require_registry_scrub"] is True
    # other settings leave compliance alone; "compliance": null restores every default
    assert client.patch("/v1/settings", json={"name": "Acme 2"}).json()["compliance"] == body
    assert patch(client, None) == DEFAULTS


INVALID: list[tuple[Any, str]] = [
    ({"default_floor": {"days": [], "slots": [{"start_time": "09:00", "end_time": "20:00"}]}},
     "compliance.default_floor.days"),
    ({"default_floor": {"days": ["funday"], "slots": [{"start_time": "09:00",
                                                        "end_time": "20:00"}]}},
     "compliance.default_floor.days[0]"),
    ({"default_floor": {"days": ["mon", "tue", "mon"], "slots": [{"start_time": "09:00",
                                                                   "end_time": "20:00"}]}},
     "compliance.default_floor.days[2]"),
    ({"default_floor": {"days": [0], "slots": [{"start_time": "09:00", "end_time": "20:00"}]}},
     "compliance.default_floor.days[0]"),
    ({"default_floor": {"days": ["mon"], "slots": []}}, "compliance.default_floor.slots"),
    ({"default_floor": {"days": ["mon"]}}, "compliance.default_floor.slots"),
    ({"default_floor": {"slots": [{"start_time": "09:00", "end_time": "20:00"}]}},
     "compliance.default_floor.days"),
    ({"default_floor": {"days": ["mon"], "slots": [{"start_time": "09:00",
                                                     "end_time": "13:00"},
                                                    {"start_time": "12:00",
                                                     "end_time": "14:00"}]}},
     "compliance.default_floor.slots[1]"),
    ({"stricter_floor": {"days": ["mon"], "slots": [{"start_time": "20:00",
                                                      "end_time": "09:00"}]}},
     "compliance.stricter_floor.slots[0].end_time"),
    ({"stricter_floor": {"days": ["mon"], "slots": [{"start_time": "9am",
                                                      "end_time": "20:00"}]}},
     "compliance.stricter_floor.slots[0].start_time"),
    ({"stricter_floor": {"days": ["mon"], "slots": [{"start_time": "09:00",
                                                      "end_time": "20:00", "tz": "x"}]}},
     "compliance.stricter_floor.slots[0].tz"),
    ({"stricter_floor": {"days": ["mon"], "slots": [{"start_time": "09:00",
                                                      "end_time": "20:00"}], "x": 1}},
     "compliance.stricter_floor.x"),
    ({"frequency_caps": [{"max_calls": 0, "per_hours": 24}]},
     "compliance.frequency_caps[0].max_calls"),
    ({"frequency_caps": [{"max_calls": 3, "per_hours": 0}]},
     "compliance.frequency_caps[0].per_hours"),
    ({"frequency_caps": [{"max_calls": 3, "per_hours": 10_000}]},
     "compliance.frequency_caps[0].per_hours"),
    ({"frequency_caps": [{"max_calls": 3}]}, "compliance.frequency_caps[0].per_hours"),
    ({"frequency_caps": [{"max_calls": 3, "per_hours": 24}, {"max_calls": 2, "per_hours": 24}]},
     "compliance.frequency_caps[1].per_hours"),
    ({"frequency_caps": [{"max_calls": 1, "per_hours": h} for h in range(1, 12)]},
     "compliance.frequency_caps"),
    ({"frequency_caps": {"max_calls": 3, "per_hours": 24}}, "compliance.frequency_caps"),
    ({"require_registry_scrub": "maybe"}, "compliance.require_registry_scrub"),
    ({"require_registry_scrub": [True]}, "compliance.require_registry_scrub"),
    ({"opt_out_words": ["stop"]}, "compliance.opt_out_words"),
    ("strict", "compliance"),
    ([], "compliance"),
]


def test_invalid_settings_name_the_field(client: TestClient) -> None:
    for compliance, field in INVALID:
        error = error_of(client.patch("/v1/settings", json={"compliance": compliance}))
        assert error["field"] == field, (compliance, error)
        assert error["message"]
    assert client.get("/v1/settings").json()["compliance"] == DEFAULTS  # nothing changed


def test_settings_of_is_pure_and_fills_defaults() -> None:
    assert settings_of(SimpleNamespace(compliance=None)) == DEFAULTS
    stored = {"require_registry_scrub": True, "frequency_caps": [{"max_calls": 3,
                                                                  "per_hours": 24}]}
    result = settings_of(SimpleNamespace(compliance=stored))
    assert result == {**DEFAULTS, "require_registry_scrub": True,
                      "frequency_caps": [{"max_calls": 3, "per_hours": 24}]}
    result["frequency_caps"].append({"max_calls": 1, "per_hours": 1})
    result["default_floor"]["days"].append("sun")
    assert stored["frequency_caps"] == [{"max_calls": 3, "per_hours": 24}]
    assert DEFAULT_FLOOR["days"] == DEFAULTS["default_floor"]["days"]  # type: ignore[index]
    assert effective({"stricter_floor": WEEKDAYS_10_TO_7})["stricter_floor"] == \
        WEEKDAYS_10_TO_7


def test_merge() -> None:
    assert merge(None, {}) is None
    assert merge(None, {"default_floor": None}) is None
    assert merge({"require_registry_scrub": True}, {"frequency_caps": []}) == {
        "require_registry_scrub": True, "frequency_caps": []}
    assert merge({"require_registry_scrub": True}, {"require_registry_scrub": None}) is None
