"""The local stack hands each topic's message to the same handler the deployed function runs
(chalicelib/entrypoints), so a message is handled, dropped or kept for a retry the same way by both."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import resources
from chalicelib.domain.inbound import Reply
from chalicelib.entrypoints import topics
from tests.support import utc
from tools.local.stack import _from_sns, topic_handlers

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


def two_way_sms(body: str, message_id: str) -> str:
    return json.dumps(
        {
            "originationNumber": "+14045550177",
            "destinationNumber": "+18005550100",
            "messageBody": body,
            "inboundMessageId": message_id,
            "messageKeyword": "",
            "previousPublishedMessageId": "",
        }
    )


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every message ``entrypoints.topics.inbound_sms`` is given, with what it answered."""
    calls: list[tuple[str, Any]] = []
    handler = topics.inbound_sms

    def spy(message: str, *args: Any) -> Any:
        answer = handler(message, *args)
        calls.append((message, answer))
        return answer

    monkeypatch.setattr(topics, "inbound_sms", spy)
    return calls


def deliver_locally(gateway: Any, message: str) -> str:
    """What the local stack's topic loop does with one SQS message from the topic's subscription."""
    handle = _from_sns(topic_handlers(gateway, lambda: NOON_ATLANTA)[resources.INBOUND_SMS_TOPIC])
    return handle(json.dumps({"Type": "Notification", "Message": message}))


def test_a_message_that_is_not_an_inbound_sms_is_dropped_by_the_app_and_the_local_stack_alike(
    client, gateway, seen
) -> None:
    client.lambda_.invoke("inbound_sms", client.events.generate_sns_event(message="not json at all"))  # no raise
    assert deliver_locally(gateway, "not json at all") == "inbound sms: dropped, not an inbound SMS"  # deleted
    assert seen == [("not json at all", None), ("not json at all", None)]


def test_a_stop_is_handled_by_the_same_handler_in_the_app_and_the_local_stack(client, gateway, seen) -> None:
    client.lambda_.invoke("inbound_sms", client.events.generate_sns_event(message=two_way_sms("STOP", "m-app")))
    assert deliver_locally(gateway, two_way_sms("STOP", "m-local")) == f"inbound sms: {Reply.OPT_OUT.value}"
    assert [answer for _, answer in seen] == [Reply.OPT_OUT, Reply.OPT_OUT]


def test_a_message_whose_handling_fails_is_retried_by_both(client, gateway, faults) -> None:
    faults.add("throttle", "dynamodb", times=None)  # storage unavailable: neither may drop the reply
    event = client.events.generate_sns_event(message=two_way_sms("STOP", "m-app"))
    with pytest.raises(Exception) as in_app:  # noqa: B017 - whatever the storage error, it must propagate
        client.lambda_.invoke("inbound_sms", event)
    with pytest.raises(type(in_app.value)):  # the topic loop leaves the message queued
        deliver_locally(gateway, two_way_sms("STOP", "m-local"))
