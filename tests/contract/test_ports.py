"""One suite, run against the in-memory fakes and the DynamoDB adapters (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from chalicelib.adapters.dynamodb import DynamoDBAuditTrail, DynamoDBLedger
from chalicelib.domain.audit import Draft
from chalicelib.domain.errors import ConflictError
from chalicelib.domain.events import EventType
from chalicelib.domain.ledger import Deferred, Ledger, index_shard
from chalicelib.domain.model import ContactRecord
from chalicelib.domain.recipients import SentTo
from tests.contract.support import dynamodb_tables
from tests.fakes import InMemoryAuditTrail, InMemoryLedger
from tests.support import make_request, utc

NOW = utc(2026, 5, 4, 15, 0)


@pytest.fixture(params=["memory", "dynamodb"])
def stores(request, aws_env) -> Iterator[tuple[object, object]]:
    if request.param == "memory":
        yield InMemoryLedger(), InMemoryAuditTrail()
        return
    with dynamodb_tables() as (settings, clients):
        yield (
            DynamoDBLedger(clients.dynamodb, settings.ledger_table, InMemoryLedger.shards, handoff=True),
            DynamoDBAuditTrail(clients.dynamodb, settings.audit_table),
        )


def _with_event(ledger: Ledger, contact_id: str = "c-1") -> Ledger:
    record = ContactRecord(contact_id=contact_id, at=NOW, channel="voice", account_id="a-1", result="placed")
    return ledger.with_record(record).append([Draft(EventType.DECIDED, contact_id, {"n": 1})], NOW)[0]


def test_a_new_person_has_an_empty_ledger(stores):
    ledgers, _ = stores
    ledger = ledgers.get("t", "p")
    assert (ledger.version, ledger.seq, ledger.history, ledger.deferred) == (0, 0, (), ())


def test_commit_round_trips_and_bumps_the_version(stores):
    ledgers, _ = stores
    ledgers.commit(_with_event(ledgers.get("t", "p")), 0)
    stored = ledgers.get("t", "p")
    assert stored.version == 1 and stored.seq == 1
    assert stored.history[0].contact_id == "c-1"
    assert stored.outbox[0]["type"] == "decided"


def test_a_stale_version_conflicts(stores):
    ledgers, _ = stores
    base = ledgers.get("t", "p")
    ledgers.commit(_with_event(base, "c-1"), 0)
    with pytest.raises(ConflictError):
        ledgers.commit(_with_event(base, "c-2"), 0)
    assert [r.contact_id for r in ledgers.get("t", "p").history] == ["c-1"]


def test_due_lists_ledgers_with_deferred_contacts_due_by_now(stores):
    ledgers, _ = stores
    deferred = Deferred("c-9", make_request(debtor_id="p"), not_before=utc(2026, 5, 5, 12, 0))
    ledgers.commit(ledgers.get("t", "p").with_deferred(deferred), 0)
    assert ledgers.due(utc(2026, 5, 5, 11, 59), 10) == []
    assert ledgers.due(utc(2026, 5, 5, 12, 0), 10) == [("t", "p")]
    assert ledgers.get("t", "p").deferred[0].request.debtor_id == "p"


def test_due_people_are_spread_over_shards_and_merged_in_due_order(stores):
    ledgers, _ = stores
    people = [f"p{i}" for i in range(12)]
    for i, person in enumerate(people):
        at = utc(2026, 5, 5, 12, 0) + timedelta(minutes=11 - i)  # the last committed is due first
        ledgers.commit(
            ledgers.get("t", person).with_deferred(Deferred(f"c-{i}", make_request(debtor_id=person), at)), 0
        )
    until = utc(2026, 5, 5, 13, 0)
    by_shard = {k: ledgers.shard_due(k, until, 100) for k in range(ledgers.shards)}
    assert sum(1 for found in by_shard.values() if found) > 1  # not one key for everyone
    for shard, found in by_shard.items():
        assert [at for _t, _p, at in found] == sorted(at for _t, _p, at in found)
        assert all(index_shard("t", p, ledgers.shards) == shard for _t, p, _at in found)
    assert sorted(p for found in by_shard.values() for _t, p, _at in found) == sorted(people)
    assert ledgers.shard_due(None, until, 100) == []  # the key of before the sharding holds nobody new
    assert ledgers.due(until, 100) == [("t", p) for p in reversed(people)]  # every shard, merged by due time
    assert ledgers.due(until, 3) == [("t", p) for p in reversed(people)][:3]


def test_with_outbox_lists_ledgers_whose_events_may_be_unappended(stores):
    ledgers, _ = stores
    ledgers.commit(_with_event(ledgers.get("t", "p")), 0)
    assert ledgers.with_outbox(utc(2026, 5, 4, 14, 59), 10) == []
    assert ledgers.with_outbox(NOW, 10) == [("t", "p")]
    trimmed = ledgers.get("t", "p")
    ledgers.commit(trimmed.without_outbox(frozenset({1})), trimmed.version)
    assert ledgers.with_outbox(NOW, 10) == []


def test_audit_append_is_idempotent_and_queryable(stores):
    ledgers, audit = stores
    ledger = _with_event(ledgers.get("t", "p"))
    assert audit.append(list(ledger.outbox)) == 1
    assert audit.append(list(ledger.outbox)) == 0  # already there: not counted, not an error
    assert [e["seq"] for e in audit.for_person("t", "p")] == [1]
    assert audit.for_person("t", "p", after_seq=1) == []
    assert audit.for_contact("t", "c-1")[0]["hash"] == ledger.head
    assert audit.for_contact("other-tenant", "c-1") == []


def test_a_contacts_events_are_found_once_each_whatever_the_appends_stopped_at(stores):
    """Runs of a contact's events are indexed once (docs/decisions/0016): an append that stopped after the
    first event of its run, then the whole run again, leaves every event found, once."""
    ledgers, audit = stores
    ledger = ledgers.get("t", "p")
    for contact_id in ("c-1", "c-1", "c-2", "c-1", "c-1"):
        ledger = _with_event(ledger, contact_id)
    events = list(ledger.outbox)
    assert audit.append(events[:1]) == 1
    assert audit.append(events) == 4
    assert [e["seq"] for e in audit.for_contact("t", "c-1")] == [1, 2, 4, 5]
    assert [e["seq"] for e in audit.for_contact("t", "c-2")] == [3]
    assert [e["seq"] for e in audit.for_person("t", "p")] == [1, 2, 3, 4, 5]


def test_a_persons_events_come_oldest_first_and_stop_at_the_limit(stores):
    ledgers, audit = stores
    ledger = ledgers.get("t", "p")
    for n in range(7):
        ledger = _with_event(ledger, f"c-{n}")
    audit.append(list(ledger.outbox))
    assert [e["seq"] for e in audit.for_person("t", "p", after_seq=2, limit=3)] == [3, 4, 5]
    assert [e["seq"] for e in audit.for_person("t", "p", after_seq=5)] == [6, 7]


def test_get_many_reads_stored_and_new_ledgers_in_the_order_asked(stores):
    ledgers, _ = stores
    stored = _with_event(Ledger(tenant="t", debtor_id="d-2"))
    ledgers.commit(stored, 0)
    first, second = ledgers.get_many([("t", "d-1"), ("t", "d-2")])
    assert (first.debtor_id, first.version) == ("d-1", 0)
    assert (second.debtor_id, second.version, [r.contact_id for r in second.history]) == ("d-2", 1, ["c-1"])


def test_marking_all_events_appended_empties_the_outbox_without_a_new_version(stores):
    ledgers, _ = stores
    ledgers.commit(_with_event(ledgers.get("t", "p")), 0)
    ledgers.mark_appended(ledgers.get("t", "p"), 1)
    marked = ledgers.get("t", "p")
    assert (marked.version, marked.appended_seq, marked.outbox) == (1, 1, ())
    assert ledgers.with_outbox(NOW, 10) == []
    ledgers.commit(_with_event(marked, "c-2"), marked.version)  # the mark does not make a decision lose
    assert ledgers.get("t", "p").version == 2


def test_a_sends_reservation_is_always_on_the_dispatchers_index_or_the_sweeps(stores):
    """The commit may leave a reservation to the appender's mark (docs/decisions/0016): until the mark the
    person is on the sweep's index, after it on the dispatcher's, at the settle time and not before."""
    ledgers, _ = stores
    record = ContactRecord(contact_id="c-1", at=NOW, channel="sms", account_id="a-1", result="pending")
    ledger = ledgers.get("t", "p").with_record(record).append([Draft(EventType.DECIDED, "c-1", {"n": 1})], NOW)[0]
    ledgers.commit(ledger, 0)
    settle = NOW + timedelta(minutes=15)
    assert ("t", "p") in [*ledgers.due(settle, 10), *ledgers.with_outbox(NOW, 10)]
    ledgers.mark_appended(ledgers.get("t", "p"), 1)
    assert ledgers.with_outbox(NOW, 10) == [] and ledgers.due(settle, 10) == [("t", "p")]
    assert ledgers.due(settle - timedelta(seconds=1), 10) == []


def test_marking_older_events_keeps_newer_ones_for_the_next_commit_to_trim(stores):
    ledgers, _ = stores
    base = ledgers.get("t", "p")
    ledgers.commit(_with_event(_with_event(base, "c-1"), "c-2"), 0)
    ledgers.mark_appended(ledgers.get("t", "p"), 1)
    ledgers.mark_appended(ledgers.get("t", "p"), 0)  # a late, older mark does not move it back
    marked = ledgers.get("t", "p")
    assert marked.appended_seq == 1 and [e["seq"] for e in marked.outbox] == [1, 2]
    assert [e["seq"] for e in marked.trimmed().outbox] == [2]
    assert ledgers.with_outbox(NOW, 10) == [("t", "p")]
    ledgers.mark_appended(Ledger(tenant="nobody", debtor_id="p"), 1)  # no ledger, nothing created
    assert ledgers.get("nobody", "p").version == 0


def test_an_address_ledger_keeps_whom_it_was_texted_about_and_the_replies_it_handled(stores):
    ledgers, _ = stores
    sent = SentTo("t", "d-1", "ct_1", "a-1", NOW, third_party=True)
    ledgers.commit(Ledger(tenant="t", debtor_id="@addr:x", recent_contacts=(sent,), replies_seen=("m-1",)), 0)
    stored = ledgers.get("t", "@addr:x")
    assert (stored.recent_contacts, stored.replies_seen) == ((sent,), ("m-1",))
