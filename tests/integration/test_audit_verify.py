"""A regulator checks that nothing was changed, removed or reordered: every chain is recomputed, its end
checked against the ledger's head and against the daily anchors kept under S3 Object Lock."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.exceptions import ClientError
from chalice.test import Client

from chalicelib.adapters.dynamodb import read_body
from chalicelib.domain.audit import Draft, event_hash, link
from chalicelib.domain.events import EventType
from chalicelib.domain.model import Result
from chalicelib.domain.policy import canonical_json
from chalicelib.services import anchors, audit_read, calls, dispatch, maintenance
from chalicelib.services.contacts import submit_contact
from chalicelib.services.unit_of_work import UnitOfWork
from tests.support import make_request, utc

MONDAY = utc(2026, 3, 2)
AFTER_WEDNESDAY = utc(2026, 3, 5, 0, 20)  # the daily pass, once Wednesday is over and settled
GA = {"location": {"country": "US", "subdivision": "GA"}}
# (hours after Monday 00:00 UTC, debtor, channel): three days of one person, a little of another
WEEK = [
    (17, "d-1", "sms"),
    (18, "d-2", "sms"),
    (20, "d-1", "email"),
    (24 + 3, "d-1", "sms"),  # 22:00 in Atlanta: scheduled
    (24 + 17, "d-1", "sms"),
    (48 + 15, "d-1", "voice"),
    (48 + 18, "d-1", "email"),
    (48 + 19, "d-3", "sms"),
    (48 + 20, "d-1", "sms"),
]
PHONES = {"d-1": "+14045550100", "d-2": "+14045550111", "d-3": "+14045550122"}


def submit(gateway: Any, hours: float, debtor: str, channel: str, **extra: Any) -> Any:
    fields: dict[str, Any] = {"debtor_id": debtor, "channel": channel, "to": PHONES.get(debtor, "+14045550100")}
    if channel == "email":
        fields["to"] = f"{debtor}@example.com"
    if channel == "voice":
        fields["message"] = None
    return submit_contact(make_request(**{**fields, **extra}), gateway.deps, MONDAY + timedelta(hours=hours))


@pytest.fixture
def week(gateway: Any) -> dict[str, list[dict[str, Any]]]:
    """Three days of contacts, every event appended and every day anchored."""
    for row in WEEK:
        submit(gateway, *row)
    dispatch.sweep_audit(gateway.deps, AFTER_WEDNESDAY)  # the ledgers' outboxes emptied
    report = maintenance.audit_pass(gateway.deps, ["local"], AFTER_WEDNESDAY)
    assert report["anchored"]["local"] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    return {d: gateway.audit.for_person("local", d) for d in PHONES}


def item(gateway: Any, debtor: str, seq: int) -> dict[str, Any]:
    key = {"pk": {"S": f"local#{debtor}"}, "seq": {"N": str(seq)}}
    return dict(gateway.clients.dynamodb.get_item(TableName=gateway.settings.audit_table, Key=key)["Item"])


def put_body(gateway: Any, debtor: str, seq: int, event: dict[str, Any]) -> None:
    """What someone with write access to the table could do: replace an item's stored event."""
    stored = item(gateway, debtor, seq)
    stored["body"] = {"S": canonical_json(event)}
    gateway.clients.dynamodb.put_item(TableName=gateway.settings.audit_table, Item=stored)


def remove(gateway: Any, debtor: str, seq: int) -> None:
    key = {"pk": {"S": f"local#{debtor}"}, "seq": {"N": str(seq)}}
    gateway.clients.dynamodb.delete_item(TableName=gateway.settings.audit_table, Key=key)


def roll_back_ledger(gateway: Any, debtor: str, event: dict[str, Any]) -> None:
    """Make the ledger's head ``event``, as if nothing had been committed after it."""
    gateway.clients.dynamodb.update_item(
        TableName=gateway.settings.ledger_table,
        Key={"pk": {"S": f"local#{debtor}"}},
        UpdateExpression="SET seq = :s, head = :h, outbox = :o",
        ExpressionAttributeValues={":s": {"N": str(event["seq"])}, ":h": {"S": event["hash"]}, ":o": {"S": "[]"}},
    )


def verified(client: Client, **params: Any) -> dict[str, Any]:
    response = client.http.get("/v1/audit/verify?" + urlencode(params))
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def without_anchors(gateway: Any) -> UnitOfWork:
    return replace(gateway.deps, anchors=None)


def cut_tail(gateway: Any, events: list[dict[str, Any]], removed: list[dict[str, Any]]) -> None:
    """Remove the last events from the trail and roll the ledger back to the one before them."""
    for event in removed:
        remove(gateway, "d-1", event["seq"])
    roll_back_ledger(gateway, "d-1", events[len(events) - len(removed) - 1])


def on_day(events: list[dict[str, Any]], day: str) -> list[dict[str, Any]]:
    return [e for e in events if datetime.fromisoformat(e["at"]).astimezone(UTC).date().isoformat() == day]


def test_the_week_verifies_against_the_ledger_and_every_anchor(client, week):
    result = verified(client, debtor_id="d-1")
    assert (result["ok"], result["checked"], result["head"]["seq"]) == (True, len(week["d-1"]), len(week["d-1"]))
    assert result["head"]["hash"] == week["d-1"][-1]["hash"]
    assert result["anchors_checked"] == 3


def test_an_edited_event_is_found_located_and_returned(client, gateway, week):
    target = next(e for e in week["d-1"] if e["type"] == "requested" and e["seq"] > 3)
    forged = {**target, "data": {**target["data"], "message": {"body": "We never said this", "subject": None}}}
    put_body(gateway, "d-1", target["seq"], forged)
    result = verified(client, debtor_id="d-1")
    assert (result["ok"], result["broken_at"]) == (False, target["seq"])
    assert "hash" in result["problem"]
    assert result["event"]["data"]["message"]["body"] == "We never said this"
    assert verified(client, debtor_id="d-2")["ok"] is True  # one person's tampering is not another's


def test_an_edit_with_its_own_hash_recomputed_breaks_the_next_link(client, gateway, week):
    target = week["d-1"][4]
    forged = {**target, "data": {**target["data"], "note": "added later"}}
    forged["hash"] = event_hash(forged)
    put_body(gateway, "d-1", target["seq"], forged)
    result = verified(client, debtor_id="d-1")
    assert (result["ok"], result["broken_at"]) == (False, target["seq"] + 1)
    assert "prev_hash" in result["problem"]


@pytest.mark.parametrize("position", [0, 5, -2])
def test_a_removed_event_is_found_and_located(client, gateway, week, position):
    target = week["d-1"][position]
    remove(gateway, "d-1", target["seq"])
    result = verified(client, debtor_id="d-1")
    assert (result["ok"], result["broken_at"]) == (False, target["seq"])


def test_two_events_swapped_are_found(client, gateway, week):
    first, second = week["d-1"][6], week["d-1"][7]
    put_body(gateway, "d-1", first["seq"], second)
    put_body(gateway, "d-1", second["seq"], first)
    result = verified(client, debtor_id="d-1")
    assert (result["ok"], result["broken_at"]) == (False, first["seq"])


def test_a_forged_event_appended_after_the_ledgers_head_is_found(client, gateway, week):
    """Hashes hold no secret: anyone can link a well-formed event after the last one. The ledger's
    head, committed before any append, says the chain ends earlier."""
    head = week["d-1"][-1]
    draft = Draft(EventType.SENT, head["contact_id"], {"provider_message_id": "forged"}, "sms", "a-1")
    at = datetime.fromisoformat(head["at"])
    (forged,) = link([draft], tenant="local", debtor_id="d-1", seq=head["seq"], head=head["hash"], at=at)
    gateway.audit.append([forged])
    assert [e["seq"] for e in gateway.audit.for_person("local", "d-1")][-1] == head["seq"] + 1
    result = verified(client, debtor_id="d-1")
    assert (result["ok"], result["broken_at"]) == (False, head["seq"] + 1)


@pytest.mark.parametrize("cut", ["whole-last-day", "last-two-events"])
def test_a_tail_cut_from_both_trail_and_ledger_is_found_only_by_the_anchor(client, gateway, week, cut):
    events = week["d-1"]
    wednesday = on_day(events, "2026-03-04")
    cut_tail(gateway, events, wednesday if cut == "whole-last-day" else events[-2:])

    unanchored = audit_read.verify("local", "d-1", without_anchors(gateway))
    assert unanchored["ok"] is True  # the chain and the ledger agree: only the anchor remembers
    result = verified(client, debtor_id="d-1")
    assert (result["ok"], result["broken_at"], result["anchor"]) == (False, events[-1]["seq"], "2026-03-04")
    assert "cut short" in result["problem"]


def test_a_history_rewritten_with_every_hash_recomputed_is_found_by_the_anchor(client, gateway, week):
    """Edit Tuesday, relink everything after it, move the ledger's head: only the anchors disagree."""
    events = week["d-1"]
    start = on_day(events, "2026-03-03")[0]["seq"]
    kept, rewritten = events[: start - 1], events[start - 1 :]
    head = kept[-1]["hash"]
    for event in rewritten:
        data = {**event["data"], "note": "rewritten"} if event["seq"] == start else event["data"]
        body = {k: v for k, v in event.items() if k != "hash"} | {"data": data, "prev_hash": head}
        body["hash"] = head = event_hash(body)
        put_body(gateway, "d-1", event["seq"], body)
    roll_back_ledger(gateway, "d-1", body)

    assert audit_read.verify("local", "d-1", without_anchors(gateway))["ok"] is True
    result = verified(client, debtor_id="d-1")
    assert (result["ok"], result["anchor"]) == (False, "2026-03-03")
    assert result["broken_at"] == on_day(events, "2026-03-03")[-1]["seq"]
    assert "differs" in result["problem"]


def test_anchors_cannot_be_deleted_or_shortened_under_object_lock(gateway, week):
    s3, bucket = gateway.clients.s3, gateway.settings.anchor_bucket
    key = anchors.anchor_key("local", "2026-03-03")
    (version,) = s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    original = s3.get_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])["Body"].read()
    head = s3.head_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] > utc(2026, 3, 3) + timedelta(days=gateway.deps.retention_years * 365)
    with pytest.raises(ClientError) as deleted:
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
    assert deleted.value.response["Error"]["Code"] == "AccessDenied"
    refused = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key, "VersionId": version["VersionId"]}]})
    assert [e["Code"] for e in refused.get("Errors", [])] == ["AccessDenied"] and not refused.get("Deleted")
    still = s3.get_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])["Body"].read()
    assert still == original
    anchor = json.loads(original)
    assert anchors.digest_ok(anchor)
    heads = {h["chain"]: h for h in anchor["heads"]}
    assert heads[anchors.chain_id("local", "d-1")]["hash"] == on_day(week["d-1"], "2026-03-03")[-1]["hash"]
    assert "d-1" not in original.decode()  # chains are pseudonymous in anchors


def test_the_daily_pass_never_replaces_an_anchor(gateway, week):
    key = anchors.anchor_key("local", "2026-03-04")
    before = gateway.clients.s3.list_object_versions(Bucket=gateway.settings.anchor_bucket, Prefix=key)["Versions"]
    submit(gateway, 48 + 23, "d-1", "sms")  # a late event on an anchored day
    again = maintenance.audit_pass(gateway.deps, ["local"], AFTER_WEDNESDAY + timedelta(hours=1))
    assert again["anchored"]["local"] == ["2026-03-02", "2026-03-03", "2026-03-04"]  # found, not rewritten
    after = gateway.clients.s3.list_object_versions(Bucket=gateway.settings.anchor_bucket, Prefix=key)["Versions"]
    assert [v["VersionId"] for v in after] == [v["VersionId"] for v in before]


def test_no_anchor_is_written_before_its_day_is_over_and_settled(gateway):
    submit(gateway, 17, "d-1", "sms")
    for now in (MONDAY + timedelta(hours=23, minutes=59), MONDAY + timedelta(days=1, minutes=14)):
        assert maintenance.audit_pass(gateway.deps, ["local"], now)["anchored"]["local"] == []
    settled = maintenance.audit_pass(gateway.deps, ["local"], MONDAY + timedelta(days=1, minutes=15))
    assert settled["anchored"]["local"] == ["2026-03-02"]


def test_a_delete_marker_cannot_hide_an_anchor(client, gateway, week):
    events = week["d-1"]
    cut_tail(gateway, events, on_day(events, "2026-03-04"))
    # Allowed under Object Lock: a delete without a version id only adds a delete marker.
    gateway.clients.s3.delete_object(
        Bucket=gateway.settings.anchor_bucket, Key=anchors.anchor_key("local", "2026-03-04")
    )
    result = verified(client, debtor_id="d-1")
    assert (result["ok"], result["anchor"]) == (False, "2026-03-04")
    assert "overwritten or hidden" in result["warnings"][0]


def test_a_newer_version_cannot_replace_an_anchor(client, gateway, week):
    events = week["d-1"]
    cut_tail(gateway, events, on_day(events, "2026-03-04"))
    key = anchors.anchor_key("local", "2026-03-04")
    anchor = json.loads(gateway.deps.anchors.get_original(key)[0])
    heads = [h for h in anchor["heads"] if h["chain"] != anchors.chain_id("local", "d-1")]
    forged = {**anchor, "heads": heads, "digest": anchors.digest(heads)}
    gateway.clients.s3.put_object(Bucket=gateway.settings.anchor_bucket, Key=key, Body=json.dumps(forged).encode())
    result = verified(client, debtor_id="d-1")
    assert (result["ok"], result["anchor"]) == (False, "2026-03-04")
    assert "overwritten or hidden" in result["warnings"][0]


def test_a_range_lists_every_broken_chain_and_is_ok_when_intact(client, gateway, week):
    week_range = {"from": "2026-03-02", "to": "2026-03-04"}
    intact = verified(client, **week_range)
    assert (intact["ok"], intact["chains"], intact["failures"], intact["cursor"]) == (True, 3, [], None)
    assert intact["events"] == sum(len(events) for events in week.values())
    assert intact["anchors_checked"] == 3 + 1 + 1  # d-1 on three days, d-2 and d-3 on one each

    target = week["d-1"][5]
    put_body(gateway, "d-1", target["seq"], {**target, "at": "2026-03-01T00:00:00+00:00"})
    remove(gateway, "d-3", 2)
    broken = verified(client, **week_range)
    assert (broken["ok"], broken["chains"]) == (False, 3)
    assert {(f["debtor_id"], f["broken_at"]) for f in broken["failures"]} == {("d-1", target["seq"]), ("d-3", 2)}

    monday_only = verified(client, **{"from": "2026-03-02", "to": "2026-03-02"})
    assert {f["debtor_id"] for f in monday_only["failures"]} == {"d-1"}  # d-3 has no event on Monday
    assert monday_only["chains"] == 2


def test_a_range_pages_through_the_chains(client, week):
    first = verified(client, **{"from": "2026-03-02", "to": "2026-03-04", "limit": 2})
    # The cursor is where the range's reading stopped (opaque); what remains is not known before it is read.
    assert (first["chains"], first["remaining"], bool(first["cursor"])) == (2, None, True)
    rest = verified(client, **{"from": "2026-03-02", "to": "2026-03-04", "limit": 2, "cursor": first["cursor"]})
    assert (rest["chains"], rest["remaining"], rest["cursor"], rest["ok"]) == (1, None, None, True)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "debtor_id"),
        ({"from": "2026-03-02"}, "debtor_id"),
        ({"from": "2026-03-05", "to": "2026-03-02"}, "to"),
        ({"from": "2025-01-01", "to": "2026-03-02"}, "from"),
        ({"from": "2026-03-02", "to": "soon"}, "to"),
        ({"debtor_id": "d 1"}, "debtor_id"),
    ],
)
def test_a_bad_verification_request_is_a_400_naming_the_parameter(client, params, field):
    response = client.http.get("/v1/audit/verify?" + urlencode(params))
    assert response.status_code == 400, response.body
    assert field in [e["field"] for e in json.loads(response.body)["errors"]]


# --- thousands of mixed events -------------------------------------------------------------------

PEOPLE = [
    {"debtor_id": "m-ga", "to": "+14045550100", "location": {"country": "US", "subdivision": "GA"}},
    {"debtor_id": "m-ma", "to": "+16175550100", "location": {"country": "US", "subdivision": "MA"}},
    {"debtor_id": "m-qc", "to": "+15145550100", "location": {"country": "CA", "subdivision": "QC"}},
    {"debtor_id": "m-on", "to": "+14165550100", "location": {"country": "CA", "subdivision": "ON"}},
]


def mixed_history(gateway: Any, contacts: int, start: datetime) -> tuple[datetime, Counter[str]]:
    """Contacts every 41 minutes, night and day, over every channel, person and debt; the dispatcher
    sends what was deferred, some calls report an outcome, then every day is anchored. Returns the
    time after it all and what happened, counted."""
    now, day, mix = start, start.date(), Counter[str]()
    for i in range(contacts):
        now = start + timedelta(minutes=41 * i)
        if (now.date() - day).days >= 4:  # now and then the dispatcher sends the deferred contacts
            day = now.date()
            mix["dispatched"] += dispatch.dispatch_due(gateway.deps, now).dispatched
        if i % 40 == 0:  # the sweep runs every minute in AWS: it keeps the ledgers' outboxes short
            dispatch.sweep_audit(gateway.deps, now)
        person, channel = PEOPLE[i % 4], ("sms", "email", "voice")[i // 4 % 3]
        on_blocked = "defer" if i % 5 == 0 else "reject"
        fields: dict[str, Any] = {**person, "account_id": f"a-{i % 3}", "channel": channel, "on_blocked": on_blocked}
        if channel == "email":
            fields["to"] = f"{person['debtor_id']}@example.com"
        if channel == "voice":
            fields["message"] = None
        result = submit_contact(make_request(**fields), gateway.deps, now)
        mix[f"{channel} {result.status.value}"] += 1
        if result.status.value == "permitted" and i % 2:
            outcome = (Result.CONVERSATION, Result.VOICEMAIL, Result.UNANSWERED)[i % 3]
            calls.record_call_outcome("local", result.contact_id, outcome, gateway.deps, now + timedelta(minutes=5))
            mix["call outcome"] += 1
    end = now + timedelta(days=1, minutes=20)
    dispatch.sweep_audit(gateway.deps, end)
    days = (end.date() - start.date()).days
    anchored = anchors.anchor_missing_days(gateway.audit, gateway.deps.anchors, "local", end, 3660, days)
    assert len(anchored) == days
    return end, mix


def test_chains_verify_after_thousands_of_mixed_events(client, gateway):
    started = time.perf_counter()
    end, mix = mixed_history(gateway, 640, MONDAY)
    assert {"sms sent", "sms scheduled", "sms blocked", "email sent", "email scheduled", "email blocked"} <= set(mix)
    assert {"voice permitted", "voice refused", "call outcome", "dispatched"} <= set(mix)
    heads = {p["debtor_id"]: gateway.deps.ledgers.get("local", p["debtor_id"]) for p in PEOPLE}
    total = sum(ledger.seq for ledger in heads.values())
    assert total >= 2000 and all(not ledger.outbox for ledger in heads.values())

    whole = verified(client, **{"from": MONDAY.date().isoformat(), "to": end.date().isoformat()})
    assert (whole["ok"], whole["chains"], whole["events"], whole["failures"]) == (True, 4, total, [])
    assert whole["anchors_checked"] >= 4 * 10

    deep = read_body(item(gateway, "m-qc", heads["m-qc"].seq // 2)["body"])
    put_body(gateway, "m-qc", deep["seq"], {**deep, "account_id": "a-forged"})
    found = verified(client, debtor_id="m-qc")
    assert (found["ok"], found["broken_at"], found["event"]["account_id"]) == (False, deep["seq"], "a-forged")
    put_body(gateway, "m-qc", deep["seq"], deep)
    assert verified(client, debtor_id="m-qc")["ok"] is True
    print(f"{total} events generated and verified in {time.perf_counter() - started:.1f} s")
