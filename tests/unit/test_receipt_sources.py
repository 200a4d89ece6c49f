"""What each provider report becomes: SNS's delivery-status lines and SES's events, read as receipts."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain.model import Channel, DeliveryStatus
from chalicelib.services.receipt_sources import (
    ReceiptMessageError,
    email_receipt,
    sms_receipt,
    subscription_event,
    subscription_lines,
)
from tests.support import utc

MESSAGE_ID = "1077257a-92f3-5ca3-bc97-6a915b310625"
SNS_FAILURE: dict[str, object] = {
    "notification": {"messageId": MESSAGE_ID, "timestamp": "2026-03-02 17:01:02.559"},
    "delivery": {"destination": "+14045550100", "providerResponse": "Unknown error attempting to reach phone"},
    "status": "FAILURE",
}


def test_an_sns_failure_line_keeps_its_message_id_provider_time_and_response():
    receipt = sms_receipt(json.dumps(SNS_FAILURE))
    assert receipt.channel is Channel.SMS and receipt.provider_message_id == MESSAGE_ID
    assert receipt.at == utc(2026, 3, 2, 17, 1, 2).replace(microsecond=559000)
    assert receipt.status is DeliveryStatus.TEMPORARY_FAILURE
    assert receipt.provider_code == "Unknown error attempting to reach phone"


@pytest.mark.parametrize(
    ("status", "response", "word"),
    [
        ("SUCCESS", "Message has been accepted by phone carrier", DeliveryStatus.DELIVERED),
        ("FAILURE", "Phone is currently unreachable/unavailable", DeliveryStatus.TEMPORARY_FAILURE),
        ("FAILURE", "Invalid phone number", DeliveryStatus.PERMANENT_FAILURE),
        ("FAILURE", "Phone has blocked SMS", DeliveryStatus.PERMANENT_FAILURE),
        ("FAILURE", "phone is currently unreachable/unavailable!", DeliveryStatus.PERMANENT_FAILURE),  # matched whole
        ("FAILURE", None, DeliveryStatus.PERMANENT_FAILURE),
    ],
)
def test_an_sns_failure_is_temporary_only_when_sns_says_the_phone_may_work_later(status, response, word):
    line = {**SNS_FAILURE, "status": status, "delivery": {"providerResponse": response}}
    assert sms_receipt(json.dumps(line)).status is word


def test_a_subscription_delivery_is_read_back_line_by_line():
    event = subscription_event("sns/us-east-1/1/DirectPublishToPhoneNumber", ["a", "b"], 0)
    assert subscription_lines(event) == ["a", "b"]
    with pytest.raises(ReceiptMessageError):
        subscription_lines({"awslogs": {"data": "bm90IGd6aXA="}})
    with pytest.raises(ReceiptMessageError):
        sms_receipt('{"status": "SUCCESS"}')


MAIL = {"messageId": "0100018e-ses", "timestamp": "2026-03-02T17:00:00.000Z", "destination": ["d@example.com"]}


@pytest.mark.parametrize(
    ("event", "word", "code", "counted"),
    [
        ({"eventType": "Delivery", "delivery": {"timestamp": "2026-03-02T17:00:05.000Z"}}, "delivered", None, True),
        (
            {"eventType": "DeliveryDelay", "deliveryDelay": {"delayType": "MailboxFull"}},
            "temporary_failure",
            "MailboxFull",
            True,
        ),
        ({"eventType": "Reject", "reject": {"reason": "Bad content"}}, "permanent_failure", "Reject", False),
        (
            {"notificationType": "Bounce", "bounce": {"bounceType": "Permanent", "bounceSubType": "NoEmail"}},
            "permanent_failure",
            "Permanent/NoEmail",
            True,
        ),
        (
            {"eventType": "Bounce", "bounce": {"bounceType": "Undetermined"}},
            "temporary_failure",
            "Undetermined",
            True,
        ),
    ],
)
def test_ses_events_map_to_delivery_states(event, word, code, counted):
    receipt = email_receipt({**event, "mail": MAIL})
    assert receipt is not None and receipt.channel is Channel.EMAIL and receipt.provider_message_id == MAIL["messageId"]
    assert (receipt.status.value, receipt.provider_code, receipt.address_fault) == (word, code, counted)
    assert receipt.at.tzinfo is not None


def test_an_ses_event_that_is_no_receipt_is_none_and_one_without_an_id_is_refused():
    assert email_receipt({"eventType": "Open", "mail": MAIL}) is None
    assert email_receipt({"eventType": "Complaint", "mail": MAIL}) is None  # a complaint is its own event
    with pytest.raises(ReceiptMessageError):
        email_receipt({"eventType": "Delivery", "mail": {"timestamp": MAIL["timestamp"]}})
