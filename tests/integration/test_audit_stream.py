"""AUDIT_APPEND=stream: the request path commits events in the ledger; the stream appender puts them in the
audit table. Driven with moto's real DynamoDB stream of the ledger table."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from moto import mock_aws

from chalicelib.adapters.dynamodb import ledger_from_image, unpack_outbox
from chalicelib.bootstrap import Clients, Runtime, bootstrap
from chalicelib.domain.model import Result
from chalicelib.domain.policy import PolicySet
from chalicelib.services import appender, audit_read
from chalicelib.services.contacts import submit_contact
from chalicelib.services.dispatch import sweep_audit
from chalicelib.settings import Settings
from tests.integration.aws import count_calls, fail_calls, sent_sms
from tests.support import make_request, utc
from tools.local import provision
from tools.local.ledger_stream import LedgerStream

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


@pytest.fixture
def streaming(aws_env: None, policies: PolicySet) -> Iterator[Runtime]:
    with mock_aws():
        settings = Settings(
            unsubscribe_secret="integration-test-key", audit_append="stream", index_shards=4, day_shards=4
        )
        clients = Clients(settings)
        provision.ensure_all(clients, settings)
        yield bootstrap(settings=settings, clients=clients, policies=policies)


def _stored(gateway: Runtime, debtor_id: str = "d-1") -> list[int]:
    return [e["seq"] for e in gateway.audit.for_person("local", debtor_id)]


def _ledger_item(gateway: Runtime, debtor_id: str = "d-1") -> dict:
    return gateway.clients.dynamodb.get_item(
        TableName=gateway.settings.ledger_table, Key={"pk": {"S": f"local#{debtor_id}"}}, ConsistentRead=True
    )["Item"]


def test_a_sent_sms_costs_six_calls_and_the_appender_completes_the_trail(streaming):
    stream = LedgerStream(streaming)
    streaming.deps.pacing.tenant("local", NOON_ATLANTA)  # the tenant's settings: one GetItem a minute, not a send
    dynamodb, sns = count_calls(streaming.clients.dynamodb), count_calls(streaming.clients.sns)
    result = submit_contact(make_request(), streaming.deps, NOON_ATLANTA)
    assert result.status == "sent" and len(sent_sms()) == 1
    # read, commit, whom the address was texted about (so a reply knows whom it answers), the sent message by
    # its provider id (so a receipt finds the contact, docs/decisions/0030), outcome
    assert dynamodb == ["BatchGetItem", "PutItem", "PutItem", "PutItem", "PutItem"] and sns == ["Publish"]
    assert _stored(streaming) == []  # nothing appended on the request path
    # the send's reservation waits on pending with its events, never on due (docs/decisions/0016)
    assert "due_at" not in _ledger_item(streaming) and "pending_since" in _ledger_item(streaming)

    report = stream.drain()
    assert report == {"ledgers": 1, "events": 3}  # requested and decided (commit), sent (outcome): one image
    assert _stored(streaming) == [1, 2, 3]
    item = _ledger_item(streaming)
    assert json.loads(item["outbox"]["S"]) == [] and "pending_since" not in item
    assert int(item["appended_seq"]["N"]) == 3 and int(item["version"]["N"]) == 2  # the mark is no new version
    verdict = audit_read.verify("local", "d-1", streaming.deps)
    assert verdict["ok"] and verdict["checked"] == 3 and verdict["pending"] == []


def test_the_appenders_own_write_and_a_redelivered_batch_append_nothing_twice(streaming):
    stream = LedgerStream(streaming)
    submit_contact(make_request(), streaming.deps, NOON_ATLANTA)
    records = stream.records()
    assert stream.drain(records)["events"] == 3
    assert stream.drain(records) == {"ledgers": 1, "events": 0}  # the same images again: conditional no-ops
    assert stream.drain() == {"ledgers": 0, "events": 0}  # the mark's own stream record
    assert _stored(streaming) == [1, 2, 3]


def test_the_outbox_is_stored_compressed_and_read_from_a_lambda_event(streaming):
    submit_contact(make_request(), streaming.deps, NOON_ATLANTA)
    item = _ledger_item(streaming)
    stored = item["outbox"]["B"]
    assert len(stored) < len(json.dumps(list(unpack_outbox(stored)))) / 2  # the write units it saves
    event_image = {**item, "outbox": {"B": base64.b64encode(stored).decode()}}  # as Lambda's event carries it
    assert [e["seq"] for e in ledger_from_image(event_image).outbox] == [1, 2, 3]
    legacy = {**item, "outbox": {"S": json.dumps(list(unpack_outbox(stored)))}}  # a ledger of before
    assert [e["seq"] for e in ledger_from_image(legacy).outbox] == [1, 2, 3]


def test_a_later_commit_drops_what_the_appender_marked(streaming):
    stream = LedgerStream(streaming)
    submit_contact(make_request(), streaming.deps, NOON_ATLANTA)
    stream.drain()
    submit_contact(make_request(), streaming.deps, utc(2026, 3, 2, 18, 0))
    outbox = [e["seq"] for e in unpack_outbox(_ledger_item(streaming)["outbox"]["B"])]
    assert outbox == [4, 5, 6]  # only the second contact's events wait for the appender
    stream.drain()
    assert _stored(streaming) == [1, 2, 3, 4, 5, 6]


def test_an_audit_outage_fails_the_batch_and_its_redelivery_completes_it(streaming):
    stream = LedgerStream(streaming)
    submit_contact(make_request(debtor_id="d-1"), streaming.deps, NOON_ATLANTA)
    submit_contact(make_request(debtor_id="d-2", to="+14045550101"), streaming.deps, NOON_ATLANTA)
    records = stream.records()
    audit = streaming.settings.audit_table
    undo = fail_calls(
        streaming.clients.dynamodb,
        "PutItem",
        "ProvisionedThroughputExceededException",
        lambda p: p["TableName"] == audit and p["Item"]["debtor_id"]["S"] == "d-2",
    )
    try:
        with pytest.raises(appender.AppendIncompleteError):
            stream.drain(records)
    finally:
        undo()
    assert _stored(streaming, "d-1") == [1, 2, 3] and _stored(streaming, "d-2") == []
    assert "pending_since" in _ledger_item(streaming, "d-2")  # not marked: the sweep would find it too
    assert stream.drain(records) == {"ledgers": 2, "events": 3}  # d-1's are there already
    assert _stored(streaming, "d-2") == [1, 2, 3]


def test_when_the_stream_lost_a_commit_the_sweep_hands_it_to_the_appender_after_its_grace(streaming):
    stream = LedgerStream(streaming)
    submit_contact(make_request(), streaming.deps, NOON_ATLANTA)
    stream.records()  # lost
    assert sweep_audit(streaming.deps, NOON_ATLANTA) == 0  # the appender is given its grace first
    assert sweep_audit(streaming.deps, utc(2026, 3, 2, 17, 1)) == 3
    assert _stored(streaming) == []  # the appender is the audit table's one writer (docs/decisions/0029)
    stream.drain()
    assert _stored(streaming) == [1, 2, 3] and json.loads(_ledger_item(streaming)["outbox"]["S"]) == []


def test_a_contact_reads_whole_before_the_appender_runs(streaming):
    from chalice.test import Client

    import app as gateway_app
    from tests.auth import AuthedClient, KeyRing

    result = submit_contact(make_request(), streaming.deps, NOON_ATLANTA)
    with gateway_app.using(streaming), Client(gateway_app.app) as test_client:
        client = AuthedClient(test_client, KeyRing(streaming, "local"))
        body = json.loads(client.http.get(f"/v1/contacts/{result.contact_id}").body)
    assert [e["type"] for e in body["events"]] == ["requested", "decided", "sent"] and body["status"] == "sent"


def test_an_outcome_for_a_refused_call_is_refused_not_lost_before_the_appender_runs(streaming):
    from chalicelib.services import calls

    night = utc(2026, 3, 3, 3, 0)  # 22:00 in Atlanta
    request = make_request(channel="voice", on_blocked="reject", message=None)
    refused = submit_contact(request, streaming.deps, night)
    assert refused.status == "refused" and _stored(streaming) == []
    with pytest.raises(calls.NotAVoicePermitError):
        calls.record_call_outcome("local", refused.contact_id, Result.CONVERSATION, streaming.deps, night)


def test_verify_is_not_fooled_by_the_appender_running_between_its_reads(streaming, monkeypatch):
    stream = LedgerStream(streaming)
    submit_contact(make_request(), streaming.deps, NOON_ATLANTA)
    ledgers = streaming.deps.ledgers
    read = ledgers.get

    def appender_runs_first(tenant, debtor_id):  # verify read the (empty) trail; now the appender runs
        stream.drain()
        return read(tenant, debtor_id)

    monkeypatch.setattr(ledgers, "get", appender_runs_first)
    verdict = audit_read.verify("local", "d-1", streaming.deps)
    assert verdict["ok"], verdict
    assert verdict["checked"] == 3 and verdict["pending"] == []


def test_an_export_reads_short_chains_in_key_order_and_a_swap_shows(streaming):
    from chalicelib.domain.audit import verify_chain

    stream = LedgerStream(streaming)
    submit_contact(make_request(), streaming.deps, NOON_ATLANTA)
    stream.drain()
    table = streaming.settings.audit_table
    dynamodb = streaming.clients.dynamodb
    items = {
        s: dynamodb.get_item(TableName=table, Key={"pk": {"S": "local#d-1"}, "seq": {"N": str(s)}})["Item"]
        for s in (1, 2)
    }
    for s, other in ((1, 2), (2, 1)):  # each body moved under the other's key
        dynamodb.put_item(TableName=table, Item={**items[s], "body": items[other]["body"]})
    events = streaming.audit.by_keys("local", [("d-1", 1), ("d-1", 2), ("d-1", 3)])
    assert [e["seq"] for e in events] == [2, 1, 3]  # as stored, not tidied by the bodies' own seq
    assert not verify_chain(events).ok


def test_an_export_of_a_debtor_is_accepted_before_the_appender_runs(streaming):
    from chalicelib.domain.errors import NotFoundError
    from chalicelib.services import exports

    submit_contact(make_request(), streaming.deps, NOON_ATLANTA)
    assert _stored(streaming) == []
    queued = exports.request_export("local", exports.ExportSpec(debtor_id="d-1"), streaming.deps, NOON_ATLANTA)
    assert queued["status"] == "queued"
    with pytest.raises(NotFoundError):  # nobody: no events, no ledger
        exports.request_export("local", exports.ExportSpec(debtor_id="d-9"), streaming.deps, NOON_ATLANTA)
