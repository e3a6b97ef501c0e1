"""/v1/campaigns/{id}/messages and .../messages/summary: a campaign's scheduled messages as
the results worker wrote them (rows inserted directly here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringwise.db.engine import Database
from ringwise.db.models import Campaign, CampaignContact, MessageSend
from ringwise.ids import new_id
from tests.api.test_campaigns import create, make_contacts
from tests.helpers import error_of, walk_pages

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
STATUSES = ["scheduled", "sending", "sent", "failed", "blocked", "skipped", "expired",
            "canceled"]
PHONES = ["+14155550101", "+14155550102", "+14155550103"]


def _campaign(client: TestClient, phones: list[str] = PHONES) -> tuple[str, list[str]]:
    """A campaign with the contacts of ``phones``: (campaign id, contact ids)."""
    contact_ids = make_contacts(client, phones)
    return str(create(client, contact_ids=contact_ids)["id"]), contact_ids


def _insert(db: Database, campaign_id: str, rows: list[dict[str, Any]]) -> list[str]:
    """MessageSend rows of the campaign (``contact_id`` required); their ids, in order."""
    ids = []
    with db.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        members = {cc.contact_id: cc.id for cc in session.scalars(
            select(CampaignContact).where(CampaignContact.campaign_id == campaign_id))}
        for index, fields in enumerate(rows):
            row = {"id": new_id(), "run_index": 0, "message_index": index, "channel": "sms",
                   "status": "scheduled", "attempts": 0, "created_at": T0,
                   "updated_at": T0, **fields}
            session.add(MessageSend(workspace_id=campaign.workspace_id,
                                    campaign_id=campaign_id,
                                    campaign_contact_id=members[row["contact_id"]], **row))
            ids.append(row["id"])
    return ids


def _path(campaign_id: str, suffix: str = "") -> str:
    return f"/v1/campaigns/{campaign_id}/messages{suffix}"


def test_items_carry_every_field(client: TestClient, db: Database) -> None:
    campaign_id, (ann, bob, _) = _campaign(client)
    sent_id, email_id = _insert(db, campaign_id, [
        {"contact_id": ann, "run_index": 1, "message_index": 2, "status": "sent",
         "due_at": T0 + timedelta(days=1), "sent_at": T0 + timedelta(days=1, seconds=3),
         "attempts": 1, "from_address": "+14155550123", "to_address": "+14155550101",
         "body": "Hi Ann", "provider_message_id": "SM123",
         "updated_at": T0 + timedelta(days=1, seconds=3)},
        {"contact_id": bob, "channel": "email", "status": "skipped",
         "reason": "no-email-address", "created_at": T0 + timedelta(seconds=1)},
    ])
    page = client.get(_path(campaign_id)).json()
    assert page["next_cursor"] is None
    email, sent = page["data"]  # newest first
    assert sent == {
        "id": sent_id, "campaign_id": campaign_id, "contact_id": ann, "run_index": 1,
        "message_index": 2, "channel": "sms", "status": "sent", "reason": None,
        "error": None, "due_at": "2026-03-03T15:00:00Z", "sent_at": "2026-03-03T15:00:03Z",
        "attempts": 1, "from": "+14155550123", "to": "+14155550101", "subject": None,
        "body": "Hi Ann", "provider_message_id": "SM123",
        "created_at": "2026-03-02T15:00:00Z", "updated_at": "2026-03-03T15:00:03Z"}
    assert email["id"] == email_id and email["channel"] == "email"
    assert (email["status"], email["reason"]) == ("skipped", "no-email-address")
    assert email["due_at"] is None and email["from"] is None and email["to"] is None
    assert email["created_at"] == "2026-03-02T15:00:01Z"


def test_pages_return_every_row_once_newest_first(client: TestClient, db: Database) -> None:
    campaign_id, contacts = _campaign(client)
    # Several rows share a created_at: the id breaks the tie, so no page boundary can drop
    # or repeat one.
    rows = [{"contact_id": contacts[n % 3], "run_index": n // 3, "message_index": n % 3,
             "created_at": T0 + timedelta(seconds=n // 4)} for n in range(13)]
    ids = _insert(db, campaign_id, rows)
    expected = [i for _, i in sorted(zip((r["created_at"] for r in rows), ids, strict=True),
                                     reverse=True)]
    for limit in (1, 3, 5, 13):
        walked = [item["id"] for item in walk_pages(client, _path(campaign_id), limit=limit)]
        assert walked == expected
    assert client.get(_path(campaign_id), params={"limit": 13}).json()["next_cursor"] is None


def test_filters(client: TestClient, db: Database) -> None:
    campaign_id, (ann, bob, cid) = _campaign(client)
    ids = _insert(db, campaign_id, [
        {"contact_id": ann, "status": "sent"},
        {"contact_id": ann, "status": "failed", "channel": "email", "error": "550 no such user"},
        {"contact_id": bob, "status": "blocked", "reason": "dnc-listed"},
        {"contact_id": bob, "status": "scheduled", "channel": "email"},
        {"contact_id": cid, "status": "sent", "channel": "email"},
    ])

    def listed(**params: Any) -> set[str]:
        return {item["id"] for item in walk_pages(client, _path(campaign_id), **params)}

    assert listed() == set(ids)
    assert listed(status="sent") == {ids[0], ids[4]}
    assert listed(status="blocked") == {ids[2]}
    assert listed(status="expired") == set()
    assert listed(channel="email") == {ids[1], ids[3], ids[4]}
    assert listed(channel="sms") == {ids[0], ids[2]}
    assert listed(contact_id=bob) == {ids[2], ids[3]}
    assert listed(contact_id=new_id()) == set()
    assert listed(status="sent", channel="email") == {ids[4]}
    assert listed(contact_id=ann, channel="email", status="failed") == {ids[1]}
    failed = client.get(_path(campaign_id), params={"status": "failed"}).json()["data"]
    assert failed[0]["error"] == "550 no such user"


def test_bad_query_values_name_the_field(client: TestClient) -> None:
    campaign_id, _ = _campaign(client)
    for params, field in (({"status": "delivered"}, "status"), ({"channel": "fax"}, "channel"),
                          ({"limit": 0}, "limit"), ({"limit": 201}, "limit"),
                          ({"limit": "many"}, "limit"), ({"cursor": "not-a-cursor"}, "cursor"),
                          ({"contact_id": "a\x00b"}, "contact_id")):
        error = error_of(client.get(_path(campaign_id), params=params))
        assert (error["code"], error["field"]) == ("invalid", field), params
        assert error["message"]


def test_unknown_and_foreign_campaigns_are_404(client: TestClient, other_client: TestClient,
                                               db: Database) -> None:
    campaign_id, contacts = _campaign(client)
    _insert(db, campaign_id, [{"contact_id": contacts[0]}])
    for path in (_path(campaign_id), _path(campaign_id, "/summary")):
        error = error_of(other_client.get(path), 404)
        assert (error["code"], error["field"]) == ("not_found", "campaign_id")
    for unknown in (new_id(), "nope"):
        for suffix in ("", "/summary"):
            error = error_of(client.get(_path(unknown, suffix)), 404)
            assert error["field"] == "campaign_id"
    # and the other workspace's own campaign shows none of these rows
    theirs, _ = _campaign(other_client, ["+14155550109"])
    assert other_client.get(_path(theirs)).json()["data"] == []
    assert other_client.get(_path(theirs, "/summary")).json()["total"] == 0


def test_summary_counts_every_status_and_channel(client: TestClient, db: Database) -> None:
    campaign_id, (ann, bob, cid) = _campaign(client)
    empty = client.get(_path(campaign_id, "/summary"))
    assert empty.status_code == 200, empty.text
    assert empty.json() == {"total": 0, "by_status": dict.fromkeys(STATUSES, 0),
                            "by_channel": {"sms": 0, "email": 0}, "next_due_at": None}

    _insert(db, campaign_id, [
        {"contact_id": ann, "status": "scheduled", "due_at": T0 + timedelta(days=2)},
        {"contact_id": ann, "status": "scheduled", "channel": "email",
         "due_at": T0 + timedelta(days=1, hours=3)},
        {"contact_id": bob, "status": "scheduled", "due_at": None},
        # earlier, but no longer scheduled: not the next one due
        {"contact_id": bob, "status": "sent", "due_at": T0},
        {"contact_id": bob, "status": "failed", "due_at": T0 - timedelta(hours=1)},
        {"contact_id": cid, "status": "blocked", "reason": "no-consent"},
        {"contact_id": cid, "status": "blocked", "channel": "email", "reason": "dnc-listed"},
    ])
    body = client.get(_path(campaign_id, "/summary")).json()
    assert body == {
        "total": 7,
        "by_status": {**dict.fromkeys(STATUSES, 0), "scheduled": 3, "sent": 1, "failed": 1,
                      "blocked": 2},
        "by_channel": {"sms": 5, "email": 2},
        "next_due_at": "2026-03-03T18:00:00Z"}
    assert list(body["by_status"]) == STATUSES

    # no scheduled message left: nothing is due
    with db.transaction() as session:
        for row in session.scalars(select(MessageSend).where(
                MessageSend.status == "scheduled")):
            row.status = "canceled"
            row.reason = "campaign-canceled"
    after = client.get(_path(campaign_id, "/summary")).json()
    assert after["next_due_at"] is None
    assert (after["by_status"]["scheduled"], after["by_status"]["canceled"]) == (0, 3)
