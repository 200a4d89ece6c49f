"""What the ledger table hands the stream appender, on the fake and on DynamoDB (moto): a redelivery and an
incident kept beside a ledger change nothing any reader of the ledger sees."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.adapters.dynamodb import DynamoDBLedger
from chalicelib.domain.audit import Draft
from chalicelib.domain.events import EventType
from chalicelib.domain.ledger import Ledger
from tests.contract.support import dynamodb_tables
from tests.fakes import InMemoryLedger
from tests.support import utc

NOW = utc(2026, 5, 4, 15, 0)


@pytest.fixture(params=["memory", "dynamodb"])
def ledgers(request, aws_env) -> Iterator[InMemoryLedger | DynamoDBLedger]:
    if request.param == "memory":
        yield InMemoryLedger()
        return
    with dynamodb_tables() as (settings, clients):
        yield DynamoDBLedger(clients.dynamodb, settings.ledger_table, InMemoryLedger.shards, handoff=True)


def committed(ledgers: InMemoryLedger | DynamoDBLedger) -> Ledger:
    ledger = ledgers.get("t", "p").append([Draft(EventType.DECIDED, "c-1", {"n": 1})], NOW)[0]
    ledgers.commit(ledger, 0)
    return ledgers.get("t", "p")


def test_a_redelivery_changes_nothing_the_ledger_holds(ledgers):
    stored = committed(ledgers)
    ledgers.redeliver(stored)
    ledgers.redeliver(stored)
    again = ledgers.get("t", "p")
    assert (again.version, again.seq, again.head, again.outbox) == (
        stored.version,
        stored.seq,
        stored.head,
        stored.outbox,
    )
    ledgers.commit(again.append([Draft(EventType.DECIDED, "c-2", {"n": 2})], NOW)[0], again.version)  # no conflict


def test_an_incident_beside_a_ledger_leaves_the_ledger_as_it_was(ledgers):
    stored = committed(ledgers)
    ledgers.record_incident("t", "p", NOW, {"reason": "storage unavailable"})
    ledgers.record_incident("t", "p", NOW, {"reason": "storage unavailable"})  # a second one is its own item
    assert ledgers.get("t", "p") == stored
    ledgers.record_incident("t", "q", NOW, {"reason": "no ledger yet"})
    assert ledgers.get("t", "q").version == 0
