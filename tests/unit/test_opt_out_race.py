"""An opt-out that lands while a decision is being committed: where the line falls, stated as a test.

The decision reads the address's opt-outs strongly consistently, in the same BatchGetItem as the person's
ledger, and nothing reads them again before the send (docs/decisions/0010). So an opt-out recorded after
that read and before the send is honoured from the next contact on; one recorded before the read blocks.
"""

from __future__ import annotations

import json

from chalicelib.domain.ledger import Ledger
from chalicelib.services import inbound
from chalicelib.services.contacts import submit_contact
from tests.fakes import InMemoryLedger
from tests.support import make_request, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
STOP = json.dumps({"originationNumber": "+14045550100", "destinationNumber": "+1800", "messageBody": "STOP"})


class OptOutAfterFirstCommit(InMemoryLedger):
    def __init__(self) -> None:
        super().__init__()
        self.deps = None
        self.fired = False

    def commit(self, ledger: Ledger, expected_version: int) -> None:
        super().commit(ledger, expected_version)
        if not self.fired and ledger.debtor_id == "d-1" and self.deps is not None:
            self.fired = True  # the person texts STOP right after the decision was committed
            inbound.handle_inbound_sms(inbound.parse_two_way_sms(STOP), "local", self.deps, NOON_ATLANTA)


def test_an_opt_out_recorded_during_the_commit_binds_from_the_next_contact(deps):
    ledgers = OptOutAfterFirstCommit()
    deps.ledgers = ledgers
    ledgers.deps = deps
    first = submit_contact(make_request(), deps, NOON_ATLANTA)
    assert first.status == "sent"  # decided on what was recorded when it read
    second = submit_contact(make_request(), deps, NOON_ATLANTA)
    assert second.status == "blocked"
    assert "us-federal/opt-out-and-prohibited-media" in [r.rule for r in second.decision.reasons]
    bodies = [m["body"] for m in deps.sms.sent]
    assert bodies.count(inbound.CONFIRMATION) == 1 and len(bodies) == 2  # the first contact and the confirmation


def test_an_opt_out_recorded_before_the_read_blocks(deps):
    inbound.handle_inbound_sms(inbound.parse_two_way_sms(STOP), "local", deps, NOON_ATLANTA)
    result = submit_contact(make_request(), deps, NOON_ATLANTA)
    assert result.status == "blocked"
    assert [m["body"] for m in deps.sms.sent] == [inbound.CONFIRMATION]
