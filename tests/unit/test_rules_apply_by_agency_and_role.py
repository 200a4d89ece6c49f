"""Which rules apply is decided once per kind of request; an agency's request and a creditor's own, or a
debtor's and a third party's, are different kinds: an agency-only rule (a debt collector's disclosure) must
not follow from one to the other, whichever came first."""

from __future__ import annotations

from bench.support import make_request
from chalicelib.domain import engine
from tests.support import utc

NOON_ATLANTA = utc(2026, 2, 2, 17)
BARE = {"body": "Your payment is overdue. Reply STOP to opt out."}  # no debt collector's disclosure


def rules(decision: engine.Decision) -> set[str]:
    return {r.rule for r in decision.reasons}


def test_an_agency_request_after_a_creditors_own_is_held_to_the_agency_disclosure(policies):
    creditor = engine.evaluate(make_request(debtor_id="p-1", message=BARE), [], policies, NOON_ATLANTA)
    agency = engine.evaluate(make_request(debtor_id="p-2", agency="ag-9", message=BARE), [], policies, NOON_ATLANTA)
    assert "us-federal/debt-collector-disclosure" not in rules(creditor)
    assert "us-federal/debt-collector-disclosure" in rules(agency)


def test_a_creditors_own_request_after_an_agencys_is_not_held_to_it(policies):
    agency = engine.evaluate(make_request(debtor_id="p-3", agency="ag-8", message=BARE), [], policies, NOON_ATLANTA)
    creditor = engine.evaluate(make_request(debtor_id="p-4", message=BARE), [], policies, NOON_ATLANTA)
    assert "us-federal/debt-collector-disclosure" in rules(agency)
    assert "us-federal/debt-collector-disclosure" not in rules(creditor)
