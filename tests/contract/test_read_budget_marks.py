"""A budgeted select (AuditQuery): it charges what it reads, marks where each page stopped, and resumes
from a mark exactly, the fake as DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.adapters.dynamodb import AuditShards, DynamoDBAuditTrail
from chalicelib.domain.ports import AuditTrail, ReadBudget
from tests.contract.support import dynamodb_tables
from tests.contract.test_audit_ports import MONDAY, chain
from tests.fakes import InMemoryAuditTrail

DAY_SHARDS = 3


@pytest.fixture(params=["memory", "dynamodb"])
def audit(request: pytest.FixtureRequest, aws_env: None) -> Iterator[AuditTrail]:
    if request.param == "memory":
        yield InMemoryAuditTrail()
        return
    with dynamodb_tables() as (settings, clients):
        yield DynamoDBAuditTrail(clients.dynamodb, settings.audit_table, AuditShards(day=DAY_SHARDS))


def read_all(audit: AuditTrail, by: str, value: str, **kwargs: Any) -> tuple[list[tuple[str, int]], int, int]:
    """Follow the marks with a fresh budget of 3 each time, as pages of a request would."""
    found: list[tuple[str, int]] = []
    start: dict[str, Any] | None = None
    requests, read = 0, 0
    while True:
        requests += 1
        budget, stopped = ReadBudget(3), None
        for key, event in audit.select(tenant="t", by=by, value=value, start_key=start, budget=budget, **kwargs):
            if not event:
                if budget.spent:
                    stopped = key
                    break
                continue
            found.append((event["debtor_id"], event["seq"]))
        read += budget.read
        if stopped is None:
            return found, requests, read
        start = stopped


@pytest.mark.parametrize("by", ["person", "day"])
def test_a_filter_matching_one_late_event_is_reached_through_the_marks(audit: AuditTrail, by: str) -> None:
    events = chain("d-1", MONDAY, *(["a-1"] * 11), "a-9")  # twelve events, the last one about a-9
    audit.append(events)
    value = "d-1" if by == "person" else MONDAY.date().isoformat()
    filters = {"account_key": "t#a-9"} if by == "person" else {"type": "sent"}
    found, requests, read = read_all(audit, by, value, filters=filters, page_size=200)
    wanted = [
        (e["debtor_id"], e["seq"])
        for e in events
        if (e.get("account_id") == "a-9" if by == "person" else e["type"] == "sent" and e["at"] < "2026-03-03")
    ]
    assert found == wanted and requests > 2
    # About each item once, and per request a first read of each of a day's partitions (an empty one costs one).
    assert read <= len(events) + (DAY_SHARDS + 1) * requests


def test_a_thin_budgeted_reading_gives_each_event_its_place(audit: AuditTrail) -> None:
    audit.append(chain("d-1", MONDAY, "a-1", "a-2", "a-3", "a-4"))
    budget = ReadBudget(100)
    pairs = list(audit.select(tenant="t", by="day", value=MONDAY.date().isoformat(), bodies=False, budget=budget))
    places = [key["at_key"] for key, event in pairs if event]
    assert len(places) == 4 and places == sorted(places) and budget.read >= 4
    assert all(place.startswith(MONDAY.date().isoformat()) for place in places)
