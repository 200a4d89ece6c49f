"""The audit table's read side and retention (AuditQuery, AuditRetention): one suite, run against the fake
and DynamoDB (moto). Appends and a person's history are in test_ports.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.adapters.dynamodb import DynamoDBAuditTrail, utc_key
from chalicelib.domain.audit import Draft, link
from chalicelib.domain.errors import ConflictError
from chalicelib.domain.events import AuditEvent, EventType
from chalicelib.domain.ports import AuditTrail
from tests.contract.support import dynamodb_tables
from tests.fakes import InMemoryAuditTrail
from tests.support import utc

MONDAY = utc(2026, 3, 2, 15, 0)


@pytest.fixture(params=["memory", "dynamodb"])
def audit(request: pytest.FixtureRequest, aws_env: None) -> Iterator[AuditTrail]:
    if request.param == "memory":
        yield InMemoryAuditTrail()
        return
    with dynamodb_tables() as (settings, clients):
        yield DynamoDBAuditTrail(clients.dynamodb, settings.audit_table)


def chain(debtor_id: str, at: datetime, *accounts: str, tenant: str = "t") -> list[AuditEvent]:
    """One event per account, an hour apart: a decision allowed, then a contact sent, in turn."""
    events: list[AuditEvent] = []
    for n, account in enumerate(accounts):
        data = {"outcome": "allow"} if n % 2 == 0 else {}
        draft = Draft(EventType.DECIDED if n % 2 == 0 else EventType.SENT, f"c-{debtor_id}-{n}", data, "sms", account)
        head = events[-1]["hash"] if events else "0" * 64
        linked = link([draft], tenant=tenant, debtor_id=debtor_id, seq=n, head=head, at=at + timedelta(hours=n))
        events += linked
    return events


def seqs(pairs: Iterator[tuple[dict[str, Any], dict[str, Any]]]) -> list[tuple[str, int]]:
    return [(event["debtor_id"], event["seq"]) for _key, event in pairs]


def test_a_day_is_read_across_people_in_time_order_either_way(audit: AuditTrail) -> None:
    audit.append(chain("d-1", MONDAY, "a-1", "a-2"))
    audit.append(chain("d-2", MONDAY + timedelta(minutes=30), "a-1"))
    audit.append(chain("d-3", MONDAY + timedelta(days=1), "a-1"))
    audit.append(chain("d-4", MONDAY, "a-1", tenant="other"))
    day = seqs(audit.select(tenant="t", by="day", value="2026-03-02"))
    assert day == [("d-1", 1), ("d-2", 1), ("d-1", 2)]
    assert seqs(audit.select(tenant="t", by="day", value="2026-03-02", forward=False)) == day[::-1]
    thin = [event for _key, event in audit.select(tenant="t", by="day", value="2026-03-02", bodies=False)]
    assert thin == [{"debtor_id": d, "seq": s} for d, s in day]


def test_a_reading_resumes_after_the_key_of_its_last_event(audit: AuditTrail) -> None:
    audit.append(chain("d-1", MONDAY, "a-1", "a-1", "a-1", "a-1"))
    for by, value in (("day", "2026-03-02"), ("person", "d-1"), ("account", "a-1")):
        first = list(audit.select(tenant="t", by=by, value=value, page_size=2))[:2]
        rest = seqs(audit.select(tenant="t", by=by, value=value, start_key=first[-1][0]))
        assert rest == [("d-1", 3), ("d-1", 4)], by


def test_a_range_and_filters_narrow_a_reading(audit: AuditTrail) -> None:
    audit.append(chain("d-1", MONDAY, "a-1", "a-2", "a-1"))
    low, high = utc_key(MONDAY + timedelta(minutes=30)), utc_key(MONDAY + timedelta(hours=3)) + "~"
    assert seqs(audit.select(tenant="t", by="day", value="2026-03-02", at_range=(low, high))) == [
        ("d-1", 2),
        ("d-1", 3),
    ]
    assert seqs(audit.select(tenant="t", by="person", value="d-1", at_range=(low, high))) == [("d-1", 2), ("d-1", 3)]
    allowed = audit.select(tenant="t", by="day", value="2026-03-02", filters={"outcome": "allow"})
    assert seqs(allowed) == [("d-1", 1), ("d-1", 3)]
    assert seqs(audit.select(tenant="t", by="account", value="a-2")) == [("d-1", 2)]
    sent = audit.select(tenant="t", by="person", value="d-1", filters={"type": "sent", "account_key": "t#a-2"})
    assert seqs(sent) == [("d-1", 2)]


def test_a_segment_and_events_by_key_read_one_chain(audit: AuditTrail) -> None:
    events = chain("d-1", MONDAY, "a-1", "a-1", "a-1", "a-1")
    audit.append(events)
    assert list(audit.segment("t", "d-1", 2, 3)) == events[1:3]
    assert audit.by_keys("t", [("d-1", 4), ("d-1", 1), ("d-1", 9)]) == [events[3], events[0]]  # the order asked
    assert audit.by_keys("other", [("d-1", 1)]) == []


def test_events_expire_by_day_and_only_a_later_retention_extends_them(audit: AuditTrail) -> None:
    (event,) = chain("d-1", MONDAY, "a-1")
    audit.append([{**event, "retention_days": 10}])
    day = (MONDAY + timedelta(days=10)).date()
    (item,) = list(audit.expiring(day))
    assert (item["pk"], int(item["seq"]), item["tenant"], item["debtor_id"]) == ("t#d-1", 1, "t", "d-1")
    later = int(item["expires_at"]) + 86400
    audit.extend_retention("t#d-1", 1, later)
    assert list(audit.expiring(day)) == []
    assert [int(i["expires_at"]) for i in audit.expiring(day + timedelta(days=1))] == [later]
    with pytest.raises(ConflictError):
        audit.extend_retention("t#d-1", 1, later - 3600)  # never moved earlier
    with pytest.raises(ConflictError):
        audit.extend_retention("t#d-9", 1, later)  # nothing there


def test_an_incident_is_kept_outside_the_chain(audit: AuditTrail) -> None:
    audit.append(chain("d-1", MONDAY, "a-1"))
    audit.record_incident("t", "d-1", MONDAY, {"reason": "storage unavailable"})
    assert [e["seq"] for e in audit.for_person("t", "d-1")] == [1]
    assert seqs(audit.select(tenant="t", by="day", value="2026-03-02")) == [("d-1", 1)]
