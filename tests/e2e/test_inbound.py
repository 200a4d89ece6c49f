"""Replies and SES feedback published to the SNS topics, delivered by the local stack as AWS would (SNS -> SQS)."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest

from chalicelib.services import inbound
from tests.e2e.support import gateway_command, moto_data, new_debtor, sms_body
from tools.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def texts_to(stack: LocalStack, number: str, timeout: float = 15) -> list[dict[str, Any]]:
    """The SMS moto recorded for ``number``, waiting for the first one to arrive."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in moto_data(stack.endpoint)["sns"]["SMS"] if m["phone_number"] == number]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def test_stop_published_to_the_topic_suppresses_the_number_for_a_new_debtor(api, stack):
    number = "+14045550142"  # a number no other e2e test texts
    assert "published" in gateway_command(
        stack, "sms-inbound", "--from", number, "--to", "+18005550100", "--body", "ＳＴＯＰ"
    )
    assert [m["message"] for m in texts_to(stack, number)] == [inbound.CONFIRMATION]
    response = api.post("/v1/contacts", json=sms_body(new_debtor(), number))
    assert response.json()["status"] == "blocked", response.text
    rules = [r["rule"] for r in response.json()["decision"]["reasons"]]
    assert "us-federal/opt-out-and-prohibited-media" in rules  # quiet hours may be named too, at night


def test_a_malformed_message_on_the_topic_does_not_hold_back_a_stop(stack):
    sns = boto3.client(
        "sns",
        region_name="us-east-1",
        endpoint_url=stack.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    sns.publish(TopicArn=sns.create_topic(Name="gateway-inbound-sms")["TopicArn"], Message="not json at all")
    number = "+14045550143"
    gateway_command(stack, "sms-inbound", "--from", number, "--to", "+18005550100", "--body", "STOP")
    assert [m["message"] for m in texts_to(stack, number)] == [inbound.CONFIRMATION]


def test_a_complaint_published_by_ses_suppresses_the_email_address(api, stack):
    address = f"complainer-{new_debtor()}@example.com"
    gateway_command(stack, "ses-feedback", "--type", "complaint", "--email", address)
    body = {
        "debtor_id": new_debtor(),
        "account_id": "a-1",
        "channel": "email",
        "to": address,
        "location": {"country": "US", "subdivision": "GA"},
        "message": {"subject": "Reminder", "body": "Payment due. Unsubscribe: reply STOP."},
    }
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        status = api.post("/v1/contacts/evaluate", json=body).json()
        if status["outcome"] == "deny":
            break
        time.sleep(0.3)
    assert "us-federal/opt-out-and-prohibited-media" in [r["rule"] for r in status["reasons"]]
