"""Provider pacing: a herd leaves at the deployment's (or its tenant's) rate, through the dispatcher's own
deferral path; paced and throttled contacts are rescheduled, never lost, never sent twice, never early."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.errors import ThrottledDeliveryError
from chalicelib.domain.events import Status
from chalicelib.domain.model import Channel, Result
from chalicelib.domain.pacing import PACED, shards_for
from chalicelib.services import dispatch
from chalicelib.services.contacts import submit_contact
from chalicelib.services.pacing import SETTINGS_TTL, Pacing
from chalicelib.services.unit_of_work import UnitOfWork
from tests.fakes import InMemoryPacer, InMemorySettingsStore, RecordingQueue, RecordingSmsSender
from tests.support import EIGHT_ATLANTA, HERD, NIGHT_ATLANTA, TENANT, herd, make_request, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
RATE = 10.0


class ThrottlingSmsSender(RecordingSmsSender):
    """An SNS whose real quota is ``limit`` texts a second of ``clock``: above it, ``Throttling``."""

    def __init__(self, clock: list[datetime], limit: int) -> None:
        super().__init__()
        self.clock, self.limit = clock, limit
        self.per_second: Counter[datetime] = Counter()
        self.throttled = 0

    def send_sms(self, *, to: str, body: str) -> str:
        second = self.clock[0].replace(microsecond=0)
        if self.per_second[second] >= self.limit:
            self.throttled += 1
            raise ThrottledDeliveryError("Throttling")
        self.per_second[second] += 1
        return super().send_sms(to=to, body=body)


def paced(deps: UnitOfWork, rate: float = RATE, store: InMemorySettingsStore | None = None) -> Pacing:
    deps.pacing = Pacing(InMemoryPacer(), store or InMemorySettingsStore(), {Channel.SMS: rate}, shards=1)
    return deps.pacing


def run(deps: UnitOfWork, queue: RecordingQueue, clock: list[datetime], seconds: int) -> None:
    """The platform on the test's clock: a tick a minute (from 30 s before 08:00), the queue's messages as
    they become visible, a second at a time; a paced contact's wake-up goes on the same queue."""
    deps.wake = lambda tenant, debtor_id, at: dispatch.wake(queue, tenant, debtor_id, at, queue.now)
    start = EIGHT_ATLANTA - timedelta(seconds=30)
    for step in range(seconds):
        clock[0] = queue.now = start + timedelta(seconds=step)
        if step % 60 == 0:
            dispatch.tick(deps, queue, queue.now)
        for _visible, message in queue.receive(queue.now):
            dispatch.handle_message(message, deps, queue, queue.now)


def sent_records(deps: UnitOfWork, debtors: list[str]) -> list[Any]:
    records = []
    for debtor in debtors:
        ledger = deps.ledgers.get(TENANT, debtor)
        assert ledger.deferred == (), debtor  # nothing left behind
        records += [r for r in ledger.history if r.result is Result.SENT]
    return records


def test_a_herd_is_paced_at_the_deployment_rate_sent_once_each_and_never_early(deps) -> None:
    debtors, queue, clock = herd(deps), RecordingQueue(NIGHT_ATLANTA), [EIGHT_ATLANTA]
    paced(deps)
    run(deps, queue, clock, seconds=30 + int(HERD / RATE) + 10)

    records = sent_records(deps, debtors)
    assert len(records) == HERD and Counter(m["to"] for m in deps.sms.sent).most_common(1)[0][1] == 1
    assert min(r.at for r in records) >= EIGHT_ATLANTA
    per_second = Counter(r.at.replace(microsecond=0) for r in records)
    assert max(per_second.values()) <= RATE + 1  # a slot on a second's edge may be sent at its start
    assert max(r.at for r in records) - EIGHT_ATLANTA <= timedelta(seconds=HERD / RATE + 2)


def test_pacing_under_a_provider_throttle(deps: UnitOfWork) -> None:
    # The provider's real quota (4/s) is below the configured rate (10/s): throttles are rescheduled to the
    # channel's next slots however often they come, never failed, never lost, never sent twice or early.
    debtors, queue, clock = herd(deps), RecordingQueue(NIGHT_ATLANTA), [EIGHT_ATLANTA]
    deps.sms = provider = ThrottlingSmsSender(clock, limit=4)
    paced(deps)
    run(deps, queue, clock, seconds=30 + HERD + 60)

    assert provider.throttled > 0
    records = sent_records(deps, debtors)
    assert len(records) == HERD == len(provider.sent)
    assert Counter(m["to"] for m in provider.sent).most_common(1)[0][1] == 1
    assert min(r.at for r in records) >= EIGHT_ATLANTA
    events = [e for d in debtors for e in deps.audit.for_person(TENANT, d)]
    throttles = [e for e in events if e["type"] == "failed"]
    assert throttles and all(e["data"]["throttled"] and e["data"]["retryable"] for e in throttles)
    assert not [e for e in events if e["type"] in ("unknown", "blocked")]
    for throttle in throttles:  # each throttle rescheduled, to a slot, not five minutes away
        person = deps.audit.for_person(TENANT, throttle["debtor_id"])
        scheduled = next(e for e in person if e["seq"] == throttle["seq"] + 1)
        assert scheduled["type"] == "scheduled"
        wait = datetime.fromisoformat(scheduled["data"]["not_before"]) - datetime.fromisoformat(throttle["at"])
        assert timedelta(seconds=1) <= wait < timedelta(minutes=1)


def test_a_throttle_without_pacing_is_retried_later_and_never_counts_toward_the_attempt_bound(deps) -> None:
    deps.sms.fail_with = ThrottledDeliveryError("Throttling")
    first = submit_contact(make_request(), deps, NOON_ATLANTA)
    assert first is not None and first.status is Status.SCHEDULED
    at = NOON_ATLANTA
    for _ in range(5):  # more throttles than MAX_DELIVERIES: still rescheduled each time
        at += timedelta(minutes=6)
        dispatch.dispatch_due(deps, at)
        (deferral,) = deps.ledgers.get(TENANT, "d-1").deferred
        assert deferral.deliveries_failed == 0 and deferral.not_before == at + timedelta(minutes=5)
    deps.sms.fail_with = None
    dispatch.dispatch_due(deps, at + timedelta(minutes=6))
    assert len(deps.sms.sent) == 1 and deps.ledgers.get(TENANT, "d-1").deferred == ()


def test_a_contact_over_the_rate_is_scheduled_to_its_slot_whatever_on_blocked_says(deps) -> None:
    paced(deps, rate=1.0)
    woken: list[tuple[str, str, datetime]] = []
    deps.wake = lambda tenant, debtor_id, at: woken.append((tenant, debtor_id, at))
    results = [
        submit_contact(make_request(debtor_id=f"d-{i}", on_blocked="reject"), deps, NOON_ATLANTA) for i in range(3)
    ]
    assert [r.status for r in results if r] == [Status.SENT, Status.SENT, Status.SCHEDULED]  # the 2nd waited 1 s
    last = results[2]
    assert last is not None and last.decision.not_before == NOON_ATLANTA + timedelta(seconds=2)
    assert PACED in last.decision.reasons and last.decision.outcome.value == "defer"
    assert woken == [(TENANT, "d-2", NOON_ATLANTA + timedelta(seconds=2))]
    (deferral,) = deps.ledgers.get(TENANT, "d-2").deferred
    assert deferral.paced
    # At its slot it keeps it: no second slot is taken, it is sent.
    taken = len(deps.pacing.pacer.taken["@pace#sms#0"])  # type: ignore[union-attr]
    dispatch.dispatch_due(deps, NOON_ATLANTA + timedelta(seconds=2))
    assert len(deps.sms.sent) == 3 and len(deps.pacing.pacer.taken["@pace#sms#0"]) == taken  # type: ignore[union-attr]


def test_a_contact_found_long_after_its_slot_queues_again(deps) -> None:
    paced(deps, rate=1.0)
    for i in range(3):
        submit_contact(make_request(debtor_id=f"d-{i}"), deps, NOON_ATLANTA)
    late = NOON_ATLANTA + timedelta(minutes=3)
    for _ in range(3):  # others took the next three seconds' slots
        deps.pacing.pacer.take("@pace#sms#0", 1.0, late.timestamp())  # type: ignore[union-attr]
    dispatch.dispatch_due(deps, late)
    (deferral,) = deps.ledgers.get(TENANT, "d-2").deferred
    assert deferral.paced and deferral.not_before == late + timedelta(seconds=3)
    assert len(deps.sms.sent) == 2


def test_a_tenants_own_rate_paces_it_below_the_deployments(deps: UnitOfWork) -> None:
    store = InMemorySettingsStore()
    store.put(TENANT, {"sms_rate_per_second": 0.5}, 0)
    pacing = paced(deps, rate=100.0, store=store)
    results = [submit_contact(make_request(debtor_id=f"d-{i}"), deps, NOON_ATLANTA) for i in range(2)]
    assert [r.status for r in results if r] == [Status.SENT, Status.SCHEDULED]
    assert results[1] is not None and results[1].decision.not_before == NOON_ATLANTA + timedelta(seconds=2)
    assert pacing.pacer.taken[f"@pace#sms@{TENANT}"]  # type: ignore[attr-defined]
    other = submit_contact(make_request(tenant="other", debtor_id="d-9"), deps, NOON_ATLANTA)
    assert other is not None and other.status is Status.SENT  # another tenant is not held back by it


def test_a_tenants_settings_are_read_once_a_minute_per_instance(deps: UnitOfWork) -> None:
    store = InMemorySettingsStore()
    pacing = paced(deps, store=store)
    for second in range(3):
        pacing.tenant(TENANT, NOON_ATLANTA + timedelta(seconds=second))
    assert store.reads == 1
    pacing.tenant(TENANT, NOON_ATLANTA + SETTINGS_TTL)
    assert store.reads == 2


def test_voice_and_unpaced_channels_take_no_slot(deps: UnitOfWork) -> None:
    pacing = paced(deps)
    submit_contact(make_request(channel="email", to="debtor@example.com"), deps, NOON_ATLANTA)
    submit_contact(make_request(debtor_id="d-2", channel="voice", message=None), deps, NOON_ATLANTA)
    assert pacing.pacer.taken == {}  # type: ignore[attr-defined]


@pytest.mark.parametrize(("rate", "shards"), [(0.5, 1), (1, 1), (5, 5), (20, 8), (5000, 8)])
def test_a_deployment_rate_is_spread_over_at_most_one_counter_per_slot_a_second(rate: float, shards: int) -> None:
    assert shards_for(rate, 8) == shards
