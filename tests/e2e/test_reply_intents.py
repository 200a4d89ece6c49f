"""./gateway sms-inbound reaches every intent end to end: SNS topic -> SQS -> the handler Lambda runs."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.domain.access import SHARED_SCOPE
from chalicelib.services import suppression
from tests.e2e.support import appended, gateway_command, new_debtor, rules, sms_body

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

NUMBER = "+14045550177"  # a number no other e2e test uses
REPLIES = {
    "I will pay on Friday": "unrecognised",
    "HELP": "help",
    "我已经还款了": "dispute",
    "This is not John": "wrong_party",
    "please stop texting me": "opt_out",
    "START": "opt_in",
}


def replies_on_chain(gateway: Any, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    """The address's inbound_sms events once ``count`` replies were handled and appended."""
    key, deadline = suppression.address_key(NUMBER), time.monotonic() + timeout
    while len(gateway.deps.ledgers.get(SHARED_SCOPE, key).replies_seen) < count:
        assert time.monotonic() < deadline, "the local stack did not handle the replies in time"
        time.sleep(0.2)
    return [e["data"] for e in appended(gateway, key, SHARED_SCOPE) if e["type"] == "inbound_sms"]


def publish(stack: Any, body: str) -> None:
    gateway_command(stack, "sms-inbound", "--from", NUMBER, "--to", "+18005550100", "--body", body)


def test_every_intent_is_reached_and_recorded_with_the_words_that_decided_it(api, stack, gateway):
    for body in REPLIES:
        publish(stack, body)
    found = {d["body"]: (d["reply"], d["matched"]) for d in replies_on_chain(gateway, len(REPLIES))}
    assert {body: reply for body, (reply, _matched) in found.items()} == REPLIES
    assert found["please stop texting me"][1] == "stop texting me"
    publish(stack, "CEASE and desist")  # last: no START after it
    assert replies_on_chain(gateway, len(REPLIES) + 1)[-1]["reply"] == "cease"
    decision = api.post("/v1/contacts/evaluate", json=sms_body(new_debtor(), NUMBER)).json()
    assert decision["outcome"] == "deny" and "us-federal/opt-out-and-prohibited-media" in rules(decision)
