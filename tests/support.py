"""Helpers shared by the suite: the tenant, times, a contact request, a pack document and a settable clock.

Test modules import helpers from here (or from a package's helper module), never from another test
module or a conftest.py: fixtures are found by pytest, helpers are imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from bench.support import make_request
from chalicelib import resources
from chalicelib.services import consent
from chalicelib.services.contacts import submit_contact
from chalicelib.services.unit_of_work import UnitOfWork

TENANT = "local"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


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
    maintenance.audit_pass(gateway.deps, ["local"], LATER)


# --- the 08:00 herd, dispatched over a queue ---------------------------------------------------------

# The 08:00 herd: texts asked for at night in Atlanta all fall due at 08:00.
NIGHT_ATLANTA = utc(2026, 3, 2, 11, 0)  # 06:00 EST: texts wait until 08:00
EIGHT_ATLANTA = utc(2026, 3, 2, 13, 0)
HERD = 120


def herd(deps: UnitOfWork) -> list[str]:
    """HERD texts asked for at night in Atlanta, each scheduled for 08:00 (EIGHT_ATLANTA)."""
    from chalicelib.services.contacts import submit_contact

    debtors = [f"d-{i}" for i in range(HERD)]
    for debtor in debtors:
        result = submit_contact(
            make_request(debtor_id=debtor, to=f"+1404555{1000 + int(debtor[2:]):04d}"), deps, NIGHT_ATLANTA
        )
        assert result.status == "scheduled" and result.decision.not_before == EIGHT_ATLANTA
    return debtors


# A collection agency is a debt collector: its first text to a US debtor discloses it (12 CFR 1006.18(e)).
COLLECTOR_MESSAGE = {
    "body": "Your payment is overdue. This is an attempt to collect a debt by a debt collector; any "
    "information obtained will be used for that purpose. Reply STOP to opt out."
}


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
    from chalicelib.entrypoints import batch_worker

    url, arn = batch_queue(gateway)
    messages = gateway.clients.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"]
    ).get("Messages", [])
    event = batch_worker.sqs_event(arn, "us-east-1", messages)
    try:
        batch_worker.handle_sqs(event, gateway.deps, gateway.batch_queue, lambda: NOON_ATLANTA)
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


# --- an audit trail to query: two debtors over one week, and the oracle its listings are checked against ---

MONDAY = utc(2026, 3, 2)  # Atlanta is at UTC-5 this week: 17:00 UTC is noon there
NOW = utc(2026, 3, 12, 12)
STATUS_TYPES = {"sent", "failed", "unknown", "scheduled", "blocked", "permitted", "refused"}
PHONES = {"d-1": "+14045550100", "d-2": "+14045550111"}
# (hours after Monday 00:00 UTC, debtor, account, channel, on_blocked)
CONTACTS = [
    (17, "d-1", "a-1", "sms", "defer"),  # noon in Atlanta: sent
    (18, "d-1", "a-2", "email", "defer"),
    (19, "d-2", "a-1", "sms", "defer"),
    (24 + 3, "d-2", "a-1", "email", "defer"),  # 22:00 in Atlanta: scheduled for the morning
    (24 + 16, "d-1", "a-1", "voice", "defer"),  # permitted
    (48 + 4, "d-1", "a-2", "sms", "reject"),  # 23:00 in Atlanta: blocked
    (48 + 17, "d-2", "a-3", "voice", "defer"),
    (72 + 17, "d-1", "a-1", "sms", "defer"),
    (96 + 2, "d-1", "a-1", "voice", "defer"),  # 21:00 in Atlanta: refused
    (96 + 18, "d-2", "a-1", "sms", "defer"),
]


def contact(gateway: Any, hours: float, debtor: str, account: str, channel: str, on_blocked: str = "defer") -> None:
    fields: dict[str, Any] = {"debtor_id": debtor, "account_id": account, "channel": channel, "on_blocked": on_blocked}
    if channel == "email":
        fields["to"] = f"{debtor}@example.com"
    else:
        fields["to"] = PHONES[debtor]
    if channel == "voice":
        fields["message"] = None
    submit_contact(make_request(**fields), gateway.deps, MONDAY + timedelta(hours=hours))


def stored(gateway: Any) -> list[dict[str, Any]]:
    """Every event, read the plain way, in the order a query by time answers: UTC time, debtor, seq."""
    events = [e for d in PHONES for e in gateway.audit.for_person("local", d)]
    return sorted(events, key=order_key)


def order_key(event: dict[str, Any]) -> tuple[datetime, str, int]:
    return datetime.fromisoformat(event["at"]).astimezone(UTC), event["debtor_id"], event["seq"]


def build_trail(gateway: Any) -> list[dict[str, Any]]:
    for row in CONTACTS:  # in time order: a person's seq and time grow together
        if row[0] == 72 + 17:
            at = MONDAY + timedelta(hours=72 + 10)
            consent.change_preferences("local", "d-1", gateway.deps, at, {}, actor="officer-7", reason="reviewed")
        contact(gateway, *row)
    events = stored(gateway)
    assert len({e["type"] for e in events}) >= 6 and len(events) >= 30  # a mixed trail, or the tests prove little
    return events


def outcome_of(event: dict[str, Any]) -> str | None:
    if event["type"] == "decided":
        return str(event["data"]["outcome"])
    return event["type"] if event["type"] in STATUS_TYPES else None


def select(events: list[dict[str, Any]], **wanted: Any) -> list[dict[str, Any]]:
    """The oracle: the filters applied to every event in Python."""
    checks: dict[str, Callable[[dict[str, Any]], Any]] = {
        "debtor_id": lambda e: e["debtor_id"],
        "account_id": lambda e: e.get("account_id"),
        "channel": lambda e: e.get("channel"),
        "outcome": outcome_of,
        "type": lambda e: e["type"],
    }
    start, end = wanted.pop("start", None), wanted.pop("end", None)

    def keep(event: dict[str, Any]) -> bool:
        at = datetime.fromisoformat(event["at"])
        in_range = (start is None or at >= start) and (end is None or at < end)
        return in_range and all(checks[name](event) == value for name, value in wanted.items())

    return [e for e in events if keep(e)]


def ids(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(e["debtor_id"], e["seq"]) for e in events]


def events_url(**params: Any) -> str:
    return "/v1/audit/events?" + urlencode({k: v for k, v in params.items() if v is not None})


def get_events(client: Any, **params: Any) -> dict[str, Any]:
    response = client.http.get(events_url(**params))
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def every_page(client: Any, on_page: Callable[[int], None] = lambda n: None, **params: Any) -> list[tuple]:
    seen: list[tuple[str, int]] = []
    cursor, pages = None, 0
    while True:
        page = get_events(client, **params, cursor=cursor)
        assert len(page["events"]) <= params.get("limit", 100)
        seen += ids(page["events"])
        pages += 1
        on_page(pages)
        cursor = page["cursor"]
        if cursor is None:
            return seen
        assert page["events"], "a cursor after an empty page"


WEEK = {"start": MONDAY, "end": MONDAY + timedelta(days=7)}
WEEK_PARAMS: dict[str, Any] = {"from": "2026-03-02", "to": "2026-03-08"}
LISTINGS = [
    pytest.param({"debtor_id": "d-1"}, {"debtor_id": "d-1"}, id="person"),
    pytest.param({"account_id": "a-1"}, {"account_id": "a-1"}, id="debt-index"),
    pytest.param(WEEK_PARAMS, WEEK, id="day-index"),
    pytest.param({"channel": "sms", **WEEK_PARAMS}, {"channel": "sms", **WEEK}, id="day-index-filtered"),
    pytest.param(
        {"debtor_id": "d-2", "type": "decided"}, {"debtor_id": "d-2", "type": "decided"}, id="person-filtered"
    ),
]


def unsubscribable_email(debtor: str = "d-1") -> Any:
    """An email to one address; every email carries the one-click unsubscribe link."""
    return make_request(
        debtor_id=debtor,
        channel="email",
        to="debtor@example.com",
        message={"subject": "Reminder", "body": "Payment due. Unsubscribe with the link below."},
    )


def post_export(client: Any, body: Any) -> Any:
    return client.http.post("/v1/exports", headers={"Content-Type": "application/json"}, body=json.dumps(body))


def queued_exports(gateway: Any) -> list[str]:
    """Take every message off the export queue, as the SQS trigger would."""
    sqs = gateway.clients.sqs
    url = sqs.get_queue_url(QueueName=resources.EXPORT_QUEUE)["QueueUrl"]
    bodies = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def run_export_worker(client: Any, bodies: list[str]) -> None:
    """The Lambda function bound to the export queue, invoked with an SQS event, one message at a time."""
    for body in bodies:
        event = client.events.generate_sqs_event(queue_name=resources.EXPORT_QUEUE, message_bodies=[body])
        client.lambda_.invoke("export_worker", event)
