"""The contact path against moto in-process: what is committed, sent and audited."""

from __future__ import annotations

import pytest

from chalicelib.domain.audit import verify_chain
from chalicelib.domain.errors import StorageUnavailableError
from chalicelib.domain.model import Result
from chalicelib.services import dispatch, ids
from chalicelib.services.calls import record_call_outcome
from chalicelib.services.contacts import get_contact, submit_contact
from tests.integration.aws import fail_calls, sent_email, sent_sms
from tests.support import TENANT, make_request, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
NIGHT_ATLANTA = utc(2026, 3, 3, 3, 0)  # 22:00 in Atlanta


def test_sends_sms_through_sns_and_audits_each_step(gateway):
    result = submit_contact(make_request(), gateway.deps, NOON_ATLANTA)
    assert result.status == "sent"
    assert sent_sms() == [("+14045550100", "Your payment is overdue. Reply STOP to opt out.")]
    events = gateway.deps.audit.for_person(TENANT, "d-1")
    assert [e["type"] for e in events] == ["requested", "decided", "sent"]
    assert events[2]["data"]["provider_message_id"] == result.provider_message_id
    assert verify_chain(events).ok


def test_sends_email_through_ses_v2(gateway):
    request = make_request(
        channel="email",
        to="debtor@example.com",
        message={"subject": "Reminder", "body": "Hi. Unsubscribe: reply STOP."},
    )
    result = submit_contact(request, gateway.deps, NOON_ATLANTA)
    assert result.status == "sent"
    [message] = sent_email()
    assert message.destinations["ToAddresses"] == ["debtor@example.com"]
    assert message.subject == "Reminder"


def test_defers_at_night_and_dispatcher_sends_once_due(gateway):
    result = submit_contact(make_request(), gateway.deps, NIGHT_ATLANTA)
    assert result.status == "scheduled"
    assert result.decision.not_before == utc(2026, 3, 3, 13, 0)  # 08:00 EST
    assert dispatch.dispatch_due(gateway.deps, utc(2026, 3, 3, 12, 59)).dispatched == 0
    assert sent_sms() == []
    report = dispatch.dispatch_due(gateway.deps, utc(2026, 3, 3, 13, 0))
    assert report.statuses == {"sent": 1}
    assert len(sent_sms()) == 1
    assert dispatch.dispatch_due(gateway.deps, utc(2026, 3, 3, 14, 0)).dispatched == 0
    assert len(sent_sms()) == 1
    view = get_contact(TENANT, result.contact_id, gateway.deps)
    assert view["status"] == "sent"
    assert [e["type"] for e in view["events"]] == ["requested", "decided", "scheduled", "decided", "sent"]


def test_reject_mode_blocks_without_storing_a_deferral(gateway):
    result = submit_contact(make_request(on_blocked="reject"), gateway.deps, NIGHT_ATLANTA)
    assert result.status == "blocked"
    assert gateway.deps.ledgers.get(TENANT, "d-1").deferred == ()


def test_permanent_provider_error_records_failed_and_sends_nothing(gateway):
    fail_calls(gateway.clients.sns, "Publish", "InvalidParameter")
    result = submit_contact(make_request(), gateway.deps, NOON_ATLANTA)
    assert result.status == "failed"
    failed = gateway.deps.audit.for_person(TENANT, "d-1")[-1]
    assert (failed["type"], failed["data"]["error_code"]) == ("failed", "InvalidParameter")


def test_throttled_provider_is_retried_later_by_the_dispatcher(gateway):
    heal = fail_calls(gateway.clients.sns, "Publish", "Throttling")
    result = submit_contact(make_request(), gateway.deps, NOON_ATLANTA)
    assert result.status == "scheduled"
    heal()
    report = dispatch.dispatch_due(gateway.deps, utc(2026, 3, 2, 17, 5))
    assert report.statuses == {"sent": 1}
    assert len(sent_sms()) == 1


def test_unreadable_ledger_sends_nothing(gateway):
    fail_calls(gateway.clients.dynamodb, "BatchGetItem", "InternalServerError")
    with pytest.raises(StorageUnavailableError):
        submit_contact(make_request(), gateway.deps, NOON_ATLANTA)
    assert sent_sms() == []


def test_audit_outage_after_commit_is_repaired_by_the_sweep(gateway):
    audit_table = gateway.settings.audit_table
    heal = fail_calls(
        gateway.clients.dynamodb,
        "PutItem",
        "ProvisionedThroughputExceededException",
        when=lambda p: p["TableName"] == audit_table,
    )
    result = submit_contact(make_request(), gateway.deps, NOON_ATLANTA)
    assert result.status == "sent"  # the ledger holds the events: the send is not unaudited
    assert gateway.deps.audit.for_person(TENANT, "d-1") == []
    heal()
    assert dispatch.sweep_audit(gateway.deps, utc(2026, 3, 2, 17, 1)) == 3
    events = gateway.deps.audit.for_person(TENANT, "d-1")
    assert [e["type"] for e in events] == ["requested", "decided", "sent"]
    assert verify_chain(events).ok
    assert gateway.deps.ledgers.get(TENANT, "d-1").outbox == ()


def test_conversation_outcome_locks_calls_for_seven_days(gateway):
    voice = make_request(channel="voice", message=None)
    permit = submit_contact(voice, gateway.deps, NOON_ATLANTA)
    assert permit.status == "permitted"
    record_call_outcome(TENANT, permit.contact_id, Result.CONVERSATION, gateway.deps, NOON_ATLANTA)
    refused = submit_contact(voice, gateway.deps, utc(2026, 3, 8, 17, 0))
    assert refused.status == "refused"
    assert refused.decision.reasons[0].rule == "us-federal/call-after-conversation"
    assert refused.decision.not_before == utc(2026, 3, 9, 12, 0)  # March 9, 08:00 EDT: day 8


def test_not_connected_call_stops_counting(gateway):
    voice = make_request(channel="voice", message=None)
    for day in range(1, 8):
        permit = submit_contact(voice, gateway.deps, utc(2026, 4, day, 15, 0))
        assert permit.status == "permitted"
        result = Result.NOT_CONNECTED if day == 7 else Result.UNANSWERED
        record_call_outcome(TENANT, permit.contact_id, result, gateway.deps, utc(2026, 4, day, 15, 5))
    again = submit_contact(voice, gateway.deps, utc(2026, 4, 7, 16, 0))
    assert again.status == "permitted"
    record_call_outcome(TENANT, again.contact_id, Result.UNANSWERED, gateway.deps, utc(2026, 4, 7, 16, 5))
    eighth = submit_contact(voice, gateway.deps, utc(2026, 4, 7, 17, 0))
    assert eighth.status == "refused"
    assert eighth.decision.not_before == utc(2026, 4, 8, 12, 0)


def test_unreadable_ledger_is_kept_as_an_incident_on_the_chain_with_its_reason(gateway):
    fail_calls(gateway.clients.dynamodb, "BatchGetItem", "InternalServerError")
    with pytest.raises(StorageUnavailableError):
        submit_contact(make_request(), gateway.deps, NOON_ATLANTA)
    [incident] = [e for e in gateway.deps.audit.for_person(TENANT, "d-1") if e["type"] == "incident"]
    assert "InternalServerError" in incident["data"]["reason"]
    assert incident["data"]["request"]["to"] == "+14045550100"
    assert gateway.deps.audit.incidents(TENANT, "d-1") == []  # the chain took it: nothing outside


def test_a_contact_whose_commit_failed_is_sent_on_its_retry(gateway):
    contact_id = ids.contact_id_for_key(TENANT, "d-1", "retry-me")
    heal = fail_calls(gateway.clients.dynamodb, "BatchGetItem", "InternalServerError")
    with pytest.raises(StorageUnavailableError):
        submit_contact(make_request(), gateway.deps, NOON_ATLANTA, contact_id=contact_id)
    heal()
    retried = submit_contact(make_request(), gateway.deps, NOON_ATLANTA, contact_id=contact_id)
    assert retried.status == "sent"


def test_corrupt_ledger_item_fails_closed(gateway):
    gateway.clients.dynamodb.put_item(
        TableName=gateway.settings.ledger_table,
        Item={"pk": {"S": "local#d-1"}, "tenant": {"S": "local"}, "debtor_id": {"S": "d-1"}, "version": {"N": "3"}},
    )
    with pytest.raises(StorageUnavailableError):
        submit_contact(make_request(), gateway.deps, NOON_ATLANTA)
    assert sent_sms() == []


def test_a_replayed_contact_id_is_refused_and_sends_nothing_twice(gateway):
    from chalicelib.domain.errors import DuplicateContactError
    from chalicelib.services.ids import contact_id_for_key

    contact_id = contact_id_for_key(TENANT, "d-1", "key-1")
    assert submit_contact(make_request(), gateway.deps, NOON_ATLANTA, contact_id=contact_id).status == "sent"
    with pytest.raises(DuplicateContactError):
        submit_contact(make_request(), gateway.deps, NOON_ATLANTA, contact_id=contact_id)
    assert len(sent_sms()) == 1


def test_a_provider_5xx_may_have_sent_so_it_is_unknown_and_never_resent(gateway):
    fail_calls(gateway.clients.sns, "Publish", "InternalError")
    result = submit_contact(make_request(), gateway.deps, NOON_ATLANTA)
    assert result.status == "unknown"
    assert gateway.deps.ledgers.get(TENANT, "d-1").deferred == ()


def test_a_call_outcome_is_final(gateway):
    from chalicelib.services.calls import OutcomeAlreadyReportedError

    permit = submit_contact(make_request(channel="voice", message=None), gateway.deps, NOON_ATLANTA)
    record_call_outcome(TENANT, permit.contact_id, Result.CONVERSATION, gateway.deps, NOON_ATLANTA)
    record_call_outcome(TENANT, permit.contact_id, Result.CONVERSATION, gateway.deps, NOON_ATLANTA)  # same: fine
    with pytest.raises(OutcomeAlreadyReportedError):
        record_call_outcome(TENANT, permit.contact_id, Result.NOT_CONNECTED, gateway.deps, NOON_ATLANTA)
