"""Retention: every event expires (DynamoDB TTL) no earlier than the person's last activity plus the
longest retention of the packs that applied; the daily pass moves ``expires_at`` later, never earlier,
and never touches what is hashed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib.adapters.dynamodb import body_text
from chalicelib.domain.errors import ConflictError
from chalicelib.services import audit_read, dispatch, maintenance
from chalicelib.services.contacts import submit_contact
from tests.support import make_request, utc

ROOT = Path(__file__).resolve().parents[2]
FIRST = utc(2026, 3, 2, 17)  # noon in Atlanta and Toronto
GA = {"location": {"country": "US", "subdivision": "GA"}, "to": "+14045550100"}
QC = {"location": {"country": "CA", "subdivision": "QC"}, "to": "+15145550100"}
ON = {"location": {"country": "CA", "subdivision": "ON"}, "to": "+14165550100"}
MA = {"location": {"country": "US", "subdivision": "MA"}, "to": "+16175550100"}


def pack_years() -> dict[str, int]:
    """Each pack's retention, read from the policy files themselves."""
    packs = (yaml.safe_load(path.read_text()) for path in sorted((ROOT / "policies").glob("*.yaml")))
    return {pack["id"]: int(pack["retention_years"]) for pack in packs}


def items(gateway: Any, debtor: str) -> list[dict[str, Any]]:
    """The stored items of a person's chain, with the attributes TTL and the retention pass read."""
    response = gateway.clients.dynamodb.query(
        TableName=gateway.settings.audit_table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": f"local#{debtor}"}},
        ConsistentRead=True,
    )
    return [
        {
            "seq": int(i["seq"]["N"]),
            "expires_at": int(i["expires_at"]["N"]),
            # the day, its shard after a '#'; none on a run's later events, listed by its first (the leader)
            "expiry_day": i["expiry_day"]["S"].split("#")[0] if "expiry_day" in i else None,
            "shard": i["expiry_day"]["S"].split("#")[1] if "expiry_day" in i else None,
            "leads": "contact_key" in i,
            "body": body_text(i["body"]),
        }
        for i in response["Items"]
    ]


def epoch(at: datetime) -> int:
    return int(at.timestamp())


def contact(gateway: Any, at: datetime, person: dict[str, Any], debtor: str = "d-1", **extra: Any) -> None:
    submit_contact(make_request(debtor_id=debtor, **person, **extra), gateway.deps, at)
    dispatch.sweep_audit(gateway.deps, at + timedelta(minutes=5))


@pytest.mark.parametrize(
    ("person", "packs", "days"),
    [
        pytest.param(GA, {"us-federal"}, 3 * 366, id="georgia-reg-f-3-years"),
        pytest.param(MA, {"us-federal", "us-ma"}, 3 * 366, id="massachusetts-3-years"),
        pytest.param(QC, {"ca-qc"}, 6 * 366, id="quebec-6-years"),
        pytest.param(ON, {"ca-on"}, 6 * 366, id="ontario-6-years"),
    ],
)
def test_every_event_expires_at_its_time_plus_the_longest_retention_of_its_packs(gateway, person, packs, days):
    assert days == 366 * max(pack_years()[p] for p in packs)  # the policy files say so
    for channel, hours in (("sms", 0), ("email", 1), ("voice", 30)):
        fields: dict[str, Any] = {"channel": channel}
        if channel == "email":
            fields["to"] = "jane.doe@example.com"
        if channel == "voice":
            fields["message"] = None
        contact(gateway, FIRST + timedelta(hours=hours), {**person, **fields})
    stored = items(gateway, "d-1")
    assert len(stored) >= 9
    decided = [json.loads(i["body"]) for i in stored if json.loads(i["body"])["type"] == "decided"]
    assert {p for event in decided for p in event["data"]["inputs"]["packs"]} == packs
    for item in stored:
        event = json.loads(item["body"])
        expires = datetime.fromisoformat(event["at"]) + timedelta(days=days)
        assert event["retention_days"] == days
        day = expires.astimezone(UTC).date().isoformat() if item["leads"] else None
        assert (item["expires_at"], item["expiry_day"]) == (epoch(expires), day)
    ttl = gateway.clients.dynamodb.describe_time_to_live(TableName=gateway.settings.audit_table)
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def early_and_late(gateway: Any, later: datetime, person: dict[str, Any] = GA) -> tuple[list[int], list[int]]:
    """A contact on FIRST and one on ``later``: the seqs of each one's events."""
    contact(gateway, FIRST, GA)
    early = [i["seq"] for i in items(gateway, "d-1")]
    contact(gateway, later, person)
    late = [i["seq"] for i in items(gateway, "d-1") if i["seq"] not in early]
    return early, late


def by_seq(gateway: Any) -> dict[int, dict[str, Any]]:
    return {i["seq"]: i for i in items(gateway, "d-1")}


def test_a_later_contact_keeps_earlier_events_until_the_persons_horizon(gateway):
    later = FIRST + timedelta(days=400, hours=1)
    early, late = early_and_late(gateway, later)
    before = by_seq(gateway)
    first_expiry = FIRST + timedelta(days=3 * 366)
    report = maintenance.audit_pass(gateway.deps, ["local"], first_expiry - timedelta(days=10))
    assert report["retention"]["extended"] == len(early)
    after = by_seq(gateway)
    horizon = later + timedelta(days=3 * 366)
    for seq in early:
        assert (after[seq]["expires_at"], after[seq]["expiry_day"]) == (epoch(horizon), horizon.date().isoformat())
    assert all(after[seq] == before[seq] for seq in late)  # already at the horizon
    assert all(after[seq]["body"] == before[seq]["body"] for seq in before)  # nothing hashed changed
    assert audit_read.verify("local", "d-1", gateway.deps)["ok"] is True
    again = maintenance.audit_pass(gateway.deps, ["local"], first_expiry - timedelta(days=9))
    assert again["retention"]["extended"] == 0 and by_seq(gateway) == after


def test_a_later_contact_under_a_longer_retention_extends_to_that_retention(gateway):
    """Georgia first (3 years); then Quebec's rules apply (6 years): the whole chain is kept 6 years."""
    later = FIRST + timedelta(days=30)
    early, late = early_and_late(gateway, later, QC)
    stored = by_seq(gateway)
    assert {json.loads(stored[s]["body"])["retention_days"] for s in late} == {6 * 366}
    first_expiry = FIRST + timedelta(days=3 * 366)
    maintenance.audit_pass(gateway.deps, ["local"], first_expiry - timedelta(days=20))
    after = by_seq(gateway)
    assert {after[seq]["expires_at"] for seq in early} == {epoch(later + timedelta(days=6 * 366))}


def test_events_past_their_ttl_but_not_yet_removed_are_still_extended(gateway):
    """DynamoDB removes expired items up to a couple of days late: a pass in that gap still saves them."""
    early, _ = early_and_late(gateway, FIRST + timedelta(days=200))
    first_expiry = FIRST + timedelta(days=3 * 366)
    report = maintenance.audit_pass(gateway.deps, ["local"], first_expiry + timedelta(days=1))
    assert report["retention"]["extended"] == len(early)


def test_events_far_from_expiry_are_left_for_a_later_pass(gateway):
    early, _ = early_and_late(gateway, FIRST + timedelta(days=200))
    before = by_seq(gateway)
    first_expiry = FIRST + timedelta(days=3 * 366)
    report = maintenance.audit_pass(gateway.deps, ["local"], first_expiry - timedelta(days=45))
    assert (report["retention"]["checked"], by_seq(gateway)) == (0, before)
    assert maintenance.audit_pass(gateway.deps, ["local"], first_expiry - timedelta(days=29))["retention"][
        "extended"
    ] == len(early)


def test_the_pass_never_moves_an_expiry_earlier(gateway):
    contact(gateway, FIRST, GA)
    before = by_seq(gateway)
    # A ledger whose last activity reads earlier than the events (restored from an old backup, say).
    gateway.clients.dynamodb.update_item(
        TableName=gateway.settings.ledger_table,
        Key={"pk": {"S": "local#d-1"}},
        UpdateExpression="SET last_event_at = :t",
        ExpressionAttributeValues={":t": {"S": (FIRST - timedelta(days=500)).isoformat()}},
    )
    first_expiry = FIRST + timedelta(days=3 * 366)
    report = maintenance.audit_pass(gateway.deps, ["local"], first_expiry - timedelta(days=5))
    leaders = sum(1 for item in before.values() if item["leads"])  # the index lists each run by its first
    assert report["retention"]["checked"] == leaders and report["retention"]["extended"] == 0
    assert by_seq(gateway) == before
    some = before[1]
    with pytest.raises(ConflictError):  # the write itself refuses an earlier expiry
        gateway.audit.extend_retention("local#d-1", some["seq"], some["expires_at"] - 86400)
    assert by_seq(gateway) == before


def test_only_expires_at_and_its_index_day_change(gateway):
    early, _ = early_and_late(gateway, FIRST + timedelta(days=100))
    key = {"pk": {"S": "local#d-1"}, "seq": {"N": str(early[0])}}
    table = gateway.settings.audit_table
    before = gateway.clients.dynamodb.get_item(TableName=table, Key=key)["Item"]
    maintenance.audit_pass(gateway.deps, ["local"], FIRST + timedelta(days=3 * 366 - 1))
    after = gateway.clients.dynamodb.get_item(TableName=table, Key=key)["Item"]
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert changed == {"expires_at", "expiry_day"}


def test_an_incident_near_its_expiry_is_extended_and_stops_nothing(gateway):
    """Incidents have no hash (they stand outside the chain) and share the expiry index with events: the pass
    extends them too, and one item it cannot handle never stops it for the others."""
    early, _ = early_and_late(gateway, FIRST + timedelta(days=100))
    gateway.audit.record_incident("local", "d-1", FIRST, {"reason": "storage unavailable"})
    first_expiry = FIRST + timedelta(days=3 * 366)
    report = maintenance.audit_pass(gateway.deps, ["local"], first_expiry - timedelta(days=10))
    assert report["retention"]["errors"] == 0
    assert report["retention"]["extended"] == len(early) + 1  # the incident too
    (incident,) = gateway.audit.incidents("local", "d-1")
    assert incident["data"] == {"reason": "storage unavailable"}


def test_a_tampered_event_is_not_extended(gateway):
    early, _ = early_and_late(gateway, FIRST + timedelta(days=100))
    table, seq = gateway.settings.audit_table, early[0]
    key = {"pk": {"S": "local#d-1"}, "seq": {"N": str(seq)}}
    stored = gateway.clients.dynamodb.get_item(TableName=table, Key=key)["Item"]
    real_get = gateway.clients.dynamodb.get_item

    def edited_between(**kwargs: Any) -> Any:  # the item changes after the pass read it
        answer = real_get(**kwargs)
        if kwargs.get("Key") == key:
            gateway.clients.dynamodb.put_item(TableName=table, Item={**stored, "body": {"S": "{}"}})
        return answer

    gateway.clients.dynamodb.get_item = edited_between
    try:
        with pytest.raises(ConflictError):
            gateway.audit.extend_retention("local#d-1", seq, int(stored["expires_at"]["N"]) + 86400)
    finally:
        gateway.clients.dynamodb.get_item = real_get
