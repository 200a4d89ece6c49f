"""A compliance officer pages through one person's audit trail and verifies it against the ledger's head."""

from __future__ import annotations

import json

from chalice.test import Client

from chalicelib.adapters.dynamodb import read_body
from tests.support import utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


def get(client: Client, path: str) -> dict:
    response = client.http.get(path)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def test_pages_through_every_event_in_order(client, history):
    seen, cursor = [], ""
    while True:
        page = get(client, "/v1/audit/events?debtor_id=d-1&limit=5" + (f"&cursor={cursor}" if cursor else ""))
        seen += [e["seq"] for e in page["events"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert seen == list(range(1, history + 1))


def test_an_intact_chain_verifies_up_to_the_ledgers_head(client, history):
    result = get(client, "/v1/audit/verify?debtor_id=d-1")
    assert (result["ok"], result["checked"], result["head"]["seq"]) == (True, history, history)


def test_an_altered_event_is_found_and_named(client, gateway, history):
    table = gateway.settings.audit_table
    item = gateway.clients.dynamodb.get_item(TableName=table, Key={"pk": {"S": "local#d-1"}, "seq": {"N": "3"}})["Item"]
    body = read_body(item["body"])
    body["data"]["provider_message_id"] = "forged"
    item["body"] = {"S": json.dumps(body)}
    gateway.clients.dynamodb.put_item(TableName=table, Item=item)
    result = get(client, "/v1/audit/verify?debtor_id=d-1")
    assert (result["ok"], result["broken_at"]) == (False, 3)
    assert result["event"]["data"]["provider_message_id"] == "forged"


def test_a_removed_tail_is_found_against_the_ledgers_head(client, gateway, history):
    gateway.clients.dynamodb.delete_item(
        TableName=gateway.settings.audit_table, Key={"pk": {"S": "local#d-1"}, "seq": {"N": str(history)}}
    )
    result = get(client, "/v1/audit/verify?debtor_id=d-1")
    assert (result["ok"], result["broken_at"]) == (False, history)
    assert "missing" in result["problem"]


def test_a_bad_query_names_the_parameter(client):
    response = client.http.get("/v1/audit/events?debtor_id=d-1&limit=abc")
    assert response.status_code == 400
    assert json.loads(response.body)["errors"][0]["field"] == "limit"
    assert client.http.get("/v1/audit/verify").status_code == 400
