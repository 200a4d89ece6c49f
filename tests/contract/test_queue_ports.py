"""The queues (Queue, Deleter): one suite, run against the recording fake and SQS (moto)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto import mock_aws

from chalicelib.adapters.storage import SqsQueue
from chalicelib.bootstrap import Clients
from chalicelib.settings import Settings
from tests.fakes import RecordingQueue
from tools.local import provision

Received = Callable[[], list[tuple[tuple[str, str], dict[str, Any]]]]
UnderTest = tuple[Any, Received, Callable[[], int]]


@pytest.fixture(params=["memory", "sqs"])
def queue(request: pytest.FixtureRequest, aws_env: None) -> Iterator[UnderTest]:
    """The queue; what a worker receives from it now ((message id, receipt), message), each message once;
    and how many messages are not deleted yet."""
    if request.param == "memory":
        fake = RecordingQueue()

        def take() -> list[tuple[tuple[str, str], dict[str, Any]]]:
            messages = [m for _at, m in fake.receive()]
            return list(zip(fake.received[len(fake.received) - len(messages) :], messages, strict=True))

        yield fake, take, fake.pending
        return
    with mock_aws():
        settings = Settings()
        clients = Clients(settings)
        provision.ensure_queues(clients.sqs, settings)
        url = clients.sqs.get_queue_url(QueueName=settings.export_queue)["QueueUrl"]

        def receive() -> list[tuple[tuple[str, str], dict[str, Any]]]:
            found: list[tuple[tuple[str, str], dict[str, Any]]] = []
            while got := clients.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
                found += [((m["MessageId"], m["ReceiptHandle"]), json.loads(m["Body"])) for m in got]
            return found

        def pending() -> int:
            names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            counts = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
            counts.update(
                clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])[
                    "Attributes"
                ]
            )
            return sum(int(v) for v in counts.values())

        yield SqsQueue(clients.sqs, settings.export_queue), receive, pending


def test_messages_sent_one_or_many_at_a_time_are_received_once_each_as_sent(queue: UnderTest) -> None:
    port, receive, _ = queue
    port.send({"export_id": "ex_1", "tenant": "t", "text": "café"})
    assert port.send_many([{"n": n} for n in range(12)]) == []  # more than one call's ten
    received = [m for _receipt, m in receive()]
    assert sorted(received, key=json.dumps) == sorted(
        [{"export_id": "ex_1", "tenant": "t", "text": "café"}, *({"n": n} for n in range(12))], key=json.dumps
    )
    assert receive() == []


def test_a_delayed_message_is_not_received_before_its_delay(queue: UnderTest) -> None:
    port, receive, pending = queue
    assert port.send_many([{"n": 1}, {"n": 2}], delays=[0, 900]) == []
    assert [m for _receipt, m in receive()] == [{"n": 1}]
    assert pending() == 2


def test_a_deleted_message_is_gone_and_the_others_stay(queue: UnderTest) -> None:
    port, receive, pending = queue
    port.send_many([{"n": n} for n in range(13)])
    received = receive()
    port.delete_many([receipt for receipt, m in received if m["n"] != 7])  # more than one call's ten
    assert pending() == 1
