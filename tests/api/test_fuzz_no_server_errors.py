"""Whatever a client sends, the answer is never a 500 and errors keep the documented shape.

Hypothesis sends arbitrary JSON to every write operation of the OpenAPI document (with real and
made-up ids in the path), and checks the status code and the error body.
"""

from __future__ import annotations

import os
import re
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=12,
)


def _operations(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return sorted(
        (method.upper(), path)
        for path, ops in spec["paths"].items() if path.startswith("/v1/")
        for method in ops if method in ("post", "patch", "put", "delete")
    )


def _body_for(schema_fields: list[str], data: st.DataObject) -> Any:
    # Half the time a JSON object using the operation's own field names (gets past "unknown
    # field" checks and into the deeper validators), otherwise any JSON at all.
    if schema_fields and data.draw(st.booleans()):
        keys = st.sampled_from(schema_fields)
        return data.draw(st.dictionaries(keys, json_values, max_size=len(schema_fields)))
    return data.draw(json_values)


def _field_names(spec: dict[str, Any], method: str, path: str) -> list[str]:
    operation = spec["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    ref = schema.get("$ref")
    if not ref:
        return []
    component = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return sorted(component.get("properties", {}))


def _real_ids(client: TestClient) -> list[str]:
    """One object of each kind, so fuzzed requests also reach the validators behind a lookup."""
    assistant = client.post("/v1/assistants", json={"name": "Ava"}).json()["id"]
    number = client.post("/v1/phone-numbers", json={"number": "+14155550123"}).json()["id"]
    contact = client.post("/v1/contacts", json={"phone": "+14155550100"}).json()["id"]
    contact_list = client.post("/v1/contact-lists", json={"name": "L"}).json()["id"]
    campaign = client.post("/v1/campaigns", json={
        "name": "C", "assistant_id": assistant, "contact_ids": [contact],
        "caller_id": {"mode": "fixed", "phone_number_ids": [number]}}).json()["id"]
    return [assistant, number, contact, contact_list, campaign]


def test_arbitrary_json_never_causes_a_server_error(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operations = _operations(client)
    assert operations, "no write operations found"
    ids = [*_real_ids(client), "00000000-0000-0000-0000-000000000000", "x", "1"]
    examples = int(os.environ.get("RINGWISE_FUZZ_EXAMPLES", "300"))

    @settings(max_examples=examples, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        method, path = data.draw(st.sampled_from(operations))
        ident = data.draw(st.sampled_from(ids))
        url = re.sub(r"\{[^}]+\}", ident, path)
        body = _body_for(_field_names(spec, method, path), data)
        response = client.request(method, url, json=body)
        assert response.status_code < 500, (method, url, body, response.text)
        if response.status_code >= 400:
            error = response.json()["error"]
            assert set(error) >= {"code", "message", "field"}, response.text
            assert error["message"]

    check()


def test_malformed_json_is_a_clear_422(client: TestClient) -> None:
    for method, path in _operations(client):
        if method == "DELETE":
            continue
        url = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
        response = client.request(method, url, content=b"{not json",
                                  headers={"Content-Type": "application/json"})
        assert 400 <= response.status_code < 500, (method, url, response.text)
