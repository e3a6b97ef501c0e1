"""/v1/contact-lists: lists, members, and the CSV import endpoint."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from ringwise.clock import ManualClock

FIXTURES = Path(__file__).parent.parent / "fixtures"


def make_list(client: TestClient, name: str = "Leads") -> str:
    response = client.post("/v1/contact-lists", json={"name": name, "description": "d"})
    assert response.status_code == 201, response.text
    list_id: str = response.json()["id"]
    return list_id


def make_contacts(client: TestClient, n: int) -> list[str]:
    rows = [{"phone": f"+1212555{i:04d}", "first_name": f"P{i}"} for i in range(n)]
    body = client.post("/v1/contacts/bulk", json={"contacts": rows}).json()
    ids: list[str] = body["contact_ids"]
    assert None not in ids
    return ids


def test_list_crud(client: TestClient, clock: ManualClock) -> None:
    response = client.post("/v1/contact-lists", json={"name": "Leads", "description": "March"})
    assert response.status_code == 201
    created = response.json()
    assert created["contact_count"] == 0 and created["name"] == "Leads"
    url = f"/v1/contact-lists/{created['id']}"
    assert client.get(url).json() == created
    renamed = client.patch(url, json={"name": "Hot leads"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Hot leads"
    assert renamed.json()["description"] == "March"
    assert client.patch(url, json={"name": None}).json()["error"]["field"] == "name"
    assert client.patch(url, json={"name": ""}).json()["error"]["field"] == "name"
    assert client.post("/v1/contact-lists", json={}).json()["error"]["field"] == "name"
    clock.advance(timedelta(seconds=1))
    make_list(client, "Other")
    listed = client.get("/v1/contact-lists").json()["data"]
    assert [x["name"] for x in listed] == ["Other", "Hot leads"]
    assert [x["name"] for x in client.get("/v1/contact-lists",
                                          params={"search": "HOT"}).json()["data"]] == [
        "Hot leads"]
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_members(client: TestClient) -> None:
    list_id = make_list(client)
    ids = make_contacts(client, 5)
    url = f"/v1/contact-lists/{list_id}/contacts"
    added = client.post(url, json={"contact_ids": [*ids[:3], ids[0]]})
    assert added.status_code == 200, added.text
    assert added.json() == {"list_id": list_id, "added": 3, "removed": 0, "contact_count": 3}
    again = client.post(url, json={"contact_ids": ids[2:]}).json()
    assert (again["added"], again["contact_count"]) == (2, 5)
    assert client.get(f"/v1/contact-lists/{list_id}").json()["contact_count"] == 5
    page = client.get(url, params={"limit": 2}).json()
    assert len(page["data"]) == 2 and page["next_cursor"]
    rest = client.get(url, params={"limit": 10, "cursor": page["next_cursor"]}).json()
    assert {c["id"] for c in page["data"] + rest["data"]} == set(ids)
    removed = client.request("DELETE", url, json={"contact_ids": ids[:2]}).json()
    assert (removed["removed"], removed["contact_count"]) == (2, 3)
    removed = client.post(f"{url}/remove", json={"contact_ids": ids[1:3]}).json()
    assert (removed["removed"], removed["contact_count"]) == (1, 2)
    # the contacts themselves stay
    assert client.get(f"/v1/contacts/{ids[0]}").status_code == 200
    counts = {x["id"]: x["contact_count"] for x in client.get("/v1/contact-lists").json()["data"]}
    assert counts == {list_id: 2}


def test_member_ids_must_be_this_workspaces(client: TestClient,
                                            other_client: TestClient) -> None:
    list_id = make_list(client)
    mine = make_contacts(client, 2)
    theirs = other_client.post("/v1/contacts", json={"phone": "+14155550100"}).json()["id"]
    url = f"/v1/contact-lists/{list_id}/contacts"
    response = client.post(url, json={"contact_ids": [mine[0], theirs, mine[1]]})
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "contact_ids[1]"
    assert client.get(f"/v1/contact-lists/{list_id}").json()["contact_count"] == 0
    bad = client.post(url, json={"contact_ids": []})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "contact_ids"
    too_many = client.post(url, json={"contact_ids": ["x"] * 10_001})
    assert too_many.status_code == 422


def test_foreign_list_is_not_found(client: TestClient, other_client: TestClient) -> None:
    list_id = make_list(client)
    ids = make_contacts(client, 1)
    url = f"/v1/contact-lists/{list_id}"
    assert other_client.get(url).status_code == 404
    assert other_client.patch(url, json={"name": "x"}).status_code == 404
    assert other_client.delete(url).status_code == 404
    assert other_client.get(f"{url}/contacts").status_code == 404
    assert other_client.post(f"{url}/contacts", json={"contact_ids": ids}).status_code == 404
    assert other_client.post(f"{url}/import", content=b"phone\n+12125550100\n",
                             headers={"content-type": "text/csv"}).status_code == 404
    assert other_client.get("/v1/contact-lists").json()["data"] == []
    assert client.get(url).json()["contact_count"] == 0


# --- import ----------------------------------------------------------------------------------

def do_import(client: TestClient, list_id: str, data: bytes, **params: Any) -> dict[str, Any]:
    response = client.post(f"/v1/contact-lists/{list_id}/import", content=data, params=params,
                           headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_import_raw_body_messy_file(client: TestClient) -> None:
    list_id = make_list(client)
    report = do_import(client, list_id, (FIXTURES / "bom_semicolon.csv").read_bytes())
    assert report["encoding"] == "utf-8-sig" and report["delimiter"] == ";"
    assert (report["rows"], report["imported"], report["created"], report["updated"],
            report["duplicates"], report["rejected"]) == (6, 4, 3, 0, 1, 2)
    assert [(r["index"], r["field"]) for r in report["rejections"]] == [(5, "phone"),
                                                                        (8, "email")]
    assert report["rejections_truncated"] is False
    assert report["columns"]["phone"] == "Mobile"
    assert report["columns"]["custom_fields.lead_source"] == "Lead Source"
    assert report["contact_count"] == 3
    people = {c["phone"]: c for c in client.get(f"/v1/contact-lists/{list_id}/contacts")
              .json()["data"]}
    ann = people["+12125550100"]
    assert ann["first_name"] == "Ann-Marie" and ann["last_name"] == "Lee"  # later row wins
    assert ann["custom_fields"] == {"lead_source": "webinar", "notes": "second row for Ann"}
    assert people["+14155550101"]["custom_fields"]["notes"] == "two\r\nline note"
    assert people["+442079460958"]["timezone"] == "Europe/Paris"


def test_import_multipart_and_reimport_updates(client: TestClient) -> None:
    list_id = make_list(client)
    data = (FIXTURES / "cp1252_tab.csv").read_bytes()
    response = client.post(f"/v1/contact-lists/{list_id}/import",
                           files={"file": ("people.csv", data, "text/csv")})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["encoding"] == "cp1252" and report["delimiter"] == "\t"
    assert (report["created"], report["rejected"]) == (2, 1)
    assert report["rejections"][0]["index"] == 4
    contacts = client.get("/v1/contacts", params={"search": "françois"}).json()["data"]
    assert contacts[0]["last_name"] == "Müller" and contacts[0]["company"] == "Café Crème"
    again = client.post(f"/v1/contact-lists/{list_id}/import",
                        files={"file": ("people.csv", data, "text/csv")}).json()
    assert (again["created"], again["updated"], again["contact_count"]) == (0, 2, 2)


def test_import_mapping_and_delimiter(client: TestClient) -> None:
    list_id = make_list(client)
    data = b"Nom,Tel,Source,Email\nAna,600 000 001,web,bad-email\nLuis,600 000 002,ads,\n"
    report = do_import(client, list_id, data, default_region="ES", delimiter="comma",
                       mapping=json.dumps({"first_name": "nom", "phone": "TEL",
                                           "email": None}))
    assert (report["created"], report["rejected"]) == (2, 0)  # e-mail column skipped
    assert report["columns"]["first_name"] == "Nom"
    assert report["columns"]["custom_fields.email"] == "Email"
    names = {c["first_name"]: c for c in client.get("/v1/contacts").json()["data"]}
    assert names["Ana"]["phone"] == "+34600000001" and names["Ana"]["email"] is None
    assert names["Ana"]["custom_fields"] == {"source": "web", "email": "bad-email"}


def test_import_errors(client: TestClient) -> None:
    list_id = make_list(client)
    url = f"/v1/contact-lists/{list_id}/import"
    headers = {"content-type": "text/csv"}
    cases = [
        (b"", {}, "file"),
        (b"\n\n", {}, "file"),
        (b"name,city\nAnn,NYC\n", {}, "mapping.phone"),
        (b"phone\n+12125550100\n", {"mapping": "{not json"}, "mapping"),
        (b"phone\n+12125550100\n", {"mapping": '{"phone": "Cell"}'}, "mapping.phone"),
        (b"phone\n+12125550100\n", {"mapping": '{"shoe_size": "phone"}'}, "mapping.shoe_size"),
        (b"phone\n+12125550100\n", {"delimiter": "#"}, "delimiter"),
        (b"phone\n+12125550100\n", {"default_region": "ZZ"}, "default_region"),
    ]
    for data, params, field in cases:
        response = client.post(url, content=data, params=params, headers=headers)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["error"]["field"] == field, (params, response.json())
    no_file = client.post(url, files={"other": ("x.csv", b"phone\n", "text/csv")})
    assert no_file.status_code == 422 and no_file.json()["error"]["field"] == "file"
    assert client.get("/v1/contacts").json()["data"] == []  # nothing written


def test_import_reports_at_most_1000_rejections(client: TestClient) -> None:
    list_id = make_list(client)
    lines = ["phone,first_name"] + [f"bad{i},x" for i in range(1_005)] + ["+12125550100,ok"]
    report = do_import(client, list_id, "\n".join(lines).encode())
    assert report["rejected"] == 1_005 and len(report["rejections"]) == 1_000
    assert report["rejections_truncated"] is True
    assert report["rejections"][0]["index"] == 2 and report["created"] == 1


def test_import_is_all_or_nothing_on_a_broken_file(client: TestClient) -> None:
    list_id = make_list(client)
    # rows are fine until a field over the csv module's size limit breaks the file
    data = b"phone,notes\n+12125550100,a\n+12125550101,\"" + b"x" * 200_000 + b"\"\n"
    response = client.post(f"/v1/contact-lists/{list_id}/import", content=data,
                           headers={"content-type": "text/csv"})
    assert response.status_code == 422 and response.json()["error"]["field"] == "file"
    assert client.get(f"/v1/contact-lists/{list_id}").json()["contact_count"] == 0
    assert client.get("/v1/contacts").json()["data"] == []


def test_import_with_an_idempotency_key_is_not_replayed(client: TestClient) -> None:
    """A streamed import is not buffered for Idempotency-Key fingerprinting; being an upsert,
    running it twice is harmless and reports the second run truthfully."""
    list_id = make_list(client)
    url = f"/v1/contact-lists/{list_id}/import"
    headers = {"content-type": "text/csv", "Idempotency-Key": "import-1"}
    first = client.post(url, content=b"phone\n+12125550100\n", headers=headers)
    second = client.post(url, content=b"phone\n+12125550100\n", headers=headers)
    assert first.status_code == second.status_code == 200
    assert "Idempotent-Replayed" not in second.headers
    assert (first.json()["created"], second.json()["updated"]) == (1, 1)


def test_slow_upload_does_not_block_other_writers(live_server: str,
                                                  workspace: tuple[str, str]) -> None:
    """The body is spooled before the import's write transaction opens: while a client is
    still uploading, other writes in the workspace go through."""
    import threading
    import time
    from collections.abc import Iterator

    import httpx

    headers = {"X-API-Key": workspace[1]}
    with httpx.Client(base_url=live_server, headers=headers, timeout=30) as http:
        list_id = http.post("/v1/contact-lists", json={"name": "Slow"}).json()["id"]
        uploading = threading.Event()
        finish = threading.Event()

        def body() -> Iterator[bytes]:
            yield b"phone,first_name\n+14155550101,Ann\n"
            uploading.set()
            finish.wait(timeout=20)  # the client is still sending
            yield b"+14155550102,Bob\n"

        result: dict[str, httpx.Response] = {}

        def upload() -> None:
            result["import"] = http.post(f"/v1/contact-lists/{list_id}/import", content=body(),
                                         headers={"Content-Type": "text/csv"})

        thread = threading.Thread(target=upload)
        thread.start()
        assert uploading.wait(timeout=10)
        time.sleep(0.2)
        started = time.monotonic()
        other = http.patch("/v1/settings", json={"concurrency_rate": 60})
        assert other.status_code == 200, other.text
        assert time.monotonic() - started < 5  # not waiting on the upload
        finish.set()
        thread.join(timeout=30)
        assert result["import"].status_code == 200, result["import"].text
        assert result["import"].json()["created"] == 2


def test_import_with_a_bad_key_is_refused_before_the_upload(anon_client: TestClient,
                                                            client: TestClient) -> None:
    list_id = client.post("/v1/contact-lists", json={"name": "L"}).json()["id"]
    response = anon_client.post(f"/v1/contact-lists/{list_id}/import", content=b"phone\n1\n",
                                headers={"Content-Type": "text/csv", "X-API-Key": "nope"})
    assert response.status_code == 401
