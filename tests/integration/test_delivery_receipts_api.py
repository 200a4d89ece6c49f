"""Receipts in-process over moto: SNS's delivery-status lines and SES's events reach the contact's chain, and
``delivery`` shows in the contact, the batch results and the audit trail's ``delivery`` filter."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.events import EventType
from chalicelib.domain.model import DeliveryStatus
from chalicelib.entrypoints import receipts as receipts_entry
from chalicelib.entrypoints import topics
from chalicelib.services.contacts import submit_contact
from chalicelib.services.receipt_sources import sns_line, subscription_event
from tests.support import NOON_ATLANTA, batch_sms, deliver, make_request
from tools.cli.main import ses_event
from tools.local.provision import sms_log_groups

JSON = {"Content-Type": "application/json"}
LATER = NOON_ATLANTA + timedelta(minutes=1)


@pytest.fixture(autouse=True)
def noon(gateway: Any) -> None:
    gateway.clock = lambda: NOON_ATLANTA


def sms_status(gateway, provider_id, status, at=LATER, code=None, failed=None) -> Any:
    """One SNS delivery-status line, as the log group's subscription filter hands it to ``sms_status``."""
    groups = sms_log_groups()
    failed = status != DeliveryStatus.DELIVERED if failed is None else failed
    line = sns_line(provider_id, DeliveryStatus(status), at, code, "+14045550100")
    event = subscription_event(groups[1 if failed else 0], [line], int(at.timestamp() * 1000))
    return receipts_entry.sms_status(event, gateway, lambda: LATER)


def contact(client, contact_id) -> dict[str, Any]:
    response = client.http.get(f"/v1/contacts/{contact_id}")
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def test_an_sns_delivery_status_line_becomes_the_contacts_delivery(client, gateway):
    sent = submit_contact(make_request(), gateway.deps, NOON_ATLANTA)
    before = contact(client, sent.contact_id)
    assert before["delivery"] is None and before["status"] == "sent"
    (done,) = sms_status(gateway, sent.provider_message_id, "delivered")
    assert done.contact_id == sent.contact_id and done.recorded
    after = contact(client, sent.contact_id)
    assert after["delivery"] == {
        "status": "delivered",
        "at": "2026-03-02T17:01:00Z",
        "provider_code": "Message has been accepted by phone carrier",
    }
    assert after["status"] == "sent" and after["events"][-1]["type"] == EventType.DELIVERY


def test_a_redelivered_line_records_once_and_a_late_one_never_overrides_a_later_failure(client, gateway):
    sent = submit_contact(make_request(), gateway.deps, NOON_ATLANTA)
    sms_status(gateway, sent.provider_message_id, "permanent_failure", LATER + timedelta(minutes=5))
    sms_status(gateway, sent.provider_message_id, "permanent_failure", LATER + timedelta(minutes=5))  # again
    sms_status(gateway, sent.provider_message_id, "delivered", LATER)  # late, and older
    answer = contact(client, sent.contact_id)
    assert answer["delivery"]["status"] == "permanent_failure"
    assert answer["delivery"]["provider_code"] == "Invalid phone number"
    statuses = [e["data"]["delivery"]["status"] for e in answer["events"] if e["type"] == EventType.DELIVERY]
    assert statuses == ["permanent_failure", "delivered"]  # the trail keeps both, each once


def test_sns_failure_responses_map_to_temporary_or_permanent_and_an_unknown_one_is_permanent(client, gateway):
    first = submit_contact(make_request(debtor_id="d-1"), gateway.deps, NOON_ATLANTA)
    second = submit_contact(make_request(debtor_id="d-2"), gateway.deps, NOON_ATLANTA)
    sms_status(gateway, first.provider_message_id, "temporary_failure")
    sms_status(gateway, second.provider_message_id, "permanent_failure", code="A response SNS never documented")
    assert contact(client, first.contact_id)["delivery"]["status"] == "temporary_failure"
    assert contact(client, second.contact_id)["delivery"]["status"] == "permanent_failure"


def test_lines_that_are_not_receipts_or_name_unknown_messages_are_dropped(gateway):
    assert receipts_entry.sms_status({"awslogs": {"data": "not base64 gzip"}}, gateway, lambda: LATER) is None
    event = subscription_event(
        sms_log_groups()[0], ["{not json", sns_line("nope", DeliveryStatus.DELIVERED, LATER, None)], 0
    )
    assert receipts_entry.sms_status(event, gateway, lambda: LATER) == []


def email_request(debtor: str = "d-1") -> Any:
    return make_request(
        debtor_id=debtor,
        channel="email",
        to="debtor@example.com",
        message={"subject": "Due", "body": "Payment due. Unsubscribe: reply STOP."},
    )


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("Delivery", "delivered", None),
        ("deliverydelay", "temporary_failure", "MailboxFull"),
        ("REJECT", "permanent_failure", "Reject"),
        ("bounce", "permanent_failure", "Permanent/General"),
    ],
)
def test_ses_events_become_the_email_contacts_delivery(client, gateway, kind, status, code):
    sent = submit_contact(email_request(), gateway.deps, NOON_ATLANTA)
    assert sent.status == "sent", sent.decision
    message = ses_event(kind, "debtor@example.com", str(sent.provider_message_id), False, LATER)
    topics.ses_feedback(json.dumps(message), gateway, lambda: LATER)
    assert contact(client, sent.contact_id)["delivery"] == {
        "status": status,
        "at": "2026-03-02T17:01:00Z",
        "provider_code": code,
    }


def test_a_hard_bounce_still_suppresses_and_a_complaint_is_on_the_contacts_chain(client, gateway):
    sent = submit_contact(email_request(), gateway.deps, NOON_ATLANTA)
    bounce = ses_event("Bounce", "debtor@example.com", str(sent.provider_message_id), False, LATER)
    assert topics.ses_feedback(json.dumps(bounce), gateway, lambda: LATER) == ["debtor@example.com"]
    assert submit_contact(email_request("d-2"), gateway.deps, LATER).status == "blocked"
    complaint = ses_event("Complaint", "debtor@example.com", str(sent.provider_message_id), False, LATER)
    topics.ses_feedback(json.dumps(complaint), gateway, lambda: LATER)
    topics.ses_feedback(json.dumps(complaint), gateway, lambda: LATER)  # redelivered: recorded once
    kinds = [e["type"] for e in contact(client, sent.contact_id)["events"]]
    assert kinds.count(EventType.COMPLAINT) == 1 and kinds.count(EventType.DELIVERY) == 1


def test_the_audit_trail_filters_receipts_by_delivery_state(client, gateway):
    for debtor, status in (("d-1", "delivered"), ("d-2", "permanent_failure")):
        sent = submit_contact(make_request(debtor_id=debtor), gateway.deps, NOON_ATLANTA)
        sms_status(gateway, sent.provider_message_id, status)
    window = "from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z"
    found = json.loads(client.http.get(f"/v1/audit/events?delivery=permanent_failure&{window}").body)["events"]
    assert [(e["debtor_id"], e["type"]) for e in found] == [("d-2", "delivery")]
    mine = json.loads(client.http.get("/v1/audit/events?debtor_id=d-1&delivery=delivered").body)["events"]
    assert [e["data"]["delivery"]["status"] for e in mine] == ["delivered"]
    for query, field in (("delivery=lost", "delivery"), ("delivery=delivered&outcome=sent", "delivery")):
        refused = client.http.get(f"/v1/audit/events?debtor_id=d-1&{query}")
        assert refused.status_code == 400 and field in refused.body.decode(), query


def test_batch_results_show_each_sent_contacts_delivery(client, gateway):
    body = {"contacts": [batch_sms("d-1"), batch_sms("d-2")]}
    accepted = client.http.post("/v1/contacts/batch", headers=JSON, body=json.dumps(body))
    batch_id = json.loads(accepted.body)["batch_id"]
    deliver(gateway)
    results = json.loads(client.http.get(f"/v1/contacts/batch/{batch_id}").body)["results"]
    first = contact(client, results[0]["contact_id"])
    provider_id = next(e["data"]["provider_message_id"] for e in first["events"] if e["type"] == "sent")
    sms_status(gateway, provider_id, "delivered")
    results = json.loads(client.http.get(f"/v1/contacts/batch/{batch_id}").body)["results"]
    assert results[0]["delivery"]["status"] == "delivered" and results[1]["delivery"] is None
