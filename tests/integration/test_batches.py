"""Batch intake in-process over moto: validation of every request, the SQS queue, the batch worker with
partial failures, redeliveries, replays, and what each key may see."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.access import Role
from chalicelib.entrypoints import batch_worker
from tests.integration.aws import count_calls, fail_calls, sent_sms
from tests.support import COLLECTOR_MESSAGE, NOON_ATLANTA, batch_queue, batch_sms, deliver, waiting

JSON = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def noon(gateway: Any) -> None:
    gateway.clock = lambda: NOON_ATLANTA


def post_batch(client: Any, body: Any, **headers: str) -> Any:
    return client.http.post("/v1/contacts/batch", headers={**JSON, **headers}, body=json.dumps(body))


def status(client: Any, batch_id: str, **headers: str) -> Any:
    return client.http.get(f"/v1/contacts/batch/{batch_id}", headers=headers)


def test_a_batch_is_queued_decided_one_by_one_and_reported(client, gateway):
    accepted = post_batch(
        client, {"contacts": [batch_sms("d-1"), batch_sms("d-2"), batch_sms("d-3", channel="voice", message=None)]}
    )
    assert accepted.status_code == 202, accepted.body
    body = json.loads(accepted.body)
    assert (body["total"], body["queued"]) == (3, 3) and accepted.headers["Location"].endswith(body["batch_id"])
    running = json.loads(status(client, body["batch_id"]).body)
    assert (running["status"], running["progress"]["done"]) == ("running", 0)
    _, error = deliver(gateway)
    assert error is None and waiting(gateway) == 0
    done = json.loads(status(client, body["batch_id"]).body)
    assert done["status"] == "done" and done["progress"]["by_status"] == {"sent": 2, "permitted": 1}
    assert [r["index"] for r in done["results"]] == [0, 1, 2] and len(sent_sms()) == 2
    # each result is the contact's own record
    contact = json.loads(client.http.get(f"/v1/contacts/{done['results'][0]['contact_id']}").body)
    assert contact["status"] == "sent" and contact["debtor_id"] == "d-1"


def test_one_invalid_request_refuses_the_batch_naming_it_and_queues_nothing(client, gateway):
    response = post_batch(
        client, {"contacts": [batch_sms("d-1"), batch_sms("d-2", to="+1555"), batch_sms("d-3", colour="red")]}
    )
    assert response.status_code == 400
    problem = json.loads(response.body)
    assert [e["field"] for e in problem["errors"]] == ["contacts[1].to", "contacts[2].colour"]
    assert "2 of 3 requests are invalid; nothing was queued" in problem["detail"]
    assert waiting(gateway) == 0


def test_accept_valid_queues_the_valid_ones_and_keeps_the_others_as_invalid(client, gateway):
    response = post_batch(client, {"contacts": [batch_sms("d-1"), batch_sms("d-2", to="+1555")], "accept_valid": True})
    body = json.loads(response.body)
    assert (response.status_code, body["queued"], body["rejected"][0]["index"]) == (202, 1, 1)
    deliver(gateway)
    done = json.loads(status(client, body["batch_id"]).body)
    assert done["status"] == "done" and [r["status"] for r in done["results"]] == ["sent", "invalid"]
    assert done["results"][1]["errors"][0]["field"] == "contacts[1].to"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"contacts": []}, "contacts"),
        ({"contacts": [batch_sms(f"d-{i}") for i in range(501)]}, "contacts"),
        ({"contacts": [batch_sms("d-1")], "priority": "high"}, "priority"),
        ([batch_sms("d-1")], "body"),
    ],
)
def test_a_malformed_batch_is_a_400_naming_the_field(client, gateway, body, field):  # 501: 130 KB, under 5 MB
    response = post_batch(client, body)
    assert response.status_code == 400
    assert field in [e["field"] for e in json.loads(response.body)["errors"]]
    assert waiting(gateway) == 0


def test_a_failing_request_neither_fails_nor_repeats_the_others(client, gateway):
    body = json.loads(post_batch(client, {"contacts": [batch_sms("d-1"), batch_sms("d-bad"), batch_sms("d-3")]}).body)
    ledger = gateway.settings.ledger_table
    undo = fail_calls(
        gateway.clients.dynamodb,
        "BatchGetItem",
        "InternalServerError",
        lambda p: any("d-bad" in k["pk"]["S"] for k in p["RequestItems"].get(ledger, {}).get("Keys", [])),
    )
    try:
        messages, error = deliver(gateway)
    finally:
        undo()
    assert len(messages) == 1 and isinstance(error, batch_worker.BatchIncompleteError)  # ten requests a message
    assert waiting(gateway) == 1  # the message goes back, for its failed request
    first = json.loads(status(client, body["batch_id"]).body)
    assert first["progress"] == {"total": 3, "done": 2, "by_status": {"sent": 2}} and len(sent_sms()) == 2
    # the redelivery decides only the request that failed
    url, arn = batch_queue(gateway)
    gateway.clients.sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"], VisibilityTimeout=0
    )
    calls = count_calls(gateway.clients.dynamodb)
    _, error = deliver(gateway)
    assert error is None and waiting(gateway) == 0
    done = json.loads(status(client, body["batch_id"]).body)
    assert done["progress"]["by_status"] == {"sent": 3} and len(sent_sms()) == 3
    assert [r["decided_at"] for r in done["results"] if r["index"] != 1] == [r["decided_at"] for r in first["results"]]
    assert calls.count("PutItem") < 10  # one request's commit, appends and result; not three


def test_a_redelivered_request_is_recorded_once_and_sends_nothing_again(client, gateway):
    body = json.loads(post_batch(client, {"contacts": [batch_sms("d-1")]}).body)
    url, arn = batch_queue(gateway)
    [message] = gateway.clients.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    event = batch_worker.sqs_event(arn, "us-east-1", [message])
    for _ in range(2):  # the first run's delete was lost: SQS delivers the message again
        batch_worker.handle_sqs(event, gateway.deps, gateway.batch_queue, lambda: NOON_ATLANTA)
    done = json.loads(status(client, body["batch_id"]).body)
    assert done["progress"]["by_status"] == {"sent": 1} and len(sent_sms()) == 1


def test_a_request_that_fails_every_delivery_is_recorded_as_failed(client, gateway):
    body = json.loads(post_batch(client, {"contacts": [batch_sms("d-bad")]}).body)
    ledger = gateway.settings.ledger_table
    undo = fail_calls(
        gateway.clients.dynamodb, "BatchGetItem", "InternalServerError", lambda p: ledger in p["RequestItems"]
    )
    url, arn = batch_queue(gateway)
    try:
        [message] = gateway.clients.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
        message["Attributes"]["ApproximateReceiveCount"] = "5"  # the last delivery before the dead-letter queue
        batch_worker.handle_sqs(
            batch_worker.sqs_event(arn, "us-east-1", [message]),
            gateway.deps,
            gateway.batch_queue,
            lambda: NOON_ATLANTA,
        )
    finally:
        undo()
    [result] = json.loads(status(client, body["batch_id"]).body)["results"]
    assert result["status"] == "failed" and "5 deliveries" in result["error"] and sent_sms() == []


def test_the_same_idempotency_key_queues_a_batch_once(client, gateway):
    first = json.loads(post_batch(client, {"contacts": [batch_sms("d-1")]}, **{"Idempotency-Key": "campaign-7"}).body)
    again = json.loads(post_batch(client, {"contacts": [batch_sms("d-1")]}, **{"Idempotency-Key": "campaign-7"}).body)
    assert first["batch_id"] == again["batch_id"] and again["replayed"] is True
    assert waiting(gateway) == 1


def test_a_request_key_names_the_same_contact_as_a_single_submit_with_that_key(client, gateway):
    single = json.loads(
        client.http.post(
            "/v1/contacts", headers={**JSON, "Idempotency-Key": "k-1"}, body=json.dumps(batch_sms("d-1"))
        ).body
    )
    body = json.loads(post_batch(client, {"contacts": [{**batch_sms("d-1"), "idempotency_key": "k-1"}]}).body)
    deliver(gateway)
    [result] = json.loads(status(client, body["batch_id"]).body)["results"]
    assert result["contact_id"] == single["contact_id"] and result["duplicate"] is True and len(sent_sms()) == 1


def test_batches_are_seen_by_their_tenant_and_agency_only(client, gateway, ring):
    from tests.auth import KeyRing

    agency_a = ring.bearer(Role.SUBMITTER, "agency-a")
    contacts = [batch_sms("d-1", message=COLLECTOR_MESSAGE)]
    body = json.loads(post_batch(client, {"contacts": contacts}, **agency_a).body)
    assert status(client, body["batch_id"], **agency_a).status_code == 200
    assert status(client, body["batch_id"], **ring.bearer(Role.SUBMITTER, "agency-b")).status_code == 404
    assert status(client, body["batch_id"], **ring.bearer(Role.COMPLIANCE)).status_code == 200
    other = KeyRing(gateway, "other-lender")
    assert status(client, body["batch_id"], **other.bearer(Role.COMPLIANCE)).status_code == 404
    deliver(gateway)
    [record] = gateway.deps.ledgers.get("local", "d-1").history
    assert record.agency == "agency-a"  # the agency's own requests, in the creditor's ledger


def test_long_messages_are_queued_in_sends_sqs_takes(client, gateway):
    # 54 KB each once escaped: ten of them would be over SendMessageBatch's 256 KB, so they go fewer at a time
    long = {"body": "您的账单已逾期 Reply STOP to opt out. " + "逾" * 9000}
    contacts = [batch_sms(f"d-{i}", channel="email", to=f"p{i}@example.com", message=long) for i in range(150)]
    raw = json.dumps({"contacts": contacts}, ensure_ascii=False)
    response = client.http.post("/v1/contacts/batch", headers=JSON, body=raw)
    assert response.status_code == 202, response.body[:300]
    assert json.loads(response.body)["queued"] == 150
    assert waiting(gateway) == 50  # three a message: 54 KB each as the queue sends them (ASCII), under 256 KB
    too_big = post_batch(client, {"contacts": [batch_sms("d-1", metadata={"x": "y" * 3000})] * 2000})
    assert too_big.status_code == 413


def test_requests_sqs_did_not_take_are_failed_results_and_the_others_stand(client, gateway):
    calls = {"n": 0}

    def second_call(params: dict[str, Any]) -> bool:
        calls["n"] += 1
        return calls["n"] == 2

    undo = fail_calls(gateway.clients.sqs, "SendMessageBatch", "InternalError", second_call)
    try:
        contacts = [batch_sms(f"d-{i}") for i in range(150)]  # 15 messages: two SendMessageBatch calls
        response = post_batch(client, {"contacts": contacts})
    finally:
        undo()
    body = json.loads(response.body)
    assert (response.status_code, body["queued"]) == (202, 100)
    while waiting(gateway):
        deliver(gateway)
    done = json.loads(status(client, body["batch_id"]).body)
    assert done["status"] == "done" and done["progress"]["by_status"] == {"sent": 100, "failed": 50}
    assert {r["error"] for r in done["results"] if r["status"] == "failed"} == {"could not be queued"}


def test_an_idempotency_key_reused_for_other_requests_is_a_422(client, gateway):
    post_batch(client, {"contacts": [batch_sms("d-1")]}, **{"Idempotency-Key": "campaign-8"})
    other = post_batch(client, {"contacts": [batch_sms("d-2")]}, **{"Idempotency-Key": "campaign-8"})
    assert other.status_code == 422 and json.loads(other.body)["errors"][0]["field"] == "Idempotency-Key"
    assert waiting(gateway) == 1


def test_two_requests_of_a_batch_cannot_share_an_idempotency_key(client, gateway):
    body = {"contacts": [{**batch_sms("d-1"), "idempotency_key": "k"}, {**batch_sms("d-2"), "idempotency_key": "k"}]}
    response = post_batch(client, body)
    assert response.status_code == 400
    assert json.loads(response.body)["errors"] == [
        {"field": "contacts[1].idempotency_key", "message": "also used by contacts[0]"}
    ]


def test_with_accept_valid_a_request_that_is_not_an_object_is_only_that_requests_problem(client, gateway):
    response = post_batch(client, {"contacts": [batch_sms("d-1"), "not a request", 7], "accept_valid": True})
    body = json.loads(response.body)
    assert (response.status_code, body["queued"], [r["index"] for r in body["rejected"]]) == (202, 1, [1, 2])


def test_error_lists_stay_bounded_whatever_a_request_holds(client, gateway):
    noisy = {**batch_sms("d-2"), **{f"unknown_{i}": i for i in range(800)}}
    response = post_batch(client, {"contacts": [batch_sms("d-1"), noisy], "accept_valid": True})
    assert response.status_code == 202
    [rejected] = json.loads(response.body)["rejected"]
    assert len(rejected["errors"]) == 10 and len(response.body) < 5000


def test_a_batch_with_no_result_for_half_an_hour_is_stalled(client, gateway):
    body = json.loads(post_batch(client, {"contacts": [batch_sms("d-1")]}).body)
    gateway.clock = lambda: NOON_ATLANTA + timedelta(minutes=31)
    assert json.loads(status(client, body["batch_id"]).body)["status"] == "stalled"


def test_the_batch_queue_moves_a_message_to_its_dead_letters_after_the_workers_last_try(gateway):
    from chalicelib.services import batches
    from tools.local import provision

    url, _ = batch_queue(gateway)
    redrive = gateway.clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
    policy = json.loads(redrive["RedrivePolicy"])
    assert policy["maxReceiveCount"] == provision.BATCH_MAX_RECEIVES > batches.MAX_DELIVERIES
    assert policy["deadLetterTargetArn"].endswith(f"{gateway.settings.batch_queue}-dead")
