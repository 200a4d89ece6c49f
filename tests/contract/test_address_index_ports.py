"""The audit table's address index (``to_address``) and ``append_new``: one suite, run against the fake and
DynamoDB (moto), both keyed by the same HMAC key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from chalicelib.adapters.dynamodb import DynamoDBAuditTrail
from chalicelib.adapters.secrets import StaticAddressKeys
from chalicelib.domain import address_index
from chalicelib.domain.audit import Draft, link
from chalicelib.domain.events import AuditEvent, EventType
from chalicelib.domain.ports import AuditTrail
from tests.contract.support import dynamodb_tables
from tests.fakes import TEST_ADDRESS_KEY, InMemoryAuditTrail
from tests.support import utc

MONDAY = utc(2026, 3, 2, 15, 0)
NUMBER = "+14045550100"


@pytest.fixture(params=["memory", "dynamodb"])
def audit(request: pytest.FixtureRequest, aws_env: None) -> Iterator[AuditTrail]:
    if request.param == "memory":
        yield InMemoryAuditTrail()
        return
    with dynamodb_tables() as (settings, clients):
        keys = StaticAddressKeys(TEST_ADDRESS_KEY.decode())
        yield DynamoDBAuditTrail(clients.dynamodb, settings.audit_table, address_keys=keys)


def contact(debtor_id: str, at: datetime, to: str, tenant: str = "t", seq: int = 0) -> list[AuditEvent]:
    """A contact's run: requested (naming ``to``), decided, sent."""
    contact_id = f"ct_{debtor_id}_{int(at.timestamp())}"
    drafts = [
        Draft(EventType.REQUESTED, contact_id, {"to": to}, "sms", "a-1"),
        Draft(EventType.DECIDED, contact_id, {"outcome": "allow"}, "sms", "a-1"),
        Draft(EventType.SENT, contact_id, {}, "sms", "a-1"),
    ]
    return link(drafts, tenant=tenant, debtor_id=debtor_id, seq=seq, head="0" * 64, at=at)


def value(tenant: str, address: str) -> str:
    return f"{tenant}#{address_index.digest(TEST_ADDRESS_KEY, tenant, address_index.normalise(address))}"


def test_each_contact_to_an_address_has_one_entry_across_debtors_newest_first(audit: AuditTrail) -> None:
    first, second = contact("d-1", MONDAY, NUMBER), contact("d-2", MONDAY + timedelta(hours=1), "(404) 555-0100")
    assert audit.append_new(first) == first
    audit.append(second)
    audit.append(contact("d-3", MONDAY, "+14045550111"))
    audit.append(contact("d-1", MONDAY, NUMBER, tenant="other"))
    found = audit.to_address("t", [value("t", NUMBER)], after=None, descending=True, limit=10)
    assert [(e["debtor_id"], e["seq"], e["contact_id"]) for e in found] == [
        ("d-2", 1, second[0]["contact_id"]),
        ("d-1", 1, first[0]["contact_id"]),
    ]
    later = audit.to_address("t", [value("t", NUMBER)], after=found[0]["at_key"], descending=True, limit=10)
    assert [e["debtor_id"] for e in later] == ["d-1"]
    assert audit.to_address("t", [value("other", NUMBER)], after=None, descending=False, limit=10) == []


def test_append_new_returns_only_what_was_not_stored(audit: AuditTrail) -> None:
    events = contact("d-1", MONDAY, NUMBER)
    audit.append(events[:1])
    assert [e["seq"] for e in audit.append_new(events)] == [2, 3]
    assert audit.append_new(events) == []
