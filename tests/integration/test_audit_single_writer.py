"""The audit table has one writer, the ledger stream's appender (as deployed, ``AUDIT_APPEND=stream``): an
incident the ledger cannot take and a commit the stream missed both reach the trail through it; no request
path puts an audit item. The daily pass's retention re-put changes the TTL and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Runtime
from chalicelib.domain.errors import ConflictError, StorageUnavailableError
from chalicelib.domain.policy import PolicySet
from chalicelib.services import dispatch
from chalicelib.services.contacts import submit_contact
from tests.integration.aws import fail_calls, stream_gateway
from tests.support import TENANT, make_request, utc
from tools.local.ledger_stream import LedgerStream

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


@pytest.fixture
def gateway(aws_env: None, policies: PolicySet) -> Iterator[Runtime]:
    with stream_gateway(policies, "single-writer-secret") as runtime:
        runtime.deps.sleep = lambda _seconds: None
        yield runtime


def audit_puts(gateway: Runtime) -> list[dict[str, Any]]:
    """Every PutItem on the audit table from now on."""
    seen: list[dict[str, Any]] = []
    table = gateway.settings.audit_table

    def hook(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") == table:
            seen.append(params)

    gateway.clients.dynamodb.meta.events.register("provide-client-params.dynamodb.PutItem", hook)
    return seen


def test_an_incident_the_ledger_cannot_take_reaches_the_trail_through_the_appender(gateway):
    stream, ledger_table = LedgerStream(gateway), gateway.settings.ledger_table
    puts = audit_puts(gateway)
    undo_read = fail_calls(gateway.clients.dynamodb, "BatchGetItem", "InternalServerError")
    undo_commit = fail_calls(  # the person's ledger takes nothing; an item beside it still can be put
        gateway.clients.dynamodb,
        "PutItem",
        "InternalServerError",
        when=lambda p: p["TableName"] == ledger_table and "#incident#" not in p["Item"]["pk"]["S"],
    )
    with pytest.raises(StorageUnavailableError):
        submit_contact(make_request(debtor_id="d-1"), gateway.deps, NOON_ATLANTA)
    undo_read(), undo_commit()
    assert puts == []  # the request path wrote no audit item
    assert gateway.audit.incidents(TENANT, "d-1") == []
    records = stream.records()
    assert stream.drain(records)["incidents"] == 1
    stream.drain(records)  # a redelivered batch keeps it once
    (incident,) = gateway.audit.incidents(TENANT, "d-1")
    assert "InternalServerError" in incident["data"]["reason"]
    assert incident["data"]["request"]["to"] == "+14045550100"
    assert all(p["ConditionExpression"] == "attribute_not_exists(pk)" for p in puts)


def test_a_commit_the_stream_missed_is_handed_to_the_appender_again_by_the_sweep(gateway):
    stream = LedgerStream(gateway)
    submit_contact(make_request(debtor_id="d-2"), gateway.deps, NOON_ATLANTA)
    stream.records()  # the stream's records of the commit are lost
    puts = audit_puts(gateway)
    later = NOON_ATLANTA + timedelta(minutes=10)
    handed = dispatch.sweep_audit(gateway.deps, later)
    assert handed == len(gateway.deps.ledgers.get(TENANT, "d-2").outbox) > 0
    assert puts == [] and gateway.audit.for_person(TENANT, "d-2") == []  # the sweep wrote nothing itself
    stream.drain()
    events = gateway.audit.for_person(TENANT, "d-2")
    assert [e["seq"] for e in events] == list(range(1, handed + 1))
    assert gateway.deps.ledgers.get(TENANT, "d-2").outbox == ()  # the appender's mark, as for any commit
    assert puts and all(p["ConditionExpression"] == "attribute_not_exists(pk)" for p in puts)


def test_the_retention_re_put_changes_the_ttl_and_nothing_else(gateway):
    stream, dynamodb, table = LedgerStream(gateway), gateway.clients.dynamodb, gateway.settings.audit_table
    submit_contact(make_request(debtor_id="d-3"), gateway.deps, NOON_ATLANTA)
    stream.drain()
    key = {"pk": {"S": f"{TENANT}#d-3"}, "seq": {"N": "1"}}
    before = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    later = int(before["expires_at"]["N"]) + 86400 * 400
    gateway.audit.extend_retention(f"{TENANT}#d-3", 1, later)
    after = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert {k for k in after if after[k] != before.get(k)} == {"expires_at", "expiry_day"}
    assert after["expires_at"]["N"] == str(later)

    def edit_between_read_and_put(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") == table and "expires_at < :e" in params.get("ConditionExpression", ""):
            dynamodb.meta.events.unregister("provide-client-params.dynamodb.PutItem", edit_between_read_and_put)
            dynamodb.update_item(  # a derived attribute edited by someone else meanwhile
                TableName=table,
                Key=key,
                UpdateExpression="SET channel = :c",
                ExpressionAttributeValues={":c": {"S": "x"}},
            )

    dynamodb.meta.events.register("provide-client-params.dynamodb.PutItem", edit_between_read_and_put)
    with pytest.raises(ConflictError):
        gateway.audit.extend_retention(f"{TENANT}#d-3", 1, later + 86400)
    stored = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert stored["expires_at"]["N"] == str(later) and stored["channel"] == {"S": "x"}  # the put did not land
