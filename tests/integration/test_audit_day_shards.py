"""A day of the trail is spread over shards (``by_day``, tenant x day x shard): reading it merges every shard
in ``at_key`` order, and a cursor resumes across shards with nothing repeated or lost; events stored under
the day's key of before the sharding are still read."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from boto3.dynamodb.types import TypeSerializer

from chalicelib.adapters.dynamodb import BODY_BATCH, audit_item
from chalicelib.domain.events import AuditEvent
from chalicelib.domain.ledger import index_shard
from chalicelib.domain.policy import canonical_json
from chalicelib.services import audit_read
from chalicelib.services.contacts import submit_contact
from tests.support import make_request, utc

MORNING = utc(2026, 3, 12, 13, 0)  # 09:00 EDT
DAY = audit_read.EventQuery(start=utc(2026, 3, 12), end=utc(2026, 3, 13), limit=7)


def seed(gateway, people: int = 12) -> list[str]:
    debtors = [f"s-{i}" for i in range(people)]
    for i, debtor in enumerate(debtors):
        at = MORNING + timedelta(minutes=7 * ((i * 5) % people))  # committed in another order than their time
        submit_contact(make_request(debtor_id=debtor, to=f"+1404555{2000 + i:04d}"), gateway.deps, at)
    return debtors


def pages(gateway, query: audit_read.EventQuery) -> list[dict]:
    events, cursor = [], None
    while True:
        page = audit_read.events_page("local", query, gateway.deps, MORNING + timedelta(days=1), cursor)
        events += page["events"]
        cursor = page["cursor"]
        if cursor is None:
            return events


def test_a_day_reads_every_shard_in_order_and_resumes_across_them(gateway) -> None:
    debtors = seed(gateway)
    shards = {index_shard("local", d, gateway.settings.day_shards) for d in debtors}
    assert len(shards) > 1  # the day really is spread
    forward = pages(gateway, DAY)
    keys = [(e["at"], e["debtor_id"], e["seq"]) for e in forward]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert {e["debtor_id"] for e in forward} == set(debtors)
    backward = pages(gateway, audit_read.EventQuery(**{**DAY.__dict__, "descending": True}))
    assert [(e["at"], e["debtor_id"], e["seq"]) for e in backward] == keys[::-1]


def test_events_under_the_day_key_of_before_the_sharding_are_still_read(gateway) -> None:
    seed(gateway, 3)
    [event] = [e for e in gateway.deps.audit.for_person("local", "s-0") if e["type"] == "decided"]
    old = cast(AuditEvent, {**event, "debtor_id": "legacy", "seq": 1})
    item = audit_item(old)
    item["day_key"] = "local#2026-03-12"  # as written before the sharding
    ser = TypeSerializer()
    gateway.clients.dynamodb.put_item(
        TableName=gateway.settings.audit_table, Item={k: ser.serialize(v) for k, v in item.items()}
    )
    assert "legacy" in {e["debtor_id"] for e in pages(gateway, DAY)}


def test_a_page_reads_the_bodies_of_the_events_it_returns_not_of_every_shards_page(gateway) -> None:
    """The day index holds no body (docs/decisions/0016): a page of 7 reads its bodies by key, a batch at a
    time, and never the bodies of the other entries its shards' Queries returned."""
    seed(gateway, 40)
    reads: list[str] = []
    gateway.clients.dynamodb.meta.events.register("before-call.dynamodb.GetItem", lambda **_: reads.append("get"))
    page = audit_read.events_page("local", DAY, gateway.deps, MORNING + timedelta(days=1), None)
    assert len(page["events"]) == 7 and page["cursor"]
    assert len(reads) <= BODY_BATCH < 3 * 40


def test_events_stored_before_compression_and_runs_read_as_they_were(gateway) -> None:
    """Bodies as JSON text and ``contact_key`` on every event: how the table held them before."""
    seed(gateway, 1)
    events = gateway.deps.audit.for_person("local", "s-0")
    ser, table = TypeSerializer(), gateway.settings.audit_table
    for event in events:
        old = cast(AuditEvent, {**event, "debtor_id": "old"})
        item = {**audit_item(old, gateway.audit.shards), "body": canonical_json(old)}
        item["pk"] = "local#old"
        gateway.clients.dynamodb.put_item(TableName=table, Item={k: ser.serialize(v) for k, v in item.items()})
    contact_id = events[0]["contact_id"]
    found = [e for e in gateway.deps.audit.for_contact("local", contact_id) if e["debtor_id"] == "old"]
    assert [e["seq"] for e in found] == [e["seq"] for e in events]
    day = [e for e in pages(gateway, DAY) if e["debtor_id"] == "old"]
    assert [e["seq"] for e in day] == [e["seq"] for e in events]
