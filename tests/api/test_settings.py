from __future__ import annotations

from fastapi.testclient import TestClient


def test_get_settings_shows_defaults(client: TestClient) -> None:
    response = client.get("/v1/settings")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "Acme"
    assert body["timezone"] == "America/New_York"
    assert body["concurrency_limit"] == 10
    assert body["concurrency_rate"] == 100
    assert body["business_hours"] is None


def test_update_settings(client: TestClient) -> None:
    response = client.patch("/v1/settings", json={
        "timezone": "America/Chicago", "concurrency_rate": 70,
        "business_hours": [{"start_time": "09:00", "end_time": "12:00"},
                           {"start_time": "13:00", "end_time": "17:00"}],
    })
    assert response.status_code == 200, response.text
    again = client.get("/v1/settings").json()
    assert again["timezone"] == "America/Chicago"
    assert again["concurrency_rate"] == 70
    assert again["business_hours"][1] == {"start_time": "13:00", "end_time": "17:00"}


def test_business_hours_outside_tcpa_names_the_slot(client: TestClient) -> None:
    response = client.patch("/v1/settings", json={
        "business_hours": [{"start_time": "09:00", "end_time": "12:00"},
                           {"start_time": "19:00", "end_time": "21:30"}],
    })
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "business_hours[1]"
    assert "08:00-21:00" in error["message"]


def test_overlapping_slots_rejected(client: TestClient) -> None:
    response = client.patch("/v1/settings", json={
        "business_hours": [{"start_time": "09:00", "end_time": "12:00"},
                           {"start_time": "11:00", "end_time": "13:00"}],
    })
    assert response.status_code == 422
    assert "overlaps" in response.json()["error"]["message"]


def test_slot_end_before_start(client: TestClient) -> None:
    response = client.patch("/v1/settings", json={
        "business_hours": [{"start_time": "12:00", "end_time": "09:00"}],
    })
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "business_hours[0].end_time"


def test_bad_timezone_and_rate(client: TestClient) -> None:
    response = client.patch("/v1/settings", json={"timezone": "Mars/Olympus"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "timezone"
    response = client.patch("/v1/settings", json={"concurrency_rate": 101})
    assert response.json()["error"]["field"] == "concurrency_rate"


def test_unknown_field_rejected(client: TestClient) -> None:
    response = client.patch("/v1/settings", json={"id": "x"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "id"


def test_settings_need_a_key(anon_client: TestClient) -> None:
    response = anon_client.get("/v1/settings")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
