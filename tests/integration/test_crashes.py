"""A process that dies between any two steps of submit, dispatch, inbound and export, then what comes after
it (the client's retry, the queue's redelivery, the stream, the dispatcher a minute later): nothing sent
twice, nothing sent without its audit record, no deferred contact lost, no audit event lost.

Each flow runs once to list its AWS calls; then, for every call k, a fresh stack runs it again and dies
right after call k (``crash-after``: the call's effect is stored, nothing after it runs). The end state is
read from the tables and moto's sent lists, and the invariant checker must find nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Runtime
from chalicelib.domain.access import SHARED_SCOPE
from chalicelib.domain.errors import DuplicateContactError
from chalicelib.services import dispatch, exports, inbound
from chalicelib.services.contacts import submit_contact
from chalicelib.services.export_bundle import ExportSpec
from tests.integration.aws import GATEWAY_CLIENTS, stream_gateway
from tests.support import TENANT, make_request, utc
from tools import invariants
from tools.local.faults import Crash, FaultInjector
from tools.local.ledger_stream import LedgerStream
from tools.local.motoserver import sent_messages

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
NIGHT_ATLANTA = utc(2026, 3, 2, 7, 0)
CONTACT = "ct_crash_test_0001"  # what the client's Idempotency-Key gives, on every retry
NUMBER = "+14045550100"


@contextmanager
def crashable_stack(policies: Any) -> Iterator[tuple[Runtime, FaultInjector, LedgerStream]]:
    with stream_gateway(policies, "crash-test-key") as gateway:
        injector = FaultInjector()
        for name in GATEWAY_CLIENTS:
            injector.attach(getattr(gateway.clients, name))
        yield gateway, injector, LedgerStream(gateway)


def recover(gateway: Runtime, stream: LedgerStream, at: Any) -> None:
    """What the platform does next: the stream hands over what was committed, the dispatcher runs."""
    stream.drain()
    for minutes in (1, 16, 30):  # past the sweep's grace and the reservations' settling time
        dispatch.run_dispatcher(gateway.deps, at + timedelta(minutes=minutes))
        stream.drain()


def assert_invariants(gateway: Runtime, at: Any) -> None:
    sent = [invariants.SentMessage(**m) for m in sent_messages()]
    now = at + timedelta(hours=1)
    report = invariants.check_invariants(
        [TENANT, SHARED_SCOPE],
        at - timedelta(days=1),
        now,
        now,
        gateway.deps,
        sent,
        every_message=True,
    )
    assert report.violations == [], [v.to_json() for v in report.violations]


def texts_to(number: str) -> list[str]:
    return [m["body"] for m in sent_messages() if m["to"] == number]


def crash_points(policies: Any, setup: Callable[..., Any], flow: Callable[..., Any]) -> int:
    """How many AWS calls ``flow`` makes after ``setup``."""
    with crashable_stack(policies) as (gateway, injector, stream):
        state = setup(gateway, stream)
        injector.calls.clear()
        flow(gateway, state)
        return len(injector.calls)


def run_crashing(policies: Any, setup: Callable[..., Any], flow: Callable[..., Any], k: int) -> Any:
    """A fresh stack; ``flow`` dies right after its k-th call. Yields the stack for the checks."""
    gateway_stack = crashable_stack(policies)
    gateway, injector, stream = gateway_stack.__enter__()
    state = setup(gateway, stream)
    injector.add("crash-after", skip=k - 1, times=1)
    with pytest.raises(Crash):
        flow(gateway, state)
    injector.clear()
    return gateway_stack, gateway, stream, state


def _submit(gateway: Runtime, _state: Any) -> Any:
    return submit_contact(make_request(debtor_id="d-1"), gateway.deps, NOON_ATLANTA, contact_id=CONTACT)


def _nothing(_gateway: Runtime, _stream: LedgerStream) -> None:
    return None


# Checked below: read, the tenant's settings (read once a minute per function instance; pacing, decision 0017),
# commit, whom the number was texted about, Publish, the sent message kept for its receipts (decision 0030), outcome.
SUBMIT_CALLS = 7


def test_submit_lists_its_steps(policies) -> None:
    assert crash_points(policies, _nothing, _submit) == SUBMIT_CALLS


@pytest.mark.parametrize("k", range(1, SUBMIT_CALLS + 1))
def test_a_submit_that_dies_after_any_step(policies, k) -> None:
    gateway_stack, gateway, stream, _ = run_crashing(policies, _nothing, _submit, k)
    try:
        # The client saw no answer and retries with the same Idempotency-Key (the same contact id).
        try:
            retried = submit_contact(make_request(debtor_id="d-1"), gateway.deps, NOON_ATLANTA, contact_id=CONTACT)
        except DuplicateContactError:
            retried = None  # the first attempt's reservation stands: 409, the contact is that one
        recover(gateway, stream, NOON_ATLANTA)
        ledger = gateway.deps.ledgers.get(TENANT, "d-1")
        (record,) = [r for r in ledger.history if r.contact_id == CONTACT]
        if k in (1, 2):  # died before its reservation was committed: the retry is a first attempt
            assert retried is not None and record.result.value == "sent" and len(texts_to(NUMBER)) == 1
        elif k in (3, 4, 5, 6):
            # Died between the reservation and the outcome: nobody can tell whether the message left (after
            # calls 3 and 4 it had not, after calls 5 and 6 it had). The retry is refused (409, that contact), the
            # dispatcher settles the reservation as "unknown", it counts toward caps, and nothing resends it.
            assert retried is None and record.result.value == "unknown"
            assert len(texts_to(NUMBER)) == (1 if k >= 5 else 0)
        else:  # the outcome was stored: the retry is refused, the contact went out once
            assert retried is None and record.result.value == "sent" and len(texts_to(NUMBER)) == 1
        assert_invariants(gateway, NOON_ATLANTA)
    finally:
        gateway_stack.__exit__(None, None, None)


def _deferred(gateway: Runtime, stream: LedgerStream) -> Any:
    result = submit_contact(make_request(debtor_id="d-2"), gateway.deps, NIGHT_ATLANTA)
    stream.drain()
    assert result is not None and result.decision.not_before is not None
    return result.decision.not_before


def _dispatch(gateway: Runtime, due: Any) -> Any:
    return dispatch.run_dispatcher(gateway.deps, due + timedelta(seconds=30))


def test_a_dispatcher_run_that_dies_after_any_step(policies) -> None:
    calls = crash_points(policies, _deferred, _dispatch)
    assert calls >= 4
    for k in range(1, calls + 1):
        gateway_stack, gateway, stream, due = run_crashing(policies, _deferred, _dispatch, k)
        try:
            recover(gateway, stream, due)
            assert len(texts_to(NUMBER)) <= 1, k  # sent once at most
            ledger = gateway.deps.ledgers.get(TENANT, "d-2")
            assert not ledger.deferred, k  # not lost: handled by a later run
            assert [r.result.value for r in ledger.history] in (["sent"], ["unknown"]), k
            assert_invariants(gateway, due)
        finally:
            gateway_stack.__exit__(None, None, None)


def _stop(gateway: Runtime, _state: Any) -> Any:
    text = json.dumps({"originationNumber": NUMBER, "destinationNumber": "+18005550100", "messageBody": "STOP"})
    return inbound.handle_inbound_sms(inbound.parse_two_way_sms(text), SHARED_SCOPE, gateway.deps, NOON_ATLANTA)


def test_an_inbound_stop_that_dies_after_any_step(policies) -> None:
    calls = crash_points(policies, _nothing, _stop)
    for k in range(1, calls + 1):
        gateway_stack, gateway, stream, _ = run_crashing(policies, _nothing, _stop, k)
        try:
            _stop(gateway, None)  # SNS delivers it again after the failed invocation
            recover(gateway, stream, NOON_ATLANTA)
            assert len(texts_to(NUMBER)) <= 1, k  # one confirmation at most
            after = submit_contact(make_request(debtor_id="d-3"), gateway.deps, NOON_ATLANTA + timedelta(hours=1))
            assert after is not None and after.status.value == "blocked", k  # the STOP holds
            assert_invariants(gateway, NOON_ATLANTA)
        finally:
            gateway_stack.__exit__(None, None, None)


def _texted(gateway: Runtime, stream: LedgerStream) -> None:
    submit_contact(make_request(debtor_id="d-5"), gateway.deps, NOON_ATLANTA)
    stream.drain()


def _cease(gateway: Runtime, _state: Any) -> Any:
    text = json.dumps({"originationNumber": NUMBER, "destinationNumber": "+1800", "messageBody": "CEASE",
                       "inboundMessageId": "m-cease"})  # fmt: skip
    at = NOON_ATLANTA + timedelta(minutes=5)
    return inbound.handle_inbound_sms(inbound.parse_two_way_sms(text), SHARED_SCOPE, gateway.deps, at)


def test_an_inbound_cease_that_dies_after_any_step_binds_the_debtor_once_redelivered(policies) -> None:
    calls = crash_points(policies, _texted, _cease)
    for k in range(1, calls + 1):
        gateway_stack, gateway, stream, _ = run_crashing(policies, _texted, _cease, k)
        try:
            _cease(gateway, None)  # SNS delivers it again after the failed invocation
            _cease(gateway, None)  # and once more: nothing new
            recover(gateway, stream, NOON_ATLANTA)
            voice = make_request(debtor_id="d-5", channel="voice", message=None)
            after = submit_contact(voice, gateway.deps, NOON_ATLANTA + timedelta(hours=1))
            assert after is not None and after.status.value == "refused", k  # the cease holds
            changes = [e for e in gateway.deps.audit.for_person(TENANT, "d-5") if e["type"] == "preferences_changed"]
            assert len(changes) == 1, k
            assert_invariants(gateway, NOON_ATLANTA)
        finally:
            gateway_stack.__exit__(None, None, None)


def _exportable(gateway: Runtime, stream: LedgerStream) -> Any:
    submit_contact(make_request(debtor_id="d-4"), gateway.deps, NOON_ATLANTA)
    stream.drain()
    job = exports.request_export(TENANT, ExportSpec(debtor_id="d-4", formats=("jsonl",)), gateway.deps, NOON_ATLANTA)
    return job["export_id"]


def _export(gateway: Runtime, export_id: str) -> Any:
    return exports.run_export(TENANT, export_id, gateway.deps, lambda: NOON_ATLANTA + timedelta(minutes=1))


def test_an_export_that_dies_after_any_step(policies) -> None:
    calls = crash_points(policies, _exportable, _export)
    for k in range(1, calls + 1):
        gateway_stack, gateway, _stream, export_id = run_crashing(policies, _exportable, _export, k)
        try:
            job = _export(gateway, export_id)  # SQS redelivers the message after the visibility timeout
            assert job["status"] == "done", (k, job)
            assert job["counts"]["events"] >= 3
        finally:
            gateway_stack.__exit__(None, None, None)


def test_two_overlapping_runs_settle_a_dead_reservation_once(policies) -> None:
    gateway_stack, gateway, stream, _ = run_crashing(policies, _nothing, _submit, 3)  # died after reserving
    try:
        stream.drain()  # the stream hands the commit to the appender, whose mark puts the reservation on due
        later = NOON_ATLANTA + timedelta(minutes=20)
        first = dispatch.run_dispatcher(gateway.deps, later)
        second = dispatch.run_dispatcher(gateway.deps, later)  # a retried or duplicated schedule event
        assert (first.settled_unknown, second.settled_unknown) == (1, 0)
        ledger = gateway.deps.ledgers.get(TENANT, "d-1")
        unknowns = [e for e in ledger.outbox if e["type"] == "unknown"]
        stream.drain()
        stored = [e for e in gateway.audit.for_person(TENANT, "d-1") if e["type"] == "unknown"]
        assert len(unknowns) + len(stored) >= 1 and len(stored) == 1
        assert ledger.next_due is None  # nothing keeps the person due
    finally:
        gateway_stack.__exit__(None, None, None)
