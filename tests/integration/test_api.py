"""Routes in-process (Chalice's test client) over moto: idempotency and problem responses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.access import Role
from tests.integration.aws import sent_sms

SMS = {
    "debtor_id": "d-9",
    "account_id": "a-9",
    "channel": "sms",
    "to": "+14045550100",
    "location": {"country": "US", "timezone": "Pacific/Kiritimati"},
    "message": {"body": "Reminder. Reply STOP to opt out."},
}


def post(client: Client, body: Any, **headers: str) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.http.post("/v1/contacts", headers={"Content-Type": "application/json", **headers}, body=raw)


def test_replayed_idempotency_key_returns_first_response_and_sends_once(client):
    first = post(client, SMS, **{"Idempotency-Key": "k-1"})
    second = post(client, SMS, **{"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code
    assert json.loads(first.body) == json.loads(second.body)
    assert len(sent_sms()) == (1 if json.loads(first.body)["status"] == "sent" else 0)
    assert len({json.loads(r.body)["contact_id"] for r in (first, second)}) == 1


def test_idempotency_key_with_a_different_body_is_422(client):
    post(client, SMS, **{"Idempotency-Key": "k-2"})
    other = post(client, {**SMS, "account_id": "a-10"}, **{"Idempotency-Key": "k-2"})
    assert other.status_code == 422
    assert other.headers["Content-Type"] == "application/problem+json"
    assert json.loads(other.body)["errors"][0]["field"] == "Idempotency-Key"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("{not json", "body"),
        ({**SMS, "days_past_due": "x"}, "days_past_due"),
        ({**SMS, "channel": "fax"}, "channel"),
        ({**SMS, "to": "+1555"}, "to"),
        ({**SMS, "message": None}, "message"),
        ({**SMS, "location": {"timezone": "Mars/Olympus"}}, "location.timezone"),
        ({**SMS, "colour": "red"}, "colour"),
        ({**SMS, "debtor_id": "../etc"}, "debtor_id"),
        ({**SMS, "channel": "email", "to": "not-an-address"}, "to"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(client, body, field):
    response = post(client, body)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = json.loads(response.body)
    assert problem["status"] == 400
    assert field in [e["field"] for e in problem["errors"]]
    assert sent_sms() == []


def test_wrong_method_and_media_type_are_problems(client):
    wrong_method = client.http.delete("/v1/contacts")
    assert (wrong_method.status_code, wrong_method.headers["Allow"]) == (405, "POST")
    wrong_type = client.http.post("/v1/contacts", headers={"Content-Type": "text/plain"}, body="x")
    assert wrong_type.status_code == 415


def test_an_oversized_body_is_a_413_and_nothing_is_sent(client):
    largest = {**SMS, "message": {"body": "逾" * 10_000}, "metadata": {"note": "x" * 4000}}
    assert len(json.dumps(largest, ensure_ascii=False).encode()) < 64 * 1024  # every valid body fits
    huge = {**SMS, "metadata": {"note": "x" * (64 * 1024)}}
    response = post(client, huge)
    assert response.status_code == 413
    problem = json.loads(response.body)
    assert (problem["status"], problem["errors"][0]["field"]) == (413, "body")
    assert sent_sms() == []


def test_dependency_failure_is_503_without_a_trace(client, gateway):
    client.ring.key(Role.SUBMITTER)  # issued while the tables stood
    gateway.clients.dynamodb.delete_table(TableName=gateway.settings.ledger_table)
    response = post(client, SMS)
    assert response.status_code == 503
    assert "Traceback" not in response.body.decode()
    assert sent_sms() == []


def test_health_is_503_when_the_ledger_table_is_missing(client, gateway):
    assert client.http.get("/v1/health").status_code == 200
    gateway.clients.dynamodb.delete_table(TableName=gateway.settings.ledger_table)
    response = client.http.get("/v1/health")
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        ('{"x": NaN}', "metadata.x"),
        ('{"x": Infinity}', "metadata.x"),
        ('{"x": 1e400}', "metadata.x"),
        ('{"x": 123456789012345678901234567890}', "metadata.x"),
        ('{"": 1}', "metadata"),
        ('{"a\\u0000b": 1}', "metadata"),
        ('{"x": "\\u0007bell"}', "metadata.x"),
        ('{"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}', "metadata.a.b.c.d.e"),
        ("{" + '"x": ' + "[" * 300 + "]" * 300 + "}", "body"),
    ],
)
def test_a_hostile_metadata_object_is_a_400_and_nothing_is_stored(client, gateway, metadata, field):
    raw = json.dumps(SMS)[:-1] + f', "metadata": {metadata}}}'
    response = post(client, raw)
    assert response.status_code == 400, response.body
    assert field in [e["field"] for e in json.loads(response.body)["errors"]]
    assert gateway.deps.ledgers.get("local", SMS["debtor_id"]).version == 0
    assert sent_sms() == []


def test_ordinary_metadata_is_kept_in_the_audit_trail_as_sent(client, gateway):
    metadata = {"campaign": "早安-1", "tier": 2, "score": 0.5, "tags": ["a", {"b": None}], "ok": True}
    body = json.loads(post(client, {**SMS, "metadata": metadata}).body)
    [requested] = [e for e in gateway.deps.audit.for_person("local", SMS["debtor_id"]) if e["type"] == "requested"]
    assert requested["data"]["metadata"] == metadata and body["contact_id"] == requested["contact_id"]


def test_text_is_stored_in_one_unicode_form_and_controls_are_refused(client, gateway):
    decomposed = "Cafe\u0301 due. Reply STOP to opt out."  # e + combining acute: NFC makes it one letter
    post(client, {**SMS, "message": {"body": decomposed}})
    [requested] = [e for e in gateway.deps.audit.for_person("local", SMS["debtor_id"]) if e["type"] == "requested"]
    assert requested["data"]["message"]["body"] == "Caf\u00e9 due. Reply STOP to opt out."
    for message, field in (
        ({"body": "bell\u0007 STOP"}, "message.body"),
        ({"body": "hi STOP", "subject": "a\r\nBcc: x@example.com"}, "message.subject"),
    ):
        response = post(
            client, {**SMS, "debtor_id": "d-ctl", "channel": "email", "to": "a@example.com", "message": message}
        )
        assert response.status_code == 400 and field in [e["field"] for e in json.loads(response.body)["errors"]]
