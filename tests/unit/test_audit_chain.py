"""The per-person hash chain: every change to a stored event is detected and located."""

from __future__ import annotations

import copy
from typing import Any, cast

import pytest

from chalicelib.domain.audit import GENESIS, Draft, event_hash, link, verify_chain
from chalicelib.domain.events import AuditEvent, EventType
from tests.support import utc


def _chain(count: int = 500) -> list[AuditEvent]:
    drafts = [
        Draft(EventType.DECIDED if i % 2 else EventType.REQUESTED, f"c-{i // 2}", {"n": i, "text": "退订"})
        for i in range(count)
    ]
    return link(drafts, tenant="t", debtor_id="d", seq=0, head=GENESIS, at=utc(2026, 5, 1, 12, 0))


def test_a_long_chain_verifies():
    events = _chain()
    check = verify_chain(events)
    assert check.ok and check.checked == 500
    assert events[0]["prev_hash"] == GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(events, events[1:], strict=False))


def test_a_modified_event_is_found():
    events = copy.deepcopy(_chain())
    events[250]["data"]["n"] = 9999
    check = verify_chain(events)
    assert (check.ok, check.broken_at) == (False, 251)
    assert "hash" in (check.problem or "")


def test_a_modified_event_with_a_recomputed_hash_breaks_the_next_link():
    events = copy.deepcopy(_chain())
    events[99]["data"]["n"] = -1
    events[99]["hash"] = event_hash(events[99])
    check = verify_chain(events)
    assert (check.ok, check.broken_at) == (False, 101)


def test_a_removed_event_is_found():
    events = _chain()
    del events[10]
    check = verify_chain(events)
    assert (check.ok, check.broken_at) == (False, 11)


def test_two_swapped_events_are_found():
    events = _chain()
    events[40], events[41] = events[41], events[40]
    check = verify_chain(events)
    assert (check.ok, check.broken_at) == (False, 41)


def test_linking_continues_an_existing_chain():
    first = _chain(10)
    more = link(
        [Draft(EventType.SENT, "c-9", {})],
        tenant="t",
        debtor_id="d",
        seq=10,
        head=first[-1]["hash"],
        at=utc(2026, 5, 2),
    )
    assert verify_chain(first + more).ok


FIELDS = {
    "tenant": "other-tenant",
    "debtor_id": "d-2",
    "type": "sent",
    "contact_id": "c-forged",
    "at": "2026-05-01T12:00:01+00:00",
    "data": {"n": -1},
}


@pytest.mark.parametrize("field", sorted(FIELDS))
@pytest.mark.parametrize("index", [0, 137, 499])
def test_a_change_to_any_field_of_any_event_names_that_event(field: str, index: int) -> None:
    events = copy.deepcopy(_chain())
    cast(dict[str, Any], events[index])[field] = FIELDS[field]  # any field, named at run time

    check = verify_chain(events)

    assert (check.ok, check.broken_at, check.checked) == (False, index + 1, index)


def test_removing_the_first_event_is_found_at_seq_1() -> None:
    events = _chain()[1:]

    check = verify_chain(events)

    assert (check.ok, check.broken_at) == (False, 1)


def test_two_distant_swapped_events_are_found_at_the_earlier_one() -> None:
    events = _chain()
    events[100], events[400] = events[400], events[100]

    check = verify_chain(events)

    assert (check.ok, check.broken_at) == (False, 101)


def test_a_renumbered_event_is_found() -> None:
    events = copy.deepcopy(_chain())
    events[300]["seq"] = 999

    check = verify_chain(events)

    assert (check.ok, check.broken_at) == (False, 301)
    assert "seq" in (check.problem or "")


def test_a_continued_chain_verifies_from_its_stored_head() -> None:
    first = _chain(500)
    more = link(
        [Draft(EventType.OUTCOME, f"c-{i}", {"i": i}) for i in range(20)],
        tenant="t",
        debtor_id="d",
        seq=500,
        head=first[-1]["hash"],
        at=utc(2026, 5, 2),
    )

    assert [e["seq"] for e in more] == list(range(501, 521))
    assert verify_chain(more, start_hash=first[-1]["hash"], start_seq=500).ok
    wrong_head = verify_chain(more, start_hash=first[-2]["hash"], start_seq=500)
    assert (wrong_head.ok, wrong_head.broken_at) == (False, 501)


def test_linking_in_batches_gives_the_same_chain_as_linking_at_once() -> None:
    drafts = [Draft(EventType.REQUESTED, f"c-{i}", {"i": i}) for i in range(10)]
    at = utc(2026, 5, 1, 12, 0)

    once = link(drafts, tenant="t", debtor_id="d", seq=0, head=GENESIS, at=at)
    head = link(drafts[:4], tenant="t", debtor_id="d", seq=0, head=GENESIS, at=at)
    tail = link(drafts[4:], tenant="t", debtor_id="d", seq=4, head=head[-1]["hash"], at=at)

    assert head + tail == once
