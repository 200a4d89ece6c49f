"""The over-contact check replays stored contacts against the packs: it must find what a broken path would
have let through, and nothing in what the gateway did."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from chalicelib.domain.model import ContactRecord, Result
from chalicelib.services import inbound, invariants
from chalicelib.services.contacts import submit_contact
from tests.conftest import make_request, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


def _calls(gateway, count: int, debtor_id: str = "d-1"):
    return [
        submit_contact(
            make_request(debtor_id=debtor_id, channel="voice", message=None),
            gateway.deps,
            NOON_ATLANTA + timedelta(hours=i % 3, days=i // 3),
        )
        for i in range(count)
    ]


def test_what_the_gateway_permitted_breaks_no_rule(gateway):
    answers = _calls(gateway, 10)
    assert [a.status for a in answers].count("permitted") == 7  # Reg F: 7 calls in 7 days
    report = invariants.check_people("local", ["d-1"], gateway.deps)
    assert (report.people, report.contacts, report.violations) == (1, 7, [])
    ranged = invariants.check_range("local", utc(2026, 3, 2), utc(2026, 3, 6), gateway.deps, gateway.trail)
    assert (ranged.people, ranged.contacts, ranged.violations) == (1, 7, [])


def test_a_contact_that_got_past_the_cap_is_reported_with_its_rule(gateway):
    _calls(gateway, 7)
    ledger = gateway.deps.ledgers.get("local", "d-1")
    extra = submit_contact(make_request(debtor_id="d-1", channel="voice", message=None), gateway.deps, NOON_ATLANTA)
    assert extra.status == "refused"
    # As if a second writer had ignored the ledger's version: the refused call is stored as permitted.
    forged = ledger.with_record(
        ContactRecord(
            contact_id=extra.contact_id,
            at=NOON_ATLANTA + timedelta(days=2, minutes=1),
            channel="voice",
            account_id="acct-1",
            to="+14045550100",
            result=Result.PLACED,
        )
    )
    stored = gateway.deps.ledgers.get("local", "d-1")
    gateway.deps.ledgers.commit(replace(stored, history=forged.history, outbox=()), stored.version)
    events = gateway.deps.audit.for_contact("local", extra.contact_id)
    decided = next(e for e in events if e["type"] == "decided")
    decided["data"]["outcome"] = "allow"
    monkey = gateway.deps.audit
    original = monkey.for_person
    monkey.for_person = lambda t, d, **kw: [decided if e["seq"] == decided["seq"] else e for e in original(t, d, **kw)]
    try:
        report = invariants.check_people("local", ["d-1"], gateway.deps)
    finally:
        monkey.for_person = original
    [violation] = report.violations
    assert (violation.kind, violation.contact_id) == ("over-contact", extra.contact_id)
    assert "us-federal/call-frequency" in violation.rules


def test_a_message_after_an_opt_out_is_reported(gateway):
    sent = submit_contact(make_request(), gateway.deps, NOON_ATLANTA)
    assert sent.status == "sent"
    stop = '{"originationNumber": "+14045550100", "destinationNumber": "+1800", "messageBody": "STOP"}'
    inbound.handle_inbound_sms(
        inbound.parse_two_way_sms(stop), "_shared", gateway.deps, NOON_ATLANTA - timedelta(hours=1)
    )
    [violation] = invariants.check_people("local", ["d-1"], gateway.deps).violations
    assert (violation.kind, violation.contact_id) == ("after-opt-out", sent.contact_id)
    ranged = invariants.check_range("local", utc(2026, 3, 2), utc(2026, 3, 3), gateway.deps, gateway.trail)
    assert [(v.kind, v.contact_id) for v in ranged.violations] == [("after-opt-out", sent.contact_id)]
