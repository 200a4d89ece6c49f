"""Receipts on the contact's chain: idempotent, in any order, the latest by the provider's time shown.

GOV.UK Notify's words: ``delivered``, ``temporary_failure``, ``permanent_failure``. A receipt that comes twice
records once; one that comes late is kept in the trail but never overrides a later one; none changes a count.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.engine import evaluate
from chalicelib.domain.events import EventType
from chalicelib.domain.model import Channel, ContactRecord, DeliveryStatus, Outcome, Result, supersedes
from chalicelib.domain.policy import PolicySet, build_policy_set
from chalicelib.domain.receipts import Receipt, latest_delivery
from chalicelib.services import receipts
from chalicelib.services.contacts import get_contact, submit_contact
from tests.support import make_request, pack_with, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
DELIVERED, TEMPORARY, PERMANENT = (
    DeliveryStatus.DELIVERED,
    DeliveryStatus.TEMPORARY_FAILURE,
    DeliveryStatus.PERMANENT_FAILURE,
)


def _sent(deps, **fields):
    result = submit_contact(make_request(**fields), deps, NOON_ATLANTA)
    assert result.status == "sent"
    return result


def _receipt(provider_id, status, minutes, code=None):
    return Receipt(Channel.SMS, provider_id, status, NOON_ATLANTA + timedelta(minutes=minutes), code, "test")


def _deliveries(deps, contact_id):
    answer = get_contact("local", contact_id, deps)
    return [e["data"]["delivery"] for e in answer["events"] if e["type"] == EventType.DELIVERY], answer


def test_a_receipt_becomes_a_delivery_event_on_the_contacts_chain(deps):
    sent = _sent(deps)
    done = receipts.record_receipt(_receipt(sent.provider_message_id, DELIVERED, 1), deps, NOON_ATLANTA)
    assert done is not None and done.recorded and done.contact_id == sent.contact_id
    recorded, answer = _deliveries(deps, sent.contact_id)
    assert recorded == [{"status": "delivered", "at": "2026-03-02T17:01:00Z", "provider_code": None}]
    event = next(e for e in answer["events"] if e["type"] == EventType.DELIVERY)
    assert event["data"]["provider_message_id"] == sent.provider_message_id and event["data"]["channel"] == "sms"
    assert event["contact_id"] == sent.contact_id and event["channel"] == "sms" and event["account_id"] == "a-1"
    assert answer["status"] == "sent"  # the contact's status is what the gateway did: a receipt adds to it


def test_a_duplicate_receipt_is_harmless(deps):
    sent = _sent(deps)
    receipt = _receipt(sent.provider_message_id, PERMANENT, 2, "Invalid phone number")
    first = receipts.record_receipt(receipt, deps, NOON_ATLANTA)
    again = receipts.record_receipt(receipt, deps, NOON_ATLANTA + timedelta(minutes=5))
    assert first is not None and first.recorded and again is not None and not again.recorded
    recorded, _ = _deliveries(deps, sent.contact_id)
    assert len(recorded) == 1
    ledger = deps.ledgers.get("local", "d-1")
    assert ledger.record(sent.contact_id).delivery is PERMANENT


@pytest.mark.parametrize(
    ("arrivals", "shown"),
    [
        ([(PERMANENT, 10), (DELIVERED, 5)], "permanent_failure"),  # a late delivered never overrides
        ([(DELIVERED, 10), (PERMANENT, 5)], "delivered"),  # nor a late permanent failure a delivery
        ([(DELIVERED, 5), (PERMANENT, 10)], "permanent_failure"),  # in order: the later one
        ([(TEMPORARY, 5), (DELIVERED, 10), (TEMPORARY, 7)], "delivered"),
    ],
)
def test_out_of_order_receipts_show_the_latest_by_provider_time_and_keep_every_one(deps, arrivals, shown):
    sent = _sent(deps)
    for status, minutes in arrivals:
        receipts.record_receipt(_receipt(sent.provider_message_id, status, minutes), deps, NOON_ATLANTA)
    recorded, answer = _deliveries(deps, sent.contact_id)
    assert [d["status"] for d in recorded] == [s.value for s, _ in arrivals]  # the trail keeps both
    assert (latest_delivery(answer["events"]) or {}).get("status") == shown
    assert deps.ledgers.get("local", "d-1").record(sent.contact_id).delivery.value == shown


def test_a_receipt_for_an_unknown_message_is_dropped(deps):
    _sent(deps)
    assert receipts.record_receipt(_receipt("no-such-id", DELIVERED, 1), deps, NOON_ATLANTA) is None
    assert [e for e in deps.ledgers.get("local", "d-1").outbox if e["type"] == EventType.DELIVERY] == []


def test_equal_instants_prefer_the_final_word_and_then_the_failure():
    at = NOON_ATLANTA
    assert supersedes(PERMANENT, at, (DELIVERED, at)) and not supersedes(DELIVERED, at, (PERMANENT, at))
    assert supersedes(DELIVERED, at, (TEMPORARY, at)) and not supersedes(TEMPORARY, at, (DELIVERED, at))
    assert not supersedes(DELIVERED, at, (DELIVERED, at))  # the same receipt again changes nothing


# -- counts ---------------------------------------------------------------------------------------------


def _record(delivery=None, result=Result.SENT):
    return ContactRecord(
        contact_id="ct_1", at=NOON_ATLANTA, channel=Channel.SMS, account_id="a-1", result=result, delivery=delivery
    )


def _capped(counts) -> PolicySet:
    rule = {"id": "xx/one", "kind": "frequency", "limit": 1, "period": "calendar_day", "key": "person"}
    return build_policy_set({"xx.yaml": pack_with({**rule, "counts": counts})})


def test_a_permanent_failure_changes_no_count_by_itself():
    policies, later = _capped(["pending", "sent", "delivered", "unknown"]), NOON_ATLANTA + timedelta(hours=1)
    for delivery in (None, PERMANENT, DELIVERED):
        decision = evaluate(make_request(), [_record(delivery)], policies, later)
        assert decision.outcome is Outcome.DEFER, delivery  # the sent message counts, failed or not


def test_a_pack_may_count_only_delivered_messages_and_a_message_without_receipt_counts_as_delivered():
    policies, later = _capped(["delivered"]), NOON_ATLANTA + timedelta(hours=1)
    assert evaluate(make_request(), [_record(PERMANENT)], policies, later).outcome is Outcome.ALLOW
    assert evaluate(make_request(), [_record(None)], policies, later).outcome is Outcome.DEFER  # worst case
    assert evaluate(make_request(), [_record(TEMPORARY)], policies, later).outcome is Outcome.DEFER
    assert evaluate(make_request(), [_record(DELIVERED)], policies, later).outcome is Outcome.DEFER


def test_a_pack_may_count_permanent_failures():
    policies, later = _capped(["permanent_failure"]), NOON_ATLANTA + timedelta(hours=1)
    assert evaluate(make_request(), [_record(PERMANENT)], policies, later).outcome is Outcome.DEFER
    assert evaluate(make_request(), [_record(DELIVERED)], policies, later).outcome is Outcome.ALLOW
    failed_before_leaving = _record(None, Result.FAILED)
    assert evaluate(make_request(), [failed_before_leaving], policies, later).outcome is Outcome.ALLOW


def test_a_what_if_history_may_say_a_message_failed_for_good():
    from tools import whatif

    scenario = whatif.parse(
        {
            "at": "2026-03-02T18:00:00Z",
            "request": {
                "debtor_id": "d1",
                "account_id": "a1",
                "channel": "sms",
                "to": "+14045550100",
                "location": {"country": "US", "subdivision": "GA"},
                "message": {"body": "Your payment is overdue. Reply STOP to opt out."},
            },
            "history": [
                {"at": "2026-03-02T17:00:00Z", "channel": "sms", "account_id": "a1", "result": "sent"}
                | {"delivery": "permanent_failure"}
            ],
        }
    )
    assert scenario.history[0].delivery is PERMANENT
    assert whatif.judge(scenario, _capped(["delivered"])).outcome is Outcome.ALLOW
    assert whatif.judge(scenario, _capped(["permanent_failure"])).outcome is Outcome.DEFER
