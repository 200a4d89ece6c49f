"""Pacing over moto: SNS throttles injected by error code (tools/local/faults.py) reschedule a contact to the
channel's next slot, through the dispatch queue, however often they come; it leaves once (docs/decisions/0017)."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.domain.events import Status
from chalicelib.domain.model import Channel, Result
from chalicelib.services import dispatch
from chalicelib.services.contacts import submit_contact
from tests.integration.aws import sent_sms
from tests.support import TENANT, make_request, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


def queued(gateway) -> int:
    """Messages on the dispatch queue, delayed or visible."""
    url = gateway.clients.sqs.get_queue_url(QueueName=gateway.settings.dispatch_queue)["QueueUrl"]
    attributes = gateway.clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessagesDelayed"]) + int(attributes["ApproximateNumberOfMessages"])


def test_pacing_under_a_provider_throttle(gateway, faults) -> None:
    gateway.pacing.rates = {Channel.SMS: 1.0}
    gateway.now = lambda: NOON_ATLANTA  # the wake-up's delay is counted on the test's clock
    faults.add("throttle", "sns", "Publish", times=4)  # more throttles than the three delivery attempts
    result = submit_contact(make_request(debtor_id="d-t"), gateway.deps, NOON_ATLANTA)
    assert result is not None and result.status is Status.SCHEDULED and result.error_code == "Throttling"
    at = NOON_ATLANTA
    for _ in range(3):
        (deferral,) = gateway.deps.ledgers.get(TENANT, "d-t").deferred
        assert deferral.paced and deferral.deliveries_failed == 0
        assert timedelta(seconds=1) <= deferral.not_before - at <= timedelta(seconds=5)  # the next slot
        assert dispatch.dispatch_due(gateway.deps, deferral.not_before - timedelta(milliseconds=1)).dispatched == 0
        at = deferral.not_before
        dispatch.dispatch_due(gateway.deps, at)
    assert faults.injected == {"throttle sns.Publish": 4} and sent_sms() == []
    (deferral,) = gateway.deps.ledgers.get(TENANT, "d-t").deferred
    dispatch.dispatch_due(gateway.deps, deferral.not_before)
    assert len(sent_sms()) == 1
    for minutes in (1, 10, 60):  # nothing sends it again
        dispatch.run_dispatcher(gateway.deps, deferral.not_before + timedelta(minutes=minutes))
    assert len(sent_sms()) == 1
    ledger = gateway.deps.ledgers.get(TENANT, "d-t")
    assert ledger.deferred == () and [r.result for r in ledger.history] == [Result.SENT]
    types = [e["type"] for e in gateway.audit.for_person(TENANT, "d-t")]
    assert types.count("failed") == 4 and types.count("scheduled") == 4 and types[-1] == "sent"
    assert queued(gateway) == 4  # each reschedule was put on the dispatch queue, delayed until its slot


def test_a_paced_contact_is_woken_on_the_dispatch_queue_at_its_slot(gateway) -> None:
    gateway.pacing.rates = {Channel.SMS: 0.5}
    gateway.now = lambda: NOON_ATLANTA
    submit_contact(make_request(debtor_id="d-a"), gateway.deps, NOON_ATLANTA)
    paced = submit_contact(make_request(debtor_id="d-b"), gateway.deps, NOON_ATLANTA)
    assert paced is not None and paced.status is Status.SCHEDULED
    assert queued(gateway) == 1
