"""Helpers shared by the suite: the tenant, times, a contact request, a pack document and a settable clock.

Test modules import helpers from here (or from a package's helper module), never from another test
module or a conftest.py: fixtures are found by pytest, helpers are imported.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from chalicelib.domain.model import ContactRequest

TENANT = "local"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def make_request(**overrides: Any) -> ContactRequest:
    fields: dict[str, Any] = {
        "tenant": TENANT,
        "debtor_id": "d-1",
        "account_id": "a-1",
        "channel": "sms",
        "to": "+14045550100",
        "location": {"country": "US", "subdivision": "GA"},
        "message": {"body": "Your payment is overdue. Reply STOP to opt out."},
    }
    fields.update(overrides)
    return ContactRequest.model_validate(fields)


def pack_with(*rules: dict[str, Any], pack_id: str = "xx", countries: tuple[str, ...] = ("US",)) -> dict[str, Any]:
    """A minimal valid pack document holding ``rules`` (each gets citation and message if missing)."""
    return {
        "id": pack_id,
        "title": "test pack",
        "applies_to": {"countries": list(countries)},
        "retention_years": 1,
        "retention_source": {"citation": "test pack", "confidence": "unverified"},
        "sources": [{"citation": "test", "confidence": "high"}],
        "rules": [{"citation": "test", "message": "test rule", **rule} for rule in rules],
    }


class Clock:
    """A clock that answers ``now`` until a test sets it or moves it on with ``advance``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


NOON_ATLANTA = utc(2026, 3, 2, 17, 0)  # a Monday: texts to Atlanta go at once
LATER = NOON_ATLANTA + timedelta(days=2)


def audited_texts(gateway: Any, **fields: Any) -> None:
    """Three texts to ``make_request(**fields)``'s debtor, 20 hours apart from NOON_ATLANTA, every event
    appended and the day shards written by LATER."""
    from chalicelib.services import dispatch, maintenance
    from chalicelib.services.contacts import submit_contact

    for step in range(3):
        submit_contact(make_request(**fields), gateway.deps, NOON_ATLANTA + timedelta(hours=20 * step))
    dispatch.sweep_audit(gateway.deps, LATER)
    maintenance.audit_pass(gateway.audit_deps, ["local"], LATER)


# --- the 08:00 herd, dispatched over a queue ---------------------------------------------------------

# The 08:00 herd: texts asked for at night in Atlanta all fall due at 08:00.
NIGHT_ATLANTA = utc(2026, 3, 2, 11, 0)  # 06:00 EST: texts wait until 08:00
EIGHT_ATLANTA = utc(2026, 3, 2, 13, 0)
HERD = 120


class DelayQueue:
    """SQS as the dispatcher uses it: messages become visible after their delay, on the test's clock."""

    def __init__(self) -> None:
        self.messages: list[tuple[datetime, dict[str, Any]]] = []
        self.now = NIGHT_ATLANTA
        self.lock = threading.Lock()
        self.delays: list[int] = []

    def send_many(self, messages: list[dict[str, Any]], delays: list[int] | None = None) -> list[int]:
        with self.lock:
            for i, message in enumerate(messages):
                delay = delays[i] if delays else 0
                self.delays.append(delay)
                self.messages.append((self.now + timedelta(seconds=delay), message))
        return []

    def receive(self, now: datetime) -> list[tuple[datetime, dict[str, Any]]]:
        with self.lock:
            visible = [m for m in self.messages if m[0] <= now]
            self.messages = [m for m in self.messages if m[0] > now]
        return visible


def herd(deps: Any) -> list[str]:
    """HERD texts asked for at night in Atlanta, each scheduled for 08:00 (EIGHT_ATLANTA)."""
    from chalicelib.services.contacts import submit_contact

    debtors = [f"d-{i}" for i in range(HERD)]
    for debtor in debtors:
        result = submit_contact(
            make_request(debtor_id=debtor, to=f"+1404555{1000 + int(debtor[2:]):04d}"), deps, NIGHT_ATLANTA
        )
        assert result.status == "scheduled" and result.decision.not_before == EIGHT_ATLANTA
    return debtors


# --- batches ----------------------------------------------------------------------------------------


def batch_sms(debtor: str, **fields: Any) -> dict[str, Any]:
    """One request of a batch: a text to ``debtor`` in Atlanta."""
    return {
        "debtor_id": debtor,
        "account_id": f"a-{debtor}",
        "channel": "sms",
        "to": "+14045550100",
        "location": {"country": "US", "subdivision": "GA"},
        "message": {"body": "Your payment is overdue. Reply STOP to opt out."},
        **fields,
    }


def batch_queue(gateway: Any) -> tuple[str, str]:
    """The batch queue's URL and ARN."""
    sqs = gateway.clients.sqs
    url = sqs.get_queue_url(QueueName=gateway.settings.batch_queue)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def deliver(gateway: Any) -> tuple[list[dict[str, Any]], Exception | None]:
    """One SQS delivery (up to ten messages) through the batch worker, as Lambda would hand it over."""
    from chalicelib import batch_worker

    url, arn = batch_queue(gateway)
    messages = gateway.clients.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"]
    ).get("Messages", [])
    event = batch_worker.sqs_event(arn, "us-east-1", messages)
    try:
        batch_worker.handle_sqs(event, gateway.batch_deps, gateway.batch_queue, lambda: NOON_ATLANTA)
    except batch_worker.BatchIncompleteError as exc:
        return messages, exc
    gateway.batch_queue.delete_many([(m["MessageId"], m["ReceiptHandle"]) for m in messages])  # Lambda's own
    return messages, None


def waiting(gateway: Any) -> int:
    """Messages on the batch queue, visible or in flight."""
    url, _ = batch_queue(gateway)
    attributes = gateway.clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


# --- inbound SMS ------------------------------------------------------------------------------------

NUMBER = "+14045550100"


def two_way_sms(body: str, message_id: str) -> str:
    """An inbound SMS as AWS two-way SMS publishes it to the topic."""
    return json.dumps(
        {
            "originationNumber": NUMBER,
            "destinationNumber": "+18005550100",
            "messageBody": body,
            "inboundMessageId": message_id,
            "messageKeyword": "",
            "previousPublishedMessageId": "",
        }
    )


# --- the CLI against the app in-process ------------------------------------------------------------

CLI_URL = "http://gateway.test"


class ChaliceAdapter(requests.adapters.BaseAdapter):
    """Routes a ``requests`` session's calls to the Chalice app in-process: the CLI against the app."""

    def __init__(self, client: Any) -> None:
        super().__init__()
        self.client = client

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(str(request.url))
        body = request.body.encode() if isinstance(request.body, str) else request.body or b""
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        answer = self.client.http.request(str(request.method), path, headers=dict(request.headers), body=body)
        response = requests.Response()
        response.status_code, response.url, response.request = answer.status_code, str(request.url), request
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.body
        return response

    def close(self) -> None:
        pass
