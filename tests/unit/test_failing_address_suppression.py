"""An address that failed permanently N times within a window is suppressed (the ``delivery`` rule kind).

Repeated permanent failures say the address is wrong and may reach a third party (15 U.S.C. 1692c(b)); a
disclosure known to have failed gave no actual notice (12 CFR 1006.42(a)(1)).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.events import EventType
from chalicelib.domain.model import Channel, DeliveryStatus
from chalicelib.domain.policy import Pack, PolicySet
from chalicelib.domain.receipts import Receipt
from chalicelib.services import receipts, suppression
from chalicelib.services.contacts import submit_contact
from tests.fakes import unit_of_work
from tests.support import make_request, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
NUMBER = "+14045550100"
RULE = "house-test/failing-addresses"


@pytest.fixture
def house(policies: PolicySet) -> PolicySet:
    pack = Pack.model_validate(
        {
            "id": "house-test",
            "kind": "house",
            "title": "test house pack",
            "applies_to": {"countries": ["*"], "tenants": ["local"]},
            "retention_years": 0,
            "sources": [{"citation": "test", "confidence": "high"}],
            "rules": [
                {
                    "id": RULE,
                    "kind": "delivery",
                    "citation": "test",
                    "message": "a failing address is suppressed",
                    "permanent_failures": 3,
                    "window_days": 30,
                }
            ],
        }
    )
    return PolicySet(packs=(*policies.packs, pack), version="ps-test")


def _fail(deps, debtor, at, *, reject=False, provider_id=None):
    sent = submit_contact(make_request(debtor_id=debtor), deps, at)
    assert sent.status == "sent", sent.decision
    receipt = Receipt(
        Channel.SMS,
        provider_id or str(sent.provider_message_id),
        DeliveryStatus.PERMANENT_FAILURE,
        at + timedelta(minutes=1),
        "Invalid phone number",
        "test",
        address_fault=not reject,
    )
    return receipts.record_receipt(receipt, deps, at + timedelta(minutes=2))


def _address(deps):
    return deps.ledgers.get("local", suppression.address_key(NUMBER))


def test_three_permanent_failures_of_three_debtors_suppress_the_address_for_every_debtor(house):
    deps = unit_of_work(house)
    results = [_fail(deps, f"d-{n}", NOON_ATLANTA + timedelta(days=n)) for n in range(3)]
    assert [r.suppressed for r in results] == [False, False, True]
    (opt_out,) = _address(deps).preferences.opt_outs
    assert opt_out.source == "delivery-failures" and opt_out.channel is Channel.SMS and opt_out.address == NUMBER
    (event,) = [e for e in _address(deps).outbox if e["type"] == EventType.UNSUBSCRIBED]
    assert event["data"]["source"] == "delivery-failures" and event["data"]["rules"] == [RULE]
    assert event["data"]["permanent_failures"] == 3
    blocked = submit_contact(make_request(debtor_id="d-9"), deps, NOON_ATLANTA + timedelta(days=4))
    assert blocked.status == "blocked" and RULE in [r.rule for r in blocked.decision.reasons]


def test_failures_outside_the_window_do_not_count(house):
    deps = unit_of_work(house)
    for n, day in enumerate((0, 20, 40)):  # the first is 40 days before the third
        assert not _fail(deps, f"d-{n}", NOON_ATLANTA + timedelta(days=day)).suppressed
    assert _address(deps).preferences.opt_outs == ()


def test_one_message_failing_twice_counts_once_and_a_rejected_message_not_at_all(house):
    deps = unit_of_work(house)
    _fail(deps, "d-1", NOON_ATLANTA)
    again = Receipt(Channel.SMS, "sms-1", DeliveryStatus.PERMANENT_FAILURE, NOON_ATLANTA + timedelta(hours=1))
    receipts.record_receipt(again, deps, NOON_ATLANTA + timedelta(hours=1))  # a later report of the same message
    assert not _fail(deps, "d-2", NOON_ATLANTA + timedelta(days=1), reject=True).suppressed
    assert not _fail(deps, "d-3", NOON_ATLANTA + timedelta(days=2)).suppressed
    assert _address(deps).preferences.opt_outs == ()


def test_without_a_delivery_rule_failures_are_recorded_but_suppress_nothing(policies):
    deps = unit_of_work(policies)
    for n in range(4):
        result = _fail(deps, f"d-{n}", NOON_ATLANTA + timedelta(days=n))
        assert result.recorded and not result.suppressed
    assert _address(deps).preferences.opt_outs == ()
