"""``/v1/webhooks``: an admin registers, lists, tests and deletes its tenant's webhooks and reads their recent
attempts; bad input is a problem naming the field; a tenant never sees another's (in-process, over moto)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from standardwebhooks import Webhook

from chalicelib.bootstrap import Runtime
from chalicelib.domain.access import ACCESS_CHAIN, Role
from chalicelib.entrypoints import batch_worker, webhook_worker
from tests.auth import KeyRing
from tests.fakes import Receiver
from tests.support import TENANT

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def receiver(gateway: Runtime) -> Receiver:
    gateway.webhooks.poster = Receiver({"private.example.com": ["10.0.0.7"]})
    return gateway.webhooks.poster  # type: ignore[return-value]


def register(client: Any, **body: Any) -> Any:
    body = {"url": "https://hooks.example.com/in", "events": ["contact.sent"], **body}
    return client.http.post("/v1/webhooks", headers=JSON, body=json.dumps(body))


def deliver(gateway: Runtime) -> list[str]:
    """One delivery of what the webhook queue holds, through the sender's handler, as Lambda would."""
    sqs = gateway.clients.sqs
    url = sqs.get_queue_url(QueueName=gateway.settings.webhook_queue)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    event = batch_worker.sqs_event("arn:aws:sqs:us-east-1:123456789012:gateway-webhooks", "us-east-1", messages)
    answer = webhook_worker.webhook_worker(event, gateway, gateway.now)
    assert answer["batchItemFailures"] == []
    return list(answer["outcomes"])


def test_a_webhook_is_registered_with_its_secret_shown_once_and_audited(client, gateway, receiver) -> None:
    created = register(client, description="collections system", events=["contact.sent", "contact.failed"])
    assert created.status_code == 201, created.body
    body = json.loads(created.body)
    assert body["secret"].startswith("whsec_") and created.headers["Cache-Control"] == "no-store"
    assert body["events"] == ["contact.sent", "contact.failed"] and body["description"] == "collections system"
    listed = json.loads(client.http.get("/v1/webhooks").body)["webhooks"]
    assert [h["webhook_id"] for h in listed] == [body["webhook_id"]] and "secret" not in json.dumps(listed)
    item = gateway.clients.dynamodb.scan(TableName=gateway.settings.webhook_table)["Items"]
    assert body["secret"][6:] not in json.dumps(item, default=str)  # stored sealed by KMS only
    audited = [e["type"] for e in gateway.deps.audit.for_person(TENANT, ACCESS_CHAIN)]
    assert "webhook_created" in audited


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://hooks.example.com/in"}, "url"),
        ({"url": "https://private.example.com/in"}, "url"),
        ({"url": "https://169.254.169.254/latest"}, "url"),
        ({"events": ["contact.sent", "contact.exploded"]}, "events"),
        ({"events": []}, "events"),
        ({"agency": "acme", "events": ["export.done"]}, "events"),
        ({"agency": "Not An Id"}, "agency"),
        ({"secret": "mine"}, "secret"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(client, receiver, body: dict[str, Any], field: str) -> None:
    answer = register(client, **body)
    assert answer.status_code in (400, 422), answer.body
    problem = json.loads(answer.body)
    assert field in [e["field"] for e in problem["errors"]], problem


def test_a_test_event_is_signed_delivered_and_its_attempt_shown(client, gateway, receiver) -> None:
    body = json.loads(register(client).body)
    queued = client.http.post(f"/v1/webhooks/{body['webhook_id']}/test")
    assert queued.status_code == 202, queued.body
    assert deliver(gateway) == ["delivered"]
    [post] = receiver.posts
    payload = Webhook(body["secret"]).verify(post["body"], post["headers"])  # the real clock: the library's check
    assert payload["type"] == "webhook.test" and payload["data"]["webhook_id"] == body["webhook_id"]
    shown = json.loads(client.http.get(f"/v1/webhooks/{body['webhook_id']}/deliveries").body)["deliveries"]
    assert [(d["type"], d["status"], d["outcome"]) for d in shown] == [("webhook.test", 200, "delivered")]


def test_a_receiver_failing_is_shown_with_its_answer_and_the_next_try(client, gateway, receiver) -> None:
    body = json.loads(register(client).body)
    receiver.default = 503
    client.http.post(f"/v1/webhooks/{body['webhook_id']}/test")
    assert deliver(gateway) == ["retry"]
    [shown] = json.loads(client.http.get(f"/v1/webhooks/{body['webhook_id']}/deliveries").body)["deliveries"]
    assert (shown["status"], shown["outcome"], shown["attempt"]) == (503, "retry", 1) and shown["next_at"]


def test_a_tenant_sees_tests_and_deletes_only_its_own_webhooks(client, gateway, receiver) -> None:
    body = json.loads(register(client).body)
    other = KeyRing(gateway, "other").bearer(Role.ADMIN)
    assert json.loads(client.http.get("/v1/webhooks", headers=other).body) == {"webhooks": []}
    for method, path in [
        ("DELETE", f"/v1/webhooks/{body['webhook_id']}"),
        ("POST", f"/v1/webhooks/{body['webhook_id']}/test"),
        ("GET", f"/v1/webhooks/{body['webhook_id']}/deliveries"),
    ]:
        assert client.http.request(method, path, headers=other).status_code == 404
    deleted = client.http.delete(f"/v1/webhooks/{body['webhook_id']}")
    assert deleted.status_code == 200 and json.loads(deleted.body)["deleted"] is True
    assert client.http.delete(f"/v1/webhooks/{body['webhook_id']}").status_code == 404
    assert json.loads(client.http.get("/v1/webhooks").body) == {"webhooks": []}


def test_only_an_admin_manages_webhooks(client, ring) -> None:
    for role in (Role.SUBMITTER, Role.COMPLIANCE, Role.REGULATOR):
        assert client.http.get("/v1/webhooks", headers=ring.bearer(role)).status_code == 403
