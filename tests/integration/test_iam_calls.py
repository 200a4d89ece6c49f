"""Least privilege that still works: every AWS call each Lambda function makes is granted by its own policy.

Each function's work runs in-process over moto (``AUDIT_APPEND=stream``, as deployed) with a botocore hook
recording every call, attributed to the function doing it; each call becomes the IAM action and the
template resource it needs, and must be in ``tools.infra.package.ACCESS``, from which
``.chalice/policy-<function>.json`` is written (tests/package checks the files are that)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import resources
from chalicelib.bootstrap import Runtime
from chalicelib.domain.access import Role
from chalicelib.domain.model import Channel, DeliveryStatus
from chalicelib.entrypoints import batch_worker
from chalicelib.services import pacing
from chalicelib.services.receipt_sources import sns_line, subscription_event
from chalicelib.settings import Settings
from tests.auth import AuthedClient, KeyRing
from tests.fakes import Receiver
from tests.integration.aws import GATEWAY_CLIENTS, stream_gateway
from tests.support import TENANT, utc
from tools.cli.main import ses_event
from tools.infra import package
from tools.local.ledger_stream import LedgerStream
from tools.local.provision import sms_log_groups

NIGHT_ATLANTA = utc(2026, 3, 2, 7, 0)  # 02:00 in Atlanta: texts are deferred
NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
JSON = {"Content-Type": "application/json"}


class Calls:
    """Every call of the watched clients, with the function it was made for."""

    def __init__(self) -> None:
        self.function: str | None = None
        self.seen: list[tuple[str, str, str, dict[str, Any]]] = []

    def watch(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        client.meta.events.register("provide-client-params.*.*", self._record(service))

    def _record(self, service: str) -> Any:
        def hook(params: dict[str, Any], model: Any, **_: Any) -> None:
            if self.function is not None:
                self.seen.append((self.function, service, model.name, dict(params)))

        return hook

    def as_(self, function: str | None) -> Calls:
        self._previous, self.function = self.function, function
        return self

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: Any) -> None:
        self.function = self._previous


def needs(service: str, operation: str, params: dict[str, Any], settings: Settings) -> list[tuple[str, str]]:  # noqa: C901
    """(IAM action, template resource) pairs one call needs."""
    tables = {getattr(settings, field): logical for field, logical in package.TABLES.items()}
    queues = {
        settings.batch_queue: "BatchQueue",
        settings.export_queue: "ExportQueue",
        f"{settings.batch_queue}-dead": "BatchDeadLetterQueue",
        settings.dispatch_queue: "DispatchQueue",
        settings.webhook_queue: "WebhookQueue",
        f"{settings.webhook_queue}-dead": "WebhookDeadLetterQueue",
    }
    buckets = {settings.export_bucket: "ExportBucket", settings.anchor_bucket: "AnchorBucket"}
    # Every table, bucket and queue is encrypted under DataKey: DynamoDB checks the caller's kms:Decrypt,
    # S3 and SQS writes need kms:GenerateDataKey and reads kms:Decrypt.
    decrypt, generate = ("kms:Decrypt", "DataKey"), ("kms:GenerateDataKey", "DataKey")
    if service == "dynamodb":
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [decrypt, *((f"dynamodb:{operation}", tables[t]) for t in params["RequestItems"])]
        table = tables[params["TableName"]]
        if params.get("IndexName"):
            table += f"/index/{params['IndexName']}"
        return [decrypt, (f"dynamodb:{operation}", table)]
    if service == "dynamodbstreams":
        return [(f"dynamodb:{operation}", "LedgerTable/stream")]
    if service == "sns":
        assert operation == "Publish" and "PhoneNumber" in params, (operation, params.keys())
        return [("sns:Publish", "sms")]
    if service == "sesv2":
        assert operation == "SendEmail"
        return [("ses:SendEmail", "email")]
    if service == "sqs":
        name = params.get("QueueName") or params["QueueUrl"].rsplit("/", 1)[1]
        action = operation.removesuffix("Batch")
        key_use = [generate, decrypt] if action == "SendMessage" else [decrypt]
        return [*key_use, (f"sqs:{action}", queues[name])]
    if service == "s3":
        bucket = buckets[params["Bucket"]]
        if operation == "ListObjectVersions":
            return [("s3:ListBucketVersions", bucket)]
        if operation.startswith("ListObjects"):
            return [("s3:ListBucket", bucket)]
        objects = f"{bucket}/*"
        if operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
            found = [generate, decrypt, ("s3:PutObject", objects)]
            if "ObjectLockMode" in params:
                found.append(("s3:PutObjectRetention", objects))
            return found
        if operation in ("GetObject", "HeadObject"):
            return [decrypt, ("s3:GetObjectVersion" if params.get("VersionId") else "s3:GetObject", objects)]
        return [(f"s3:{operation}", objects)]
    if service == "kms":
        return [(f"kms:{operation}", "WebhookKey" if params.get("KeyId") == settings.webhook_key_id else "SigningKey")]
    raise AssertionError(f"no IAM mapping for {service}.{operation}")


@pytest.fixture
def granted_stack(
    aws_env: None, policies: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Runtime, Any, Calls]]:
    import app as gateway_app

    with stream_gateway(policies, "iam-test-key") as gateway:
        calls = Calls()
        for name in GATEWAY_CLIENTS:
            calls.watch(getattr(gateway.clients, name))
        authenticate = gateway_app.keys.authenticate

        def as_authorizer(*args: Any, **kwargs: Any) -> Any:
            with calls.as_("bearer_auth"):
                return authenticate(*args, **kwargs)

        monkeypatch.setattr(gateway_app.keys, "authenticate", as_authorizer)
        ring = KeyRing(gateway, TENANT)
        for role in Role:
            ring.key(role)  # issued before anything is recorded
        with gateway_app.using(gateway), Client(gateway_app.app) as test_client:
            yield gateway, AuthedClient(test_client, ring), calls


def _post(client: Any, path: str, body: Any) -> dict[str, Any]:
    response = client.http.post(path, headers=JSON, body=json.dumps(body))
    assert response.status_code < 300, response.body
    return dict(json.loads(response.body))


def _get(client: Any, path: str) -> dict[str, Any]:
    response = client.http.get(path)
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def _sms(debtor: str, **extra: Any) -> dict[str, Any]:
    return {
        "debtor_id": debtor,
        "account_id": "a-1",
        "channel": "sms",
        "to": "+14045550100",
        "location": {"country": "US", "subdivision": "GA"},
        "message": {"body": "Your payment is overdue. Reply STOP to opt out."},
        **extra,
    }


def _drain(gateway: Runtime, queue: str, calls: Calls) -> list[dict[str, Any]]:
    """What Lambda's SQS event source does with the function's role: receive, and delete once handled."""
    sqs = gateway.clients.sqs
    with calls.as_(None):  # the event source mapping knows its queue's URL
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    taken: list[dict[str, Any]] = []
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"]
    ).get("Messages", []):
        taken += messages
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)]
        )
    return taken


def _send_webhooks(gateway: Runtime, client: Any, calls: Calls) -> None:
    """The webhook sender's deliveries of what the webhook queue holds."""
    for message in _drain(gateway, gateway.settings.webhook_queue, calls):
        event = client.events.generate_sqs_event(queue_name=resources.WEBHOOK_QUEUE, message_bodies=[message["Body"]])
        client.lambda_.invoke("webhook_sender", event)


def test_each_function_is_granted_every_call_it_makes(granted_stack, monkeypatch: pytest.MonkeyPatch) -> None:
    gateway, client, calls = granted_stack
    stream = LedgerStream(gateway)
    calls.watch(stream.streams)
    now = [NIGHT_ATLANTA]
    gateway.clock = lambda: now[0]
    # Every sending function takes slots and reads its tenant's settings (docs/decisions/0017); the tenant's
    # own rate below reschedules some contacts, woken on the dispatch queue.
    gateway.pacing.rates = {Channel.SMS: 1000.0, Channel.EMAIL: 1000.0}
    monkeypatch.setattr(pacing, "SETTINGS_TTL", timedelta(0))

    with calls.as_("api_handler"):
        assert client.http.get("/v1/health").status_code == 200
        _get(client, "/v1/settings")
        patched = client.http.patch("/v1/settings", headers=JSON, body=json.dumps({"sms_rate_per_second": 0.1}))
        assert patched.status_code == 200, patched.body
        deferred = _post(client, "/v1/contacts", _sms("d-night"))
        assert deferred["status"] == "scheduled", deferred
    now[0] = NOON_ATLANTA
    gateway.webhooks.poster = Receiver()  # receivers resolve and answer without a network
    receiver = gateway.webhooks.poster
    with calls.as_("api_handler"):
        events = ["contact.sent", "contact.scheduled", "address.suppressed", "export.done"]
        hook = _post(client, "/v1/webhooks", {"url": "https://hooks.example.com/in", "events": events})
        spare = _post(client, "/v1/webhooks", {"url": "https://hooks.example.com/spare", "events": events})
        assert client.http.delete(f"/v1/webhooks/{spare['webhook_id']}").status_code == 200
        _get(client, "/v1/webhooks")
        _post(client, f"/v1/webhooks/{hook['webhook_id']}/test", {})
        sent = _post(client, "/v1/contacts", _sms("d-1"))
        assert _post(client, "/v1/contacts", _sms("d-6"))["status"] == "scheduled"  # paced: 10 s later
        mail = _post(client, "/v1/contacts", {**_sms("d-1"), "channel": "email", "to": "debtor@example.com"})
        call = _post(client, "/v1/contacts", {**_sms("d-2"), "channel": "voice", "message": None})
        _post(client, f"/v1/contacts/{call['contact_id']}/outcome", {"result": "conversation"})
        _post(client, "/v1/contacts/evaluate", _sms("d-3"))
        _get(client, f"/v1/contacts/{sent['contact_id']}")
        batch = _post(client, "/v1/contacts/batch", {"contacts": [_sms("d-4"), _sms("d-5")]})
        _get(client, f"/v1/contacts/batch/{batch['batch_id']}")
        _get(client, "/v1/debtors/d-1/preferences")
        _get(client, "/v1/keys")
    with calls.as_("audit_stream"):
        stream.drain()
    with calls.as_("batch_worker"):
        messages = _drain(gateway, gateway.settings.batch_queue, calls)
        arn = "arn:aws:sqs:us-east-1:123456789012:" + gateway.settings.batch_queue
        event = batch_worker.sqs_event(arn, "us-east-1", messages)
        batch_worker.handle_sqs(event, gateway.deps, gateway.batch_queue, lambda: NOON_ATLANTA)
    with calls.as_("inbound_sms"):
        sms = {"originationNumber": "+14045550100", "destinationNumber": "+18005550100", "messageBody": "STOP"}
        sms |= {"inboundMessageId": "m-1", "messageKeyword": "", "previousPublishedMessageId": ""}
        client.lambda_.invoke("inbound_sms", client.events.generate_sns_event(message=json.dumps(sms)))
    with calls.as_("ses_feedback"):
        bounce = {"notificationType": "Bounce", "mail": {"messageId": "e-1"}}
        bounce["bounce"] = {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "debtor@example.com"}]}
        client.lambda_.invoke("ses_feedback", client.events.generate_sns_event(message=json.dumps(bounce)))
        delivered = ses_event("Delivery", "debtor@example.com", mail["provider_message_id"], False, NOON_ATLANTA)
        client.lambda_.invoke("ses_feedback", client.events.generate_sns_event(message=json.dumps(delivered)))
    with calls.as_("sms_status"):  # a receipt, as the delivery-status log group's subscription hands it over
        line = sns_line(sent["provider_message_id"], DeliveryStatus.PERMANENT_FAILURE, NOON_ATLANTA, None)
        client.lambda_.invoke("sms_status", subscription_event(sms_log_groups()[1], [line], 0))
    with calls.as_("audit_stream"):
        stream.drain()
    with calls.as_("dispatcher"):
        client.lambda_.invoke("dispatcher", client.events.generate_cw_event("aws.events", "Scheduled Event", {}, []))
    with calls.as_("dispatch_worker"):  # the shard messages, then the people messages they enqueued
        for _round in range(2):
            for message in _drain(gateway, gateway.settings.dispatch_queue, calls):
                event = client.events.generate_sqs_event(
                    queue_name=resources.DISPATCH_QUEUE, message_bodies=[message["Body"]]
                )
                client.lambda_.invoke("dispatch_worker", event)
    with calls.as_("audit_stream"):
        stream.drain()
    with calls.as_("api_handler"):
        _get(client, "/v1/audit/events?debtor_id=d-1")
        _get(client, "/v1/audit/events?from=2026-03-02&to=2026-03-02")
        _get(client, "/v1/audit/events?account_id=a-1")
        _get(client, "/v1/audit/verify?debtor_id=d-1")
        _get(client, "/v1/exports/public-key")
        export = _post(client, "/v1/exports", {"debtor_id": "d-1", "formats": ["jsonl", "csv", "pdf"]})
        day_export = _post(client, "/v1/exports", {"from": "2026-03-02", "to": "2026-03-02", "formats": ["jsonl"]})
    with calls.as_("export_worker"):
        for message in _drain(gateway, gateway.settings.export_queue, calls):
            event = client.events.generate_sqs_event(
                queue_name=resources.EXPORT_QUEUE, message_bodies=[message["Body"]]
            )
            client.lambda_.invoke("export_worker", event)
    with calls.as_("api_handler"):
        for job in (export, day_export):
            assert _get(client, f"/v1/exports/{job['export_id']}")["status"] == "done"
    receiver.answers = [500]  # the first post (the test event) fails: it goes back on the queue, delayed
    with calls.as_("webhook_sender"):
        _send_webhooks(gateway, client, calls)
    assert {p["type"] for p in receiver.delivered()} >= {"contact.sent", "address.suppressed", "export.done"}
    with calls.as_("api_handler"):
        _get(client, f"/v1/webhooks/{hook['webhook_id']}/deliveries")
    now[0] = NOON_ATLANTA + timedelta(days=1)
    with calls.as_("audit_daily"):
        report = client.lambda_.invoke(
            "audit_daily", client.events.generate_cw_event("aws.events", "Scheduled", {}, [])
        )
        assert report.payload["anchored"][TENANT], report.payload
    with calls.as_("api_handler"):
        _get(client, "/v1/audit/verify?debtor_id=d-1")

    missing: set[tuple[str, str, str]] = set()
    used: dict[str, set[str]] = {}
    for function, service, operation, params in calls.seen:
        used.setdefault(function, set()).add(f"{service}.{operation}")
        for action, resource in needs(service, operation, params, gateway.settings):
            if action not in package.ACCESS[function].get(resource, ()):
                missing.add((function, action, resource))
    if os.environ.get("IAM_UNUSED"):  # IAM_UNUSED=1 pytest -s: the grants these flows did not use
        granted = {(f, a, r) for f, acc in package.ACCESS.items() for r, acts in acc.items() for a in acts}
        seen = {(f, a, r) for f, sv, op, p in calls.seen for a, r in needs(sv, op, p, gateway.settings)}
        print("UNUSED", *sorted(granted - seen), sep="\n")
    assert not missing, "calls no policy grants:\n" + "\n".join(map(str, sorted(missing)))
    assert set(used) == set(package.FUNCTIONS), set(package.FUNCTIONS) - set(used)  # every function did work
    # The audit table's writers: the appender adds (a put only where no item is), the daily pass re-puts an
    # item with a later TTL and nothing else changed (docs/decisions/0029).
    table = gateway.settings.audit_table
    audit_puts = [(f, p) for f, _sv, op, p in calls.seen if op == "PutItem" and p["TableName"] == table]
    assert audit_puts and {f for f, _p in audit_puts} <= set(package.AUDIT_WRITERS), {f for f, _p in audit_puts}
    for function, params in audit_puts:
        condition = params.get("ConditionExpression", "")
        assert condition == "attribute_not_exists(pk)" or (function == "audit_daily" and "expires_at < :e" in condition)
