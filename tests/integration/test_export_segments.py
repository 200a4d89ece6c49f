"""Short chains are read by key (GetItem: the audit table allows nothing else by key); long ones by Query.
Either way each chain comes whole, in order, once; a missing event leaves a gap that verification sees."""

from __future__ import annotations

from chalicelib.domain.audit import Draft, link, verify_chain
from chalicelib.domain.events import EventType
from chalicelib.services import export_bundle
from tests.integration.aws import count_calls
from tests.support import utc

AT = utc(2026, 3, 2, 9, 0)
LENGTHS = {"d-a": 1, "d-b": 3, "d-c": 40, "d-d": 24, "d-e": 25, "d-f": 60, "d-g": 2}


def _store(gateway) -> None:
    for debtor, length in LENGTHS.items():
        drafts = [Draft(EventType.DECIDED, f"c-{debtor}-{n}", {"n": n}, "sms", "acct-1") for n in range(length)]
        gateway.audit.append(link(drafts, tenant="local", debtor_id=debtor, seq=0, head="0" * 64, at=AT))


def test_every_chain_comes_whole_in_order_with_few_calls(gateway):
    _store(gateway)
    chains = {d: [1, n] for d, n in LENGTHS.items()}
    calls = count_calls(gateway.clients.dynamodb)
    events = list(export_bundle.segments("local", chains, gateway.audit))
    assert [(e["debtor_id"], e["seq"]) for e in events] == [
        (d, s) for d in sorted(LENGTHS) for s in range(1, LENGTHS[d] + 1)
    ]
    for debtor in LENGTHS:
        assert verify_chain([e for e in events if e["debtor_id"] == debtor]).ok
    # in debtor order: d-a and d-b by key; d-c by Query; d-d and d-e by key; d-f by Query; d-g by key.
    # No BatchGetItem: the audit table's roles may Put, Get and Query only (tests/package).
    assert calls == ["GetItem"] * 4 + ["Query"] + ["GetItem"] * 49 + ["Query"] + ["GetItem"] * 2


def test_a_missing_event_is_a_gap_not_a_silent_reorder(gateway):
    _store(gateway)
    gateway.clients.dynamodb.delete_item(
        TableName=gateway.settings.audit_table, Key={"pk": {"S": "local#d-b"}, "seq": {"N": "2"}}
    )
    events = list(export_bundle.segments("local", {"d-b": [1, 3]}, gateway.audit))
    assert [e["seq"] for e in events] == [1, 3]
    assert not verify_chain(events).ok
