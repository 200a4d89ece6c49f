"""A masked export line: what it hides, named by JSON pointer; its link recomputes from the content_hash it
carries; and whoever holds the hidden values can put them back and recompute the original's hash."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.audit import Draft, event_hash, line_hash, link, verify_chain
from chalicelib.domain.events import EventType
from chalicelib.domain.export_masking import masked_line

AT = datetime(2026, 3, 2, 17, tzinfo=UTC)


def chain() -> list[Any]:
    request = {"to": "+14045550100", "message": {"body": "Pay now", "subject": "Hi"}, "metadata": {"ref": "x"}}
    decided = {"outcome": "allow", "reasons": [{"rule": "r-1", "message": "Within allowed hours"}]}
    drafts = [
        Draft(EventType.REQUESTED, "c-1", request, "email", "a-1"),
        Draft(EventType.DECIDED, "c-1", decided, "email", "a-1"),
    ]
    return list(link(drafts, tenant="t", debtor_id="d-1", seq=0, head="0" * 64, at=AT))


def test_a_requested_event_hides_its_address_subject_and_body_and_keeps_their_length():
    line = masked_line(chain()[0])
    assert line["data"]["to"] == "+1404•••0100"
    assert line["data"]["message"] == {"body": "•••(7 chars)", "subject": "•••(2 chars)"}
    assert line["masked"] == ["/data/message/body", "/data/message/subject", "/data/to", "/nonce"]
    assert line["data"]["metadata"] == {"ref": "x"} and line["contact_id"] == "c-1"


def test_an_event_with_nothing_to_hide_is_shown_whole_and_rule_messages_are_kept():
    decided = chain()[1]
    assert masked_line(decided) == decided
    assert line_hash(decided) == decided["hash"]


def test_a_masked_line_links_through_its_content_hash_and_a_changed_one_does_not():
    event = chain()[0]
    line = masked_line(event)
    assert line_hash(line) == event["hash"] and event_hash(line) != event["hash"]
    assert line_hash({**line, "content_hash": "0" * 64}) != event["hash"]
    assert line_hash({**line, "at": "2026-03-02T18:00:00+00:00"}) != event["hash"]


def test_the_hidden_values_put_back_at_their_pointers_recompute_the_original():
    event = chain()[0]
    line = masked_line(event)
    restored = copy.deepcopy({k: v for k, v in line.items() if k not in ("masked", "content_hash")})
    hidden = (("/data/to", "+14045550100"), ("/data/message/body", "Pay now"), ("/nonce", event["nonce"]))
    for pointer, value in hidden:
        *parents, last = pointer.strip("/").split("/")
        target = restored
        for key in parents:
            target = target[key]
        target[last] = value
    restored["data"]["message"]["subject"] = "Hi"
    assert event_hash(restored) == event["hash"]


def test_the_live_trails_check_does_not_accept_a_row_that_claims_to_be_masked():
    """Only the bundle verifier, where the signature covers what is shown, links through content_hash."""
    first, second = chain()
    forged = {**masked_line(first), "data": {**masked_line(first)["data"], "to": "+1404•••9999"}}
    assert not verify_chain([forged, second]).ok
    assert verify_chain([first, second]).ok
