"""A whole chain removed from the audit table (and its ledger) leaves no event to verify: the day's
anchor, under Object Lock, still names it, and the range verification reports it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from chalicelib.services import audit_read, dispatch, maintenance
from chalicelib.services.contacts import submit_contact
from tests.support import make_request, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
LATER = NOON_ATLANTA + timedelta(days=2)


def test_a_chain_removed_with_its_ledger_is_reported_by_the_range_verification(gateway):
    for debtor in ("d-1", "d-2"):
        submit_contact(make_request(debtor_id=debtor), gateway.deps, NOON_ATLANTA)
    dispatch.sweep_audit(gateway.deps, LATER)
    assert maintenance.audit_pass(gateway.deps, ["local"], LATER)["anchored"]["local"] == ["2026-03-02"]
    day = (utc(2026, 3, 2), utc(2026, 3, 3))
    assert audit_read.verify_range("local", *day, gateway.deps)["ok"] is True

    dynamodb, settings = gateway.clients.dynamodb, gateway.settings
    for event in gateway.deps.audit.for_person("local", "d-2"):
        dynamodb.delete_item(
            TableName=settings.audit_table, Key={"pk": {"S": "local#d-2"}, "seq": {"N": str(event["seq"])}}
        )
    dynamodb.delete_item(TableName=settings.ledger_table, Key={"pk": {"S": "local#d-2"}})

    result = audit_read.verify_range("local", *day, gateway.deps)
    assert (result["ok"], result["chains"]) == (False, 1)  # d-1 still verifies; d-2 is gone from the index
    [vanished] = result["failures"]
    assert vanished["anchor"] == "2026-03-02" and "removed" in vanished["problem"]
    # Without anchors nothing would show: the trail and the ledger agree with each other.
    blind = replace(gateway.deps, anchors=None)
    assert audit_read.verify_range("local", *day, blind)["ok"] is True
