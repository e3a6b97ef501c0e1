"""/v1/dnc: the workspace's do-not-call list, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import error_of, walk_pages

UUID0 = "00000000-0000-0000-0000-000000000000"


def add(client: TestClient, status: int = 201, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/dnc", json=body)
    assert response.status_code == status, response.text
    entry: dict[str, Any] = response.json()
    return entry


def do_import(client: TestClient, data: bytes, url: str = "/v1/dnc/import",
              **params: Any) -> dict[str, Any]:
    response = client.post(url, content=data, params=params,
                           headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def test_add_number_is_idempotent(client: TestClient) -> None:
    entry = add(client, phone="(212) 555-0100", reason="asked not to be called")
    assert entry["pattern"] == "+12125550100" and entry["kind"] == "number"
    assert (entry["source"], entry["reason"], entry["campaign_id"]) == (
        "api", "asked not to be called", None)
    again = add(client, 200, pattern="+1 212 555 0100", reason="another reason")
    assert again == entry  # the existing entry, unchanged
    assert [e["id"] for e in client.get("/v1/dnc").json()["data"]] == [entry["id"]]


def test_add_wildcard_and_numbers_by_pattern(client: TestClient) -> None:
    wildcard = add(client, pattern="(646) *")
    assert (wildcard["pattern"], wildcard["kind"]) == ("+1646*", "area_code")
    assert add(client, 200, pattern="1-646-*")["id"] == wildcard["id"]
    london = client.post("/v1/dnc", params={"default_region": "GB"}, json={"pattern": "020*"})
    assert london.status_code == 201 and london.json()["pattern"] == "+4420*"
    number = add(client, pattern="212.555.0100", reason=None)
    assert (number["pattern"], number["kind"], number["reason"]) == ("+12125550100", "number",
                                                                     None)


def test_add_uses_the_workspace_region(client: TestClient) -> None:
    assert client.patch("/v1/settings", json={"default_region": "ES"}).status_code == 200
    assert add(client, phone="600 123 456")["pattern"] == "+34600123456"
    assert add(client, pattern="91*")["pattern"] == "+3491*"


def test_add_errors_name_the_field(client: TestClient) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"phone": "555-CALL"}, "phone"),
        ({"phone": "212*"}, "phone"),  # a wildcard is a pattern, not a phone
        ({"pattern": "21*"}, "pattern"),
        ({"pattern": "211*"}, "pattern"),
        ({"pattern": "212*5"}, "pattern"),
        ({"phone": "+12125550100", "pattern": "212*"}, "pattern"),
        ({}, "phone"),
        ({"reason": "no number"}, "phone"),
        ({"phone": "+12125550100", "reason": "x" * 256}, "reason"),
        ({"phone": "+12125550100", "source": "csv"}, "source"),
        ({"phone": "+12125550100", "reason": "nul\u0000"}, "reason"),
        ({"phone": ""}, "phone"),
        ({"phone": ["+12125550100"]}, "phone"),
    ]
    for body, field in cases:
        error = error_of(client.post("/v1/dnc", json=body))
        assert error["field"] == field, (body, error)
        assert error["message"]
    error = error_of(client.post("/v1/dnc", params={"default_region": "XX"},
                                 json={"phone": "2125550100"}))
    assert error["field"] == "default_region"
    assert client.get("/v1/dnc").json()["data"] == []


def test_bulk_reports_rows_and_adds_the_rest(client: TestClient) -> None:
    existing = add(client, phone="+12125550100")
    response = client.post("/v1/dnc/bulk", json={"entries": [
        {"phone": "212-555-0100"},  # already listed
        {"phone": "555"},  # bad number
        {"pattern": "646*", "reason": "no calls"},
        {"pattern": "+1 646 *"},  # repeats row 2
        {"reason": "neither"},
        "not an object",
        {"phone": 2125550111},  # a JSON number
    ]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["added"], body["already_listed"], body["duplicates"]) == (2, 1, 1)
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [
        (1, "phone"), (4, "phone"), (5, None)]
    ids = body["entry_ids"]
    assert ids[0] == existing["id"] and ids[1] is None and ids[2] == ids[3] is not None
    assert ids[4] is None and ids[5] is None and ids[6] is not None
    patterns = {e["pattern"]: e for e in client.get("/v1/dnc").json()["data"]}
    assert set(patterns) == {"+12125550100", "+1646*", "+12125550111"}
    assert patterns["+1646*"]["reason"] == "no calls"


def test_bulk_limits_and_region(client: TestClient) -> None:
    assert error_of(client.post("/v1/dnc/bulk", json={"entries": []}))["field"] == "entries"
    too_many = [{"phone": "+12125550100"}] * 10_001
    assert error_of(client.post("/v1/dnc/bulk", json={"entries": too_many}))["field"] == \
        "entries"
    error = error_of(client.post("/v1/dnc/bulk", json={"entries": [{"phone": "1"}],
                                                      "default_region": "XX"}))
    assert error["field"] == "default_region"
    response = client.post("/v1/dnc/bulk", json={"default_region": "es",
                                                 "entries": [{"phone": "600 123 456"}]})
    assert response.status_code == 200, response.text
    assert client.get("/v1/dnc").json()["data"][0]["pattern"] == "+34600123456"


def test_bulk_of_10000(client: TestClient) -> None:
    entries = [{"phone": f"+1212555{i:04d}"} for i in range(10_000)]
    response = client.post("/v1/dnc/bulk", json={"entries": entries})
    assert response.status_code == 200, response.text
    assert response.json()["added"] == 10_000
    again = client.post("/v1/dnc/bulk", json={"entries": entries}).json()
    assert (again["added"], again["already_listed"]) == (0, 10_000)
    checked = client.get("/v1/dnc/check", params={"phone": "+12125559999"}).json()
    assert checked["listed"] is True


def test_list_pages_search_and_source(client: TestClient) -> None:
    for phone in ("+12125550100", "+12125550101", "+16465550100", "+442079460000"):
        add(client, phone=phone)
    add(client, pattern="212*")
    everything = walk_pages(client, "/v1/dnc", limit=2)
    assert len(everything) == 5 and len({e["id"] for e in everything}) == 5
    manhattan = walk_pages(client, "/v1/dnc", search="212")
    assert {e["pattern"] for e in manhattan} == {"+12125550100", "+12125550101", "+1212*"}
    london = client.get("/v1/dnc", params={"search": "+44 20"}).json()["data"]
    assert [e["pattern"] for e in london] == ["+442079460000"]
    assert client.get("/v1/dnc", params={"source": "api"}).json()["data"]
    assert client.get("/v1/dnc", params={"source": "csv"}).json()["data"] == []
    for params, field in (({"source": "mail"}, "source"), ({"search": "abc"}, "search"),
                          ({"limit": 0}, "limit"), ({"cursor": "nope"}, "cursor"),
                          ({"search": "%_"}, "search")):
        assert error_of(client.get("/v1/dnc", params=params))["field"] == field, params


def test_check(client: TestClient) -> None:
    wildcard = add(client, pattern="212*")
    number = add(client, phone="+12125550100")
    response = client.get("/v1/dnc/check", params={"phone": "(212) 555-0100"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["phone"] == "+12125550100" and body["listed"] is True
    assert [m["id"] for m in body["matches"]] == [number["id"], wildcard["id"]]
    other = client.get("/v1/dnc/check", params={"phone": "+12125550199"}).json()
    assert [m["pattern"] for m in other["matches"]] == ["+1212*"]
    free = client.get("/v1/dnc/check", params={"phone": "+16465550100"}).json()
    assert free == {"phone": "+16465550100", "listed": False, "matches": []}
    assert error_of(client.get("/v1/dnc/check", params={"phone": "555"}))["field"] == "phone"
    assert error_of(client.get("/v1/dnc/check"))["field"] == "phone"
    error = error_of(client.get("/v1/dnc/check", params={"phone": "+12125550100",
                                                         "campaign_id": UUID0}), 404)
    assert error["field"] == "campaign_id"
    error = error_of(client.get("/v1/dnc/check", params={"phone": "+12125550100",
                                                         "campaign_id": "x"}), 404)
    assert error["field"] == "campaign_id"


def test_delete(client: TestClient) -> None:
    entry = add(client, phone="+12125550100")
    assert client.delete(f"/v1/dnc/{entry['id']}").status_code == 204
    assert client.get("/v1/dnc/check", params={"phone": "+12125550100"}).json()["listed"] is \
        False
    for entry_id in (entry["id"], UUID0, "x"):
        error = error_of(client.delete(f"/v1/dnc/{entry_id}"), 404)
        assert error["field"] == "entry_id"


def test_workspaces_are_isolated(client: TestClient, other_client: TestClient) -> None:
    entry = add(client, phone="+12125550100")
    add(client, pattern="646*")
    assert other_client.get("/v1/dnc").json()["data"] == []
    assert other_client.get("/v1/dnc/check", params={"phone": "+12125550100"}).json()[
        "listed"] is False
    assert error_of(other_client.delete(f"/v1/dnc/{entry['id']}"), 404)["field"] == "entry_id"
    # the other workspace's own entry of the same number is its own
    theirs = add(other_client, phone="+12125550100")
    assert theirs["id"] != entry["id"]
    assert client.delete(f"/v1/dnc/{theirs['id']}").status_code == 404
    assert len(client.get("/v1/dnc").json()["data"]) == 2


def test_idempotency_key_replays(client: TestClient) -> None:
    headers = {"Idempotency-Key": "dnc-1"}
    first = client.post("/v1/dnc", json={"phone": "+12125550100"}, headers=headers)
    second = client.post("/v1/dnc", json={"phone": "+12125550100"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"


# --- CSV import ------------------------------------------------------------------------------

def test_import_report(client: TestClient) -> None:
    add(client, phone="+12125550100")
    data = ("\ufeffPhone;Notes\n"
            "+1 (212) 555-0100;already there\n"
            "646*;no calls to 646\n"
            "\n"
            "555;bad\n"
            "(646) *;repeat\n"
            "212-555-0111;" + "x" * 256 + "\n"
            ";no number\n"
            "2125550112;\n").encode()
    report = do_import(client, data)
    assert (report["encoding"], report["delimiter"], report["header"]) == ("utf-8-sig", ";",
                                                                          True)
    assert report["columns"] == {"phone": "Phone", "reason": "Notes"}
    assert (report["rows"], report["added"], report["already_listed"], report["duplicates"],
            report["rejected"]) == (7, 2, 1, 1, 3)
    assert [(r["index"], r["field"]) for r in report["rejections"]] == [
        (5, "phone"), (7, "reason"), (8, "phone")]
    assert report["campaign_id"] is None and report["rejections_truncated"] is False
    entries = {e["pattern"]: e for e in client.get("/v1/dnc").json()["data"]}
    assert set(entries) == {"+12125550100", "+1646*", "+12125550112"}
    assert (entries["+1646*"]["source"], entries["+1646*"]["reason"]) == ("csv",
                                                                         "no calls to 646")
    assert entries["+12125550100"]["source"] == "api"  # left as it was
    assert entries["+12125550112"]["reason"] is None
    again = do_import(client, data)
    assert (again["added"], again["already_listed"]) == (0, 3)


def test_import_multipart_headerless_and_region(client: TestClient) -> None:
    data = b"600123456\n600123457,customer\n91*\n"
    response = client.post("/v1/dnc/import", params={"default_region": "ES"},
                           files={"file": ("dnc.csv", data, "text/csv")})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["header"] is False and report["columns"] == {}
    assert (report["rows"], report["added"]) == (3, 3)
    patterns = {e["pattern"] for e in client.get("/v1/dnc").json()["data"]}
    assert patterns == {"+34600123456", "+34600123457", "+3491*"}


def test_import_in_batches(client: TestClient) -> None:
    lines = ["number"] + [f"+1212555{i:04d}" for i in range(6_000)]
    report = do_import(client, "\n".join(lines).encode())
    assert (report["rows"], report["added"]) == (6_000, 6_000)
    assert client.get("/v1/dnc/check", params={"phone": "+12125555999"}).json()["listed"]


def test_import_errors(client: TestClient) -> None:
    headers = {"content-type": "text/csv"}
    cases = [
        (b"", {}, "file"),
        (b"\n\n", {}, "file"),
        (b"name,city\nAnn,NYC\n", {}, "file"),
        (b"phone\n+12125550100\n", {"delimiter": "#"}, "delimiter"),
        (b"phone\n+12125550100\n", {"default_region": "ZZ"}, "default_region"),
    ]
    for data, params, field in cases:
        response = client.post("/v1/dnc/import", content=data, params=params, headers=headers)
        assert error_of(response)["field"] == field, (data, params, response.json())
    no_file = client.post("/v1/dnc/import", files={"other": ("x.csv", b"phone\n", "text/csv")})
    assert error_of(no_file)["field"] == "file"
    assert client.get("/v1/dnc").json()["data"] == []


def test_import_reports_at_most_1000_rejections(client: TestClient) -> None:
    lines = ["phone"] + [f"bad{i}" for i in range(1_003)] + ["+12125550100"]
    report = do_import(client, "\n".join(lines).encode())
    assert (report["rejected"], report["added"]) == (1_003, 1)
    assert len(report["rejections"]) == 1_000 and report["rejections_truncated"] is True


def test_import_needs_a_key(anon_client: TestClient) -> None:
    response = anon_client.post("/v1/dnc/import", content=b"phone\n+12125550100\n",
                                headers={"content-type": "text/csv"})
    assert error_of(response, 401)["code"] == "unauthenticated"
