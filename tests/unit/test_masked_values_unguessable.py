"""A masked export line cannot be unmasked by guessing: an event holding what masking hides carries a random
nonce inside its content hash, and the masked line hides the nonce with the rest. Before, three hidden digits
of a number were found by hashing a thousand guesses against ``content_hash``."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.audit import Draft, content_hash, event_hash, line_hash, link, verify_chain
from chalicelib.domain.events import EventType
from chalicelib.domain.export_masking import masked_line

AT = datetime(2026, 3, 2, 17, tzinfo=UTC)
NUMBER = "+14045550100"


def linked(*drafts: Draft, nonce: Any = None) -> list[Any]:
    extra = {"nonce": nonce} if nonce else {}
    return list(link(drafts, tenant="t", debtor_id="d-1", seq=0, head="0" * 64, at=AT, **extra))


def call() -> Draft:  # a call: an address and no text, the easiest to guess
    return Draft(EventType.REQUESTED, "c-1", {"to": NUMBER}, "voice", "a-1")


def guesses(line: dict[str, Any], nonce: str | None) -> list[str]:
    """The numbers among the thousand the mask leaves open whose content hashes to the line's."""
    found = []
    for n in range(1000):
        content = copy.deepcopy({k: line[k] for k in ("contact_id", "channel", "account_id", "data")})
        content["data"]["to"] = f"+1404{n:03d}0100"
        if nonce is not None:
            content["nonce"] = nonce
        if content_hash(content) == line["content_hash"]:
            found.append(content["data"]["to"])
    return found


def test_an_event_holding_an_address_or_a_text_gets_a_nonce_and_one_without_does_not() -> None:
    requested, decided = linked(call(), Draft(EventType.DECIDED, "c-1", {"outcome": "allow"}, "voice", "a-1"))
    assert len(requested["nonce"]) == 16 and "nonce" not in decided
    texted = linked(Draft(EventType.REQUESTED, "c-2", {"message": {"body": "Pay now"}}, "sms", "a-1"))[0]
    assert "nonce" in texted
    assert requested["nonce"] != linked(call())[0]["nonce"]  # drawn afresh for each event
    assert verify_chain([requested, decided]).ok


def test_the_masked_line_hides_the_nonce_and_still_links() -> None:
    event = linked(call())[0]
    line = masked_line(event)
    assert line["data"]["to"] == "+1404•••0100" and line["nonce"] == "•••"
    assert line["masked"] == ["/data/to", "/nonce"]
    assert event["nonce"] not in str(line)
    assert line_hash(line) == event["hash"]


def test_guessing_the_hidden_digits_finds_nothing_without_the_nonce() -> None:
    line = masked_line(linked(call())[0])
    assert guesses(line, None) == []


def test_with_the_nonce_the_holder_of_the_values_recomputes_it() -> None:
    event = linked(call(), nonce=lambda: "fixed-nonce-0001")[0]
    line = masked_line(event)
    assert guesses(line, "fixed-nonce-0001") == [NUMBER]  # the right values, and only them, recompute


def test_an_event_stored_before_nonces_still_verifies() -> None:
    event = linked(call())[0]
    older: Any = {k: v for k, v in event.items() if k not in ("nonce", "hash")}
    older["hash"] = event_hash(older)
    assert verify_chain([older]).ok
    assert line_hash(masked_line(older)) == older["hash"]
    assert masked_line(older)["masked"] == ["/data/to"]
