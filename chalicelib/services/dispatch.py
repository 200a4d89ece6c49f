"""The dispatcher: sends deferred contacts once due, and repairs the audit table from ledgers."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.audit import Draft
from chalicelib.domain.events import AuditEvent, EventType
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.model import ContactRecord, Result
from chalicelib.domain.ports import Queue
from chalicelib.services import appender
from chalicelib.services.contacts import submit_contact
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.services.writes import record_change

NO_OUTCOME = "NoOutcomeRecorded"  # the error code of a reservation settled as unknown
NO_CALL_OUTCOME = "NoCallOutcomeReported"  # a permitted call whose outcome did not come by its deadline

logger = logging.getLogger(__name__)

SWEEP_GRACE = timedelta(seconds=30)


@dataclass
class DispatchReport:
    dispatched: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    repaired_events: int = 0
    errors: int = 0
    settled_unknown: int = 0  # reservations whose sender died before recording the provider's answer
    enqueued: int = 0  # people a shard message put on the queue
    lag_seconds: float = 0.0  # how late the latest-sent of the due contacts this run handled went out


def dispatch_due(deps: UnitOfWork, now: datetime, limit: int = 200) -> DispatchReport:
    """Re-run every due deferred contact through the same submit path (policies or consent may have changed).

    One person's failure is logged and counted, never allowed to stop everyone else's contacts.
    """
    report = DispatchReport()
    for tenant, debtor_id in deps.ledgers.due(now, limit):
        try:
            _dispatch_person(deps, tenant, debtor_id, now, report)
        except Exception:  # noqa: BLE001 - the contact stays deferred; the next run tries again
            logger.exception("dispatch failed for one person; their contacts stay deferred")
            report.errors += 1
    return report


def _dispatch_person(
    deps: UnitOfWork, tenant: str, debtor_id: str, now: datetime, report: DispatchReport
) -> datetime | None:
    """Settle what is past its deadline and send what is due; when nothing of the person was due yet, the
    instant it will be (from the ledger already read: the caller puts the person back without reading again)."""
    ledger = deps.ledgers.get(tenant, debtor_id)
    if ledger.next_due is not None and ledger.next_due > now:
        return ledger.next_due
    if ledger.unsettled(now):  # first: a failing send below must not keep them unsettled
        report.settled_unknown += _settle_unsettled(deps, tenant, debtor_id, now)
    for item in [d for d in ledger.deferred if d.not_before <= now]:
        result = submit_contact(item.request, deps, now, contact_id=item.contact_id, trigger="dispatcher")
        if result is not None:
            report.dispatched += 1
            report.lag_seconds = max(report.lag_seconds, (now - item.not_before).total_seconds())
            report.statuses[result.status.value] = report.statuses.get(result.status.value, 0) + 1
    return None


def _settled_data(record: ContactRecord) -> dict[str, Any]:
    if record.result is Result.PLACED:  # the dialer never reported what became of a permitted call
        due = (record.outcome_due or record.at).isoformat()
        return {"error_code": NO_CALL_OUTCOME, "retryable": False, "outcome_due": due, "counts_as": "worst case"}
    return {"error_code": NO_OUTCOME, "retryable": False}


def _settle_unsettled(deps: UnitOfWork, tenant: str, debtor_id: str, now: datetime) -> int:
    """A reservation still pending long after its send began: its process died between committing the
    reservation and recording the provider's answer. The message may have left, so it becomes
    ``unknown``: it keeps counting toward caps and is never sent again (docs/decisions/0003)."""
    settled: list[str] = []

    def drafts(read: Ledger, _changed: Ledger) -> list[Draft]:
        # From the ledger this try read: a run that overlaps this one, or a late outcome, leaves nothing to do.
        stale = read.unsettled(now)
        settled[:] = [r.contact_id for r in stale]
        return [Draft(EventType.UNKNOWN, r.contact_id, _settled_data(r), r.channel.value, r.account_id) for r in stale]

    def mutate(ledger: Ledger) -> Ledger:
        for record in ledger.unsettled(now):
            ledger = ledger.with_result(record.contact_id, Result.UNKNOWN)
        return ledger

    record_change((tenant, debtor_id), deps, now, drafts, mutate)
    return len(settled)


def sweep_audit(deps: UnitOfWork, now: datetime, limit: int = 200) -> int:
    """Append events that ledgers committed but the audit table lacks, then trim those outboxes."""
    repaired: list[AuditEvent] = []
    handled = 0
    for tenant, debtor_id in deps.ledgers.with_outbox(now - SWEEP_GRACE, limit):
        try:
            stored, count = _repair_person(deps, tenant, debtor_id)
        except Exception:  # noqa: BLE001 - the ledger keeps the events; the next sweep tries again
            logger.exception("audit repair failed for one person")
            continue
        repaired, handled = repaired + stored, handled + count
    appender.roll_up(repaired, deps.rollups)  # the events the stream missed count in the daily rollup too
    return handled


def unappended(deps: UnitOfWork, ledger: Ledger) -> list[AuditEvent]:
    """The events of ``ledger``'s outbox the audit table does not hold yet."""
    if not ledger.outbox:
        return []
    first = min(e["seq"] for e in ledger.outbox)
    present = {e["seq"] for e in deps.audit.for_person(ledger.tenant, ledger.debtor_id, after_seq=first - 1)}
    return [e for e in ledger.outbox if e["seq"] not in present]


def _repair_person(deps: UnitOfWork, tenant: str, debtor_id: str) -> tuple[list[AuditEvent], int]:
    """The events this sweep stored (inline mode), and how many it repaired or handed to the appender."""
    ledger = deps.ledgers.get(tenant, debtor_id)
    if not ledger.outbox:
        return [], 0
    if not deps.audit_inline:
        # The stream appender is the audit table's one writer: the ledger is handed to it again, and its
        # mark empties the outbox (and counts the rollup) as for any commit (docs/decisions/0029).
        deps.ledgers.redeliver(ledger)
        return [], len([e for e in ledger.outbox if e["seq"] > ledger.appended_seq])
    stored = deps.audit.append_new(unappended(deps, ledger))
    deps.ledgers.mark_appended(ledger, ledger.seq)  # the outbox holds every unappended event
    return stored, len(stored)


# --- the fan-out: the schedule enqueues the shards, SQS-triggered workers dispatch them in parallel --------

# A tick enqueues the people due from its own instant until the next tick (``interval``, a minute in AWS) and a
# margin for a late tick, each message delayed until due: a contact leaves seconds after its ``not_before``. Each
# due instant falls in one tick's window (two at the margins), so a backlog that outlasts a tick is not enqueued
# again by every later tick; what no window took (a lost message, a tick that never ran) is enqueued again once
# it is STRAGGLER overdue.
TICK = timedelta(minutes=1)
MARGIN = timedelta(seconds=15)
STRAGGLER = timedelta(minutes=2)  # a window's people not sent by then are enqueued once more, by one tick
ABANDONED = timedelta(minutes=15)  # past this, every tick takes them: a backlog this old is an incident
MAX_DELAY_SECONDS = 900  # SQS's own limit on a message's delay
PEOPLE_PER_MESSAGE = 10
SHARD_LIMIT = 10_000  # people of one shard a tick enqueues; the rest are found by the next tick


class DispatchIncompleteError(Exception):
    """Some messages of a delivery failed: SQS hands the delivery back (the handled ones are no-ops then)."""


def tick(deps: UnitOfWork, queue: Queue, now: datetime, interval: timedelta = TICK) -> int:
    """The schedule's whole work: one message per shard of the sparse indexes (and their key from before the
    sharding). Returns how many SQS took; a shard whose message it refused waits for the next tick."""
    shards: list[int | None] = [None, *range(deps.ledgers.shards)]
    window = {"at": now.isoformat(), "until": (now + interval + MARGIN).isoformat()}
    messages = [{"kind": "shard", "shard": shard, **window} for shard in shards]
    failed = queue.send_many(messages)
    if failed:
        logger.warning("%d shard messages not queued; the next tick takes them", len(failed))
    return len(messages) - len(failed)


def handle_message(message: dict[str, Any], deps: UnitOfWork, queue: Queue, now: datetime) -> DispatchReport:
    """One message of the dispatch queue. Any of them may come twice, or overlap another worker's: each
    contact is sent by a conditional commit on its person's ledger, once, and never before its time."""
    if message.get("kind") == "shard":
        return _enqueue_shard(message, deps, queue, now)
    report, early = DispatchReport(), []
    for tenant, debtor_id in message.get("people", []):
        try:
            due = _dispatch_person(deps, tenant, debtor_id, now, report)
            if due is not None:
                early.append((tenant, debtor_id, due))
        except Exception:  # noqa: BLE001 - the contact stays deferred; a later tick finds it again
            logger.exception("dispatch failed for one person; their contacts stay deferred")
            report.errors += 1
    if early:  # a message that came before its people were due: they go back, delayed until due
        _requeue(early, queue, now)
    return report


def wake(queue: Queue, tenant: str, debtor_id: str, at: datetime, now: datetime) -> None:
    """One person rescheduled to a near instant (a provider slot), on the queue delayed until then: the tick
    whose window held that instant may have looked already. Further away than SQS delays, the ticks find it."""
    _requeue([(tenant, debtor_id, at)], queue, now)


def _requeue(people: list[tuple[str, str, datetime]], queue: Queue, now: datetime) -> None:
    soon = [(t, d, at) for t, d, at in people if at <= now + timedelta(seconds=MAX_DELAY_SECONDS)]
    if soon:
        queue.send_many(
            [{"kind": "people", "people": [[t, d] for t, d, _at in soon]}], [_delay(max(a for *_, a in soon), now)]
        )


def _enqueue_shard(message: dict[str, Any], deps: UnitOfWork, queue: Queue, now: datetime) -> DispatchReport:
    """The people of one shard due in the tick's window (or straggling), ten a message, each message delayed
    until its last person is due; then the shard's ledgers whose events the audit table may lack are repaired."""
    shard = message.get("shard")
    at = datetime.fromisoformat(message["at"]) if "at" in message else now
    until = datetime.fromisoformat(message["until"]) if "until" in message else now + TICK + MARGIN
    found = deps.ledgers.shard_due(shard, until, SHARD_LIMIT)
    again = (at - STRAGGLER - (until - at), at - STRAGGLER)  # the window of the tick two minutes before
    due = [
        f
        for f in found
        if f[2] >= at or again[0] < f[2] <= again[1] or f[2] <= at - ABANDONED or "until" not in message
    ]
    groups = [due[i : i + PEOPLE_PER_MESSAGE] for i in range(0, len(due), PEOPLE_PER_MESSAGE)]
    messages = [{"kind": "people", "people": [[t, d] for t, d, _at in group]} for group in groups]
    delays = [_delay(max(at for _t, _d, at in group), now) for group in groups]
    failed = queue.send_many(messages, delays) if messages else []
    report = DispatchReport(enqueued=sum(len(g) for i, g in enumerate(groups) if i not in set(failed)))
    repaired: list[AuditEvent] = []
    for tenant, debtor_id in deps.ledgers.shard_with_outbox(shard, now - SWEEP_GRACE, 200):
        try:
            stored, count = _repair_person(deps, tenant, debtor_id)
        except Exception:  # noqa: BLE001 - the ledger keeps the events; the next tick tries again
            logger.exception("audit repair failed for one person")
            continue
        repaired += stored
        report.repaired_events += count
    appender.roll_up(repaired, deps.rollups)
    return report


def _delay(due: datetime, now: datetime) -> int:
    return max(0, min(MAX_DELAY_SECONDS, math.ceil((due - now).total_seconds())))


def run_dispatcher(deps: UnitOfWork, now: datetime) -> DispatchReport:
    # The sweep first: the mark it writes may put a send's reservation on ``due`` (docs/decisions/0016), and
    # this run then settles it instead of the next.
    repaired = sweep_audit(deps, now)
    report = dispatch_due(deps, now)
    report.repaired_events = repaired
    return report
