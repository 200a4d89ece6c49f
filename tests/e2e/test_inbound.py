"""A reply published to the inbound SNS topic, delivered by the local stack as AWS would (SNS -> SQS)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from chalicelib.services import inbound
from gateway_cli.localstack import ROOT
from tests.e2e.support import moto_data, new_debtor, sms_body

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_stop_published_to_the_topic_suppresses_the_number_for_a_new_debtor(api, stack):
    number = "+14045550142"  # a number no other e2e test texts
    published = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway_cli.main",
            "sms-inbound",
            "--from",
            number,
            "--to",
            "+18005550100",
            "--body",
            "ＳＴＯＰ",
        ],
        cwd=ROOT,
        env={**stack.env(), "AWS_ENDPOINT_URL": stack.endpoint},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "published" in published.stdout
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        confirmations = [
            m
            for m in moto_data(stack.endpoint)["sns"]["SMS"]
            if m["phone_number"] == number and m["message"] == inbound.CONFIRMATION
        ]
        if confirmations:
            break
        time.sleep(0.3)
    assert len(confirmations) == 1
    response = api.post("/v1/contacts", json=sms_body(new_debtor(), number))
    assert response.json()["status"] == "blocked", response.text
    rules = [r["rule"] for r in response.json()["decision"]["reasons"]]
    assert "us-federal/opt-out-and-prohibited-media" in rules  # quiet hours may be named too, at night


def test_a_complaint_published_by_ses_suppresses_the_email_address(api, stack):
    address = f"complainer-{new_debtor()}@example.com"
    subprocess.run(
        [sys.executable, "-m", "gateway_cli.main", "ses-feedback", "--type", "complaint", "--email", address],
        cwd=ROOT,
        env={**stack.env(), "AWS_ENDPOINT_URL": stack.endpoint},
        capture_output=True,
        text=True,
        check=True,
    )
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


def test_a_malformed_message_on_the_topic_does_not_hold_back_a_stop(stack):
    import boto3

    sns = boto3.client(
        "sns",
        region_name="us-east-1",
        endpoint_url=stack.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    topic = sns.create_topic(Name="gateway-inbound-sms")["TopicArn"]
    sns.publish(TopicArn=topic, Message="not json at all")
    number = "+14045550143"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway_cli.main",
            "sms-inbound",
            "--from",
            number,
            "--to",
            "+18005550100",
            "--body",
            "STOP",
        ],
        cwd=ROOT,
        env={**stack.env(), "AWS_ENDPOINT_URL": stack.endpoint},
        capture_output=True,
        text=True,
        check=True,
    )
    deadline, confirmations = time.monotonic() + 15, []
    while time.monotonic() < deadline and not confirmations:
        confirmations = [m for m in moto_data(stack.endpoint)["sns"]["SMS"] if m["phone_number"] == number]
        time.sleep(0.3)
    assert [m["message"] for m in confirmations] == [inbound.CONFIRMATION]
