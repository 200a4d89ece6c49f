"""An opt-out that lands between a committed decision and its send still stops the send."""

from __future__ import annotations

import json

from chalicelib.domain.ledger import Ledger
from chalicelib.services import inbound
from chalicelib.services.contacts import submit_contact
from tests.conftest import make_request, utc
from tests.fakes import InMemoryLedger

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


class OptOutAfterFirstCommit(InMemoryLedger):
    def __init__(self) -> None:
        super().__init__()
        self.deps = None
        self.fired = False

    def commit(self, ledger: Ledger, expected_version: int) -> None:
        super().commit(ledger, expected_version)
        if not self.fired and ledger.debtor_id == "d-1" and self.deps is not None:
            self.fired = True  # the person texts STOP right after the decision was committed
            text = json.dumps(
                {"originationNumber": "+14045550100", "destinationNumber": "+1800", "messageBody": "STOP"}
            )
            inbound.handle_inbound_sms(inbound.parse_two_way_sms(text), "local", self.deps, NOON_ATLANTA)


def test_no_send_after_the_opt_out_is_recorded(deps):
    ledgers = OptOutAfterFirstCommit()
    deps.ledgers = ledgers
    ledgers.deps = deps
    result = submit_contact(make_request(), deps, NOON_ATLANTA)
    assert result.status == "blocked"
    assert [m["body"] for m in deps.sms.sent] == [inbound.CONFIRMATION]  # only the exempt confirmation
    assert deps.ledgers.get("local", "d-1").record(result.contact_id).result == "failed"  # not counted
