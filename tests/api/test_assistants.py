from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Assistant, Campaign
from ringwise.ids import new_id
from tests.helpers import error_of, walk_pages

FULL: dict[str, Any] = {
    "name": "Ava - renewals",
    "kind": "workflow",
    "system_prompt": "You are Ava.",
    "persona": "Warm and brief.",
    "first_message": "Hi {{first_name}}, Ava from {{ company }}.",
    "returning_greeting": "Hi again {{first_name}} {{custom_fields.plan}}",
    "voicemail_message": "Please call back, {{first_name}}. Ref {{metadata.crm_id}}",
    "campaign_context": "Renewals due in 30 days.",
    "voice": {"provider": "elevenlabs", "voice_id": "v-1", "speed": 1.2, "stability": 0.4},
    "speech_settings": {"style": "friendly", "responsiveness": "fast",
                        "interruptions": "off", "emotions": "expressive"},
    "language": "EN-us",
    "analysis": {
        "scoring_criteria": "Score 0-100 based on buying intent",
        "structured_data_schema": [{"key": "budget", "description": "Budget"},
                                   {"key": "renewal_date", "type": "date"}],
        "tags": [{"name": "Interested", "description": "Wants it"}, {"name": "Follow-up"}],
    },
    "metadata": {"team": "renewals", "nested": {"a": [1, 2]}},
}


def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/assistants", json={"name": "Ava", **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def add_campaign(db: Database, clock: ManualClock, workspace_id: str, assistant_id: str | None,
                 status: str, name: str) -> str:
    campaign_id = new_id()
    with db.transaction() as session:
        session.add(Campaign(
            id=campaign_id, workspace_id=workspace_id, name=name, status=status,
            assistant_id=assistant_id, caller_id={"mode": "fixed", "phone_number_ids": []},
            schedule={}, retry={}, voicemail={}, memory={}, options={},
            created_at=clock.now(), updated_at=clock.now(),
        ))
    return campaign_id


def test_create_with_every_field_and_get(client: TestClient) -> None:
    created = create(client, **FULL)
    assert created["kind"] == "workflow"
    assert created["language"] == "en-US"  # canonical case
    assert created["voice"] == FULL["voice"]
    assert created["speech_settings"] == FULL["speech_settings"]
    assert created["analysis"]["structured_data_schema"] == [
        {"key": "budget", "description": "Budget", "type": "string"},  # type defaults to string
        {"key": "renewal_date", "description": None, "type": "date"},
    ]
    assert created["analysis"]["tags"][1] == {"name": "Follow-up", "description": None}
    assert created["metadata"] == FULL["metadata"]
    assert created["created_at"] == created["updated_at"] == "2026-03-02T15:00:00Z"

    fetched = client.get(f"/v1/assistants/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created


def test_minimal_create_has_documented_defaults(client: TestClient) -> None:
    created = create(client)
    assert created["kind"] == "assistant"
    assert created["language"] == "en-US"
    assert created["speech_settings"] == {"style": "neutral", "responsiveness": "balanced",
                                          "interruptions": "on", "emotions": "natural"}
    assert created["voice"] is None and created["analysis"] is None
    assert created["first_message"] is None and created["metadata"] is None


def test_partial_speech_settings_are_filled_with_defaults(client: TestClient) -> None:
    created = create(client, speech_settings={"interruptions": "off"})
    assert created["speech_settings"] == {"style": "neutral", "responsiveness": "balanced",
                                          "interruptions": "off", "emotions": "natural"}


@pytest.mark.parametrize(("payload", "field", "needle"), [
    ({"name": ""}, "name", "at least 1"),
    ({"name": "x" * 256}, "name", "at most 255"),
    ({"kind": "robot"}, "kind", "assistant"),
    ({"language": "english"}, "language", "BCP-47"),
    ({"language": "en_US"}, "language", "BCP-47"),
    ({"voice": {"voice_id": "v"}}, "voice.provider", "required"),
    ({"voice": {"provider": "x", "voice_id": "v", "speed": 3}}, "voice.speed", "less than"),
    ({"voice": {"provider": "x", "voice_id": "v", "pitch": 1}}, "voice.pitch", "not permitted"),
    ({"speech_settings": {"style": "angry"}}, "speech_settings.style", "neutral"),
    ({"speech_settings": {"interruptions": True}}, "speech_settings.interruptions", "on"),
    ({"speech_settings": {"emotions": "wild"}}, "speech_settings.emotions", "natural"),
    ({"speech_settings": {"responsiveness": "slow"}}, "speech_settings.responsiveness",
     "balanced"),
    ({"analysis": {"structured_data_schema": [{"key": "budget"}, {"key": "budget"}]}},
     "analysis.structured_data_schema[1].key", "duplicate key 'budget'"),
    ({"analysis": {"structured_data_schema": [{"key": "has space"}]}},
     "analysis.structured_data_schema[0].key", "pattern"),
    ({"analysis": {"structured_data_schema": [{"key": "k", "type": "float"}]}},
     "analysis.structured_data_schema[0].type", "string"),
    ({"analysis": {"tags": [{"name": "Hot"}, {"name": "Cold"}, {"name": "hot"}]}},
     "analysis.tags[2].name", "duplicate tag name"),
    ({"analysis": {"tags": [{"name": ""}]}}, "analysis.tags[0].name", "at least 1"),
    ({"metadata": {"blob": "x" * 20_000}}, "metadata", "larger than"),
    ({"id": "mine"}, "id", "not permitted"),
    # PostgreSQL cannot store NUL: a clear 422 on both stores, never a database error.
    ({"name": "A\x00va"}, "name", "NUL"),
    ({"metadata": {"k": ["ok", "b\x00"]}}, "metadata.k[1]", "NUL"),
    ({"analysis": {"tags": [{"name": "x\x00"}]}}, "analysis.tags[0].name", "NUL"),
])
def test_validation_names_the_field(client: TestClient, payload: dict[str, Any], field: str,
                                    needle: str) -> None:
    error = error_of(client.post("/v1/assistants", json={"name": "Ava", **payload}))
    assert error["code"] == "invalid"
    assert error["field"] == field
    assert needle in error["message"]


@pytest.mark.parametrize("field", ["first_message", "returning_greeting", "voicemail_message"])
def test_unknown_template_variable_names_field_and_variable(client: TestClient,
                                                            field: str) -> None:
    error = error_of(client.post("/v1/assistants",
                                 json={"name": "Ava", field: "Hi {{frist_name}}!"}))
    assert error["field"] == field
    assert "frist_name" in error["message"]
    assert "unknown variable" in error["message"]


@pytest.mark.parametrize("text", ["Hi {{first_name", "Hi {first_name}", "Hi {{}}",
                                  "{{{first_name}}}"])
def test_malformed_template_rejected(client: TestClient, text: str) -> None:
    error = error_of(client.post("/v1/assistants", json={"name": "Ava", "first_message": text}))
    assert error["field"] == "first_message"


def test_template_variables_of_every_kind_accepted(client: TestClient) -> None:
    text = ("{{first_name}} {{last_name}} {{email}} {{company}} {{job_title}} {{address}} "
            "{{city}} {{state}} {{country}} {{postal_code}} {{timezone}} {{phone}} "
            "{{utm_source}} {{utm_campaign}} {{custom_fields.plan}} {{metadata.crm_id}}")
    assert create(client, first_message=text)["first_message"] == text


def test_validation_failure_writes_nothing(client: TestClient, db: Database) -> None:
    client.post("/v1/assistants", json={"name": "Ava", "first_message": "{{nope}}"})
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Assistant)) == 0


def test_list_paginates_newest_first(client: TestClient, clock: ManualClock) -> None:
    ids = []
    for i in range(5):
        ids.append(create(client, name=f"A{i}")["id"])
        clock.advance(timedelta(seconds=1))
    seen = [a["id"] for a in walk_pages(client, "/v1/assistants")]
    assert seen == list(reversed(ids))


def test_list_pages_are_complete_when_created_at_ties(client: TestClient) -> None:
    # The clock does not move: ordering falls back to id, and no row is lost or repeated.
    ids = {create(client, name=f"A{i}")["id"] for i in range(5)}
    first = client.get("/v1/assistants", params={"limit": 3}).json()
    second = client.get("/v1/assistants",
                        params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert second["next_cursor"] is None
    seen = [a["id"] for a in first["data"] + second["data"]]
    assert len(seen) == 5 and set(seen) == ids


def test_list_search_and_kind(client: TestClient) -> None:
    create(client, name="Sales Ava")
    create(client, name="Support Bob", kind="squad")
    create(client, name="100%_real")
    names = [a["name"] for a in client.get("/v1/assistants", params={"search": "ava"})
             .json()["data"]]
    assert names == ["Sales Ava"]
    names = [a["name"] for a in client.get("/v1/assistants", params={"search": "%"})
             .json()["data"]]
    assert names == ["100%_real"]  # '%' is literal, not a wildcard
    names = [a["name"] for a in client.get("/v1/assistants", params={"kind": "squad"})
             .json()["data"]]
    assert names == ["Support Bob"]


def test_list_bad_limit_and_cursor(client: TestClient) -> None:
    assert error_of(client.get("/v1/assistants", params={"limit": 0}))["field"] == "limit"
    assert error_of(client.get("/v1/assistants", params={"limit": "x"}))["field"] == "limit"
    assert error_of(client.get("/v1/assistants", params={"cursor": "!!"}))["field"] == "cursor"
    assert error_of(client.get("/v1/assistants", params={"search": "a\x00"}))["field"] \
        == "search"


def test_patch_changes_only_what_is_sent(client: TestClient, clock: ManualClock) -> None:
    created = create(client, **FULL)
    clock.advance(timedelta(minutes=5))
    response = client.patch(f"/v1/assistants/{created['id']}", json={
        "name": "Ava 2", "persona": None, "speech_settings": {"style": "empathetic"},
        "analysis": {"tags": [{"name": "Won"}]},
    })
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "Ava 2"
    assert body["persona"] is None  # null clears
    # Nested sections are replaced whole, with defaults for what was not sent.
    assert body["speech_settings"] == {"style": "empathetic", "responsiveness": "balanced",
                                       "interruptions": "on", "emotions": "natural"}
    assert body["analysis"] == {"scoring_criteria": None, "structured_data_schema": [],
                                "tags": [{"name": "Won", "description": None}],
                                "success_criteria": None}
    # Untouched fields keep their values.
    assert body["first_message"] == FULL["first_message"]
    assert body["voice"] == FULL["voice"]
    assert body["metadata"] == FULL["metadata"]
    assert body["updated_at"] == "2026-03-02T15:05:00Z"
    assert body["created_at"] == created["created_at"]
    assert client.get(f"/v1/assistants/{created['id']}").json() == body


def test_patch_null_speech_settings_resets_defaults(client: TestClient) -> None:
    created = create(client, speech_settings={"style": "friendly"})
    body = client.patch(f"/v1/assistants/{created['id']}",
                        json={"speech_settings": None}).json()
    assert body["speech_settings"]["style"] == "neutral"


@pytest.mark.parametrize(("payload", "field"), [
    ({"name": None}, "name"),
    ({"kind": None}, "kind"),
    ({"language": None}, "language"),
    ({"language": "xx-"}, "language"),
    ({"first_message": "{{nope}}"}, "first_message"),
    ({"voicemail_message": "{{first_name}"}, "voicemail_message"),
    ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
])
def test_patch_validation(client: TestClient, payload: dict[str, Any], field: str) -> None:
    created = create(client, first_message="Hi {{first_name}}")
    error = error_of(client.patch(f"/v1/assistants/{created['id']}", json=payload))
    assert error["field"] == field
    # Nothing changed.
    assert client.get(f"/v1/assistants/{created['id']}").json() == created


def test_unknown_ids_are_404(client: TestClient) -> None:
    missing = new_id()
    for response in (client.get(f"/v1/assistants/{missing}"),
                     client.patch(f"/v1/assistants/{missing}", json={"name": "x"}),
                     client.delete(f"/v1/assistants/{missing}"),
                     client.get("/v1/assistants/not-a-uuid"),
                     client.get("/v1/assistants/a%00")):
        assert error_of(response, 404)["code"] == "not_found"


def test_workspace_isolation(client: TestClient, other_client: TestClient) -> None:
    ours = create(client, name="Ours")
    theirs = create(other_client, name="Theirs")
    path = f"/v1/assistants/{ours['id']}"
    assert other_client.get(path).status_code == 404
    assert other_client.patch(path, json={"name": "hijacked"}).status_code == 404
    assert other_client.delete(path).status_code == 404
    assert client.get(path).json()["name"] == "Ours"
    assert [a["id"] for a in other_client.get("/v1/assistants").json()["data"]] == [theirs["id"]]
    assert [a["id"] for a in client.get("/v1/assistants").json()["data"]] == [ours["id"]]


def test_requires_a_key(anon_client: TestClient) -> None:
    assert error_of(anon_client.get("/v1/assistants"), 401)["code"] == "unauthenticated"
    assert anon_client.post("/v1/assistants", json={"name": "x"}).status_code == 401


def test_delete(client: TestClient) -> None:
    created = create(client)
    response = client.delete(f"/v1/assistants/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/v1/assistants/{created['id']}").status_code == 404
    assert client.delete(f"/v1/assistants/{created['id']}").status_code == 404


def test_delete_blocked_by_non_draft_campaigns(client: TestClient, db: Database,
                                               clock: ManualClock,
                                               workspace: tuple[str, str]) -> None:
    created = create(client)
    add_campaign(db, clock, workspace[0], created["id"], "running", "Spring push")
    add_campaign(db, clock, workspace[0], created["id"], "completed", "Winter push")
    error = error_of(client.delete(f"/v1/assistants/{created['id']}"), 409)
    assert error["code"] == "conflict"
    assert "'Spring push' (running)" in error["message"]
    assert "'Winter push' (completed)" in error["message"]
    assert {c["name"] for c in error["details"]["campaigns"]} == {"Spring push", "Winter push"}
    assert client.get(f"/v1/assistants/{created['id']}").status_code == 200


def test_delete_detaches_draft_campaigns(client: TestClient, db: Database, clock: ManualClock,
                                         workspace: tuple[str, str]) -> None:
    created = create(client)
    draft = add_campaign(db, clock, workspace[0], created["id"], "draft", "Idea")
    assert client.delete(f"/v1/assistants/{created['id']}").status_code == 204
    with db.reading() as session:
        campaign = session.get(Campaign, draft)
        assert campaign is not None and campaign.assistant_id is None
