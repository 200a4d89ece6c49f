"""The dialer's side over HTTP (routes in-process, moto): a permit with ``valid_until``, a second call refused
while the first one's outcome is unknown, a late ``conversation`` that locks the debt, an outcome after the
permit lapsed flagged in the trail."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.support import Clock, utc

NOON_ATLANTA = utc(2026, 3, 16, 16, 2)  # Monday 12:02 EDT
CALL = {"debtor_id": "d-call", "account_id": "a-call", "channel": "voice", "to": "+14045550100"}
LOCKOUT = "us-federal/call-after-conversation"


@pytest.fixture
def clock(gateway: Any) -> Clock:
    now = Clock(NOON_ATLANTA)
    gateway.clock = now
    return now


def post(client: Any, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    response = client.http.post(path, headers={"Content-Type": "application/json"}, body=json.dumps(body))
    return response.status_code, json.loads(response.body)


def test_permit_permit_late_conversation(client, clock: Clock) -> None:
    status, first = post(client, "/v1/contacts", CALL)
    assert (status, first["status"], first["valid_until"]) == (200, "permitted", "2026-03-16T16:04:00Z")

    clock.now += timedelta(minutes=3)
    _, second = post(client, "/v1/contacts", CALL)
    assert second["status"] == "refused"
    [reason] = [r for r in second["decision"]["reasons"] if r["rule"] == LOCKOUT]
    assert "has no reported outcome" in reason["message"]

    clock.now += timedelta(minutes=5)
    status, _ = post(client, f"/v1/contacts/{first['contact_id']}/outcome", {"result": "conversation"})
    assert status == 200
    clock.now += timedelta(days=1)
    _, third = post(client, "/v1/contacts", CALL)
    assert third["status"] == "refused" and third["decision"]["not_before"] == "2026-03-23T12:00:00Z"


def test_an_outcome_after_the_permit_lapsed_is_flagged_on_the_contact(client, clock: Clock) -> None:
    _, permit = post(client, "/v1/contacts", CALL)
    clock.now += timedelta(minutes=10)
    late = {"result": "unanswered", "at": "2026-03-16T16:09:00Z"}
    status, _ = post(client, f"/v1/contacts/{permit['contact_id']}/outcome", late)
    assert status == 200
    events = json.loads(client.http.get(f"/v1/contacts/{permit['contact_id']}").body)["events"]
    [outcome] = [e for e in events if e["type"] == "outcome"]
    assert outcome["data"]["placed_without_valid_permit"] is True
