"""The per-person hash chain: every change to a stored event is detected and located."""

from __future__ import annotations

import copy

from chalicelib.domain.audit import GENESIS, Draft, event_hash, link, verify_chain
from tests.conftest import utc


def _chain(count: int = 500) -> list[dict]:
    drafts = [Draft("decided" if i % 2 else "requested", f"c-{i // 2}", {"n": i, "text": "退订"}) for i in range(count)]
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
        [Draft("sent", "c-9", {})], tenant="t", debtor_id="d", seq=10, head=first[-1]["hash"], at=utc(2026, 5, 2)
    )
    assert verify_chain(first + more).ok
