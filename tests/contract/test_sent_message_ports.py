"""Sent messages by provider id (what a receipt is about): one suite, run against the fake and DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.adapters.sent_messages import DynamoDBSentMessages
from chalicelib.domain.model import Channel
from chalicelib.domain.ports import SentMessages
from chalicelib.domain.receipts import SentMessage
from tests.contract.support import dynamodb_tables
from tests.fakes import InMemorySentMessages
from tests.support import utc

SENT = SentMessage(
    channel=Channel.SMS,
    provider_message_id="4d2b-11",
    tenant="t1",
    contact_id="ct_1",
    account_id="a-1",
    to="+14045550100",
    sent_at=utc(2026, 3, 2, 17),
    packs=("us-federal", "house-tiered"),
)


@pytest.fixture(params=["memory", "dynamodb"])
def sent_messages(request: pytest.FixtureRequest, aws_env: None) -> Iterator[SentMessages]:
    if request.param == "memory":
        yield InMemorySentMessages()
        return
    with dynamodb_tables() as (settings, clients):
        yield DynamoDBSentMessages(clients.dynamodb, settings.sent_messages_table)


def test_a_sent_message_is_found_by_its_channel_and_provider_id(sent_messages: SentMessages) -> None:
    assert sent_messages.find(Channel.SMS, "4d2b-11") is None
    sent_messages.remember(SENT)
    assert sent_messages.find(Channel.SMS, "4d2b-11") == SENT
    assert sent_messages.find(Channel.EMAIL, "4d2b-11") is None  # an email id is another provider's
