"""Use cases of the contact path: submit, evaluate, read, record a call's outcome.

Every submit follows gather -> decide -> commit -> act -> record. Nothing is sent before the
decision and its reservation are committed in the ledger, so there is never an unaudited send.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import engine
from chalicelib.domain.audit import Draft, EventType
from chalicelib.domain.errors import (
    ConflictError,
    DeliveryError,
    DeliveryOutcomeUnknownError,
    DuplicateContactError,
    NotFoundError,
    PermanentDeliveryError,
    StorageUnavailableError,
)
from chalicelib.domain.ledger import MAX_DEFERRED, Deferred, Ledger
from chalicelib.domain.model import (
    Channel,
    ContactRecord,
    ContactRequest,
    Decision,
    OnBlocked,
    Outcome,
    Reason,
    Result,
    Status,
)
from chalicelib.domain.policy import PolicySet
from chalicelib.services import ids
from chalicelib.services.ports import AuditLog, EmailSender, LedgerRepository, SmsSender

logger = logging.getLogger(__name__)

MAX_COMMIT_ATTEMPTS = 30  # with jittered backoff: ~2 s of contention before giving up
RETRY_DELAY = timedelta(minutes=5)
MAX_DELIVERY_ATTEMPTS = 3
TOO_MANY_DEFERRED = Reason(
    rule="gateway/deferred-limit",
    citation="house rule: bounded ledger",
    message=f"the person already has {MAX_DEFERRED} deferred contacts",
)


@dataclass
class Deps:
    ledgers: LedgerRepository
    audit: AuditLog
    sms: SmsSender
    email: EmailSender
    policies: PolicySet
    new_id: Callable[[str, datetime], str] = field(default=ids.new_contact_id)
    sleep: Callable[[float], None] = field(default=time.sleep)


def _backoff(deps: Deps, attempt: int) -> None:
    """Jittered exponential backoff after a version conflict, so contenders spread out."""
    deps.sleep(random.uniform(0, min(0.25, 0.004 * 2**attempt)))


@dataclass(frozen=True)
class ContactResult:
    contact_id: str
    status: Status
    decision: Decision
    provider_message_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "contact_id": self.contact_id,
            "status": self.status.value,
            "decision": decision_json(self.decision),
            "policy_version": self.decision.policy_version,
        }
        if self.provider_message_id:
            body["provider_message_id"] = self.provider_message_id
        return body


def decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "outcome": decision.outcome.value,
        "not_before": decision.not_before.isoformat().replace("+00:00", "Z") if decision.not_before else None,
        "reasons": [r.model_dump() for r in decision.reasons],
    }


def _status(request: ContactRequest, decision: Decision, ledger: Ledger, contact_id: str) -> tuple[Status, Decision]:
    if request.channel is Channel.VOICE:
        return (Status.PERMITTED if decision.outcome is Outcome.ALLOW else Status.REFUSED), decision
    if decision.outcome is Outcome.ALLOW:
        return Status.SENT, decision  # provisional: the send decides sent / failed / unknown
    if decision.outcome is Outcome.DEFER and request.on_blocked is OnBlocked.DEFER:
        if len(ledger.deferred) >= MAX_DEFERRED and ledger.deferral(contact_id) is None:
            blocked = decision.model_copy(update={"reasons": (*decision.reasons, TOO_MANY_DEFERRED)})
            return Status.BLOCKED, blocked
        return Status.SCHEDULED, decision
    return Status.BLOCKED, decision


def _decision_data(request: ContactRequest, decision: Decision, trigger: str) -> dict[str, Any]:
    return {
        "trigger": trigger,
        "account_id": request.account_id,
        "channel": request.channel.value,
        "agency": request.agency,
        **decision_json(decision),
        "policy_version": decision.policy_version,
        "inputs": decision.inputs,
    }


def request_data(request: ContactRequest) -> dict[str, Any]:
    return request.model_dump(mode="json", exclude={"tenant"})


@dataclass(frozen=True)
class _Attempt:
    """One contact being handled: who, which id, how many deliveries already failed."""

    request: ContactRequest
    contact_id: str
    deliveries_failed: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return self.request.tenant, self.request.debtor_id


def _plan(
    attempt: _Attempt, ledger: Ledger, deps: Deps, now: datetime, trigger: str
) -> tuple[Ledger, Status, Decision]:
    request, contact_id = attempt.request, attempt.contact_id
    history = [r for r in ledger.history if r.contact_id != contact_id]
    decision = engine.evaluate(request, history, deps.policies, now, ledger.preferences)
    status, decision = _status(request, decision, ledger, contact_id)
    drafts = [Draft(EventType.REQUESTED, contact_id, request_data(request))] if trigger == "api" else []
    drafts.append(Draft(EventType.DECIDED, contact_id, _decision_data(request, decision, trigger)))
    new = ledger.without_deferred(contact_id).pruned(now, deps.policies.longest_window_days)
    if decision.outcome is Outcome.ALLOW:
        result = Result.PLACED if request.channel is Channel.VOICE else Result.PENDING
        new = new.with_record(
            ContactRecord(
                contact_id=contact_id,
                at=now,
                channel=request.channel,
                account_id=request.account_id,
                to=request.to,
                result=result,
                agency=request.agency,
                recipient_role=request.recipient_role,
            )
        )
    if status is Status.SCHEDULED:
        not_before = decision.not_before or now
        new = new.with_deferred(Deferred(contact_id, request, not_before, attempt.deliveries_failed))
    if status is not Status.SENT:
        drafts.append(Draft(status.value, contact_id, {"not_before": decision_json(decision)["not_before"]}))
    new, _events = new.append(drafts, now)
    return new, status, decision


def commit_ledger(deps: Deps, new: Ledger, expected_version: int) -> None:
    """A conditional write; a conflict is real only if the stored ledger is not this very commit
    (botocore may retry a write that did apply, and the retry then fails its own condition)."""
    new = replace(new, commit_id=secrets.token_hex(8))
    try:
        deps.ledgers.commit(new, expected_version)
    except ConflictError:
        if deps.ledgers.get(new.tenant, new.debtor_id).commit_id != new.commit_id:
            raise


def _commit(ledger: Ledger, new: Ledger, deps: Deps, now: datetime) -> frozenset[int]:
    """Commit, then append the new events; returns the sequence numbers known to be appended."""
    commit_ledger(deps, new, ledger.version)
    events = new.outbox[len(ledger.outbox) :]
    try:
        deps.audit.append(list(events))
    except StorageUnavailableError:
        # The ledger holds them: the sweep appends them later. Nothing is lost.
        logger.warning("audit append left to the sweep: %d events", len(events))
        return frozenset()
    return frozenset(e["seq"] for e in events)


def submit_contact(
    request: ContactRequest,
    deps: Deps,
    now: datetime,
    *,
    contact_id: str | None = None,
    trigger: str = "api",
) -> ContactResult | None:
    """Decide, reserve atomically, then send. ``None`` when a deferred contact was taken by another run."""
    contact_id = contact_id or deps.new_id(request.debtor_id, now)
    try:
        return _submit(request, deps, now, contact_id, trigger)
    except StorageUnavailableError as exc:
        _record_incident(request, deps, now, contact_id, trigger, exc)
        raise


def _record_incident(
    request: ContactRequest,
    deps: Deps,
    now: datetime,
    contact_id: str,
    trigger: str,
    exc: Exception,
    events: list[Draft] | None = None,
) -> None:
    """Keep an attempt that could not be committed, with its reason (and the events it could not record)."""
    data: dict[str, Any] = {
        "contact_id": contact_id,
        "trigger": trigger,
        "reason": str(exc),
        "request": request_data(request),
    }
    if events:
        data["unrecorded_events"] = [{"type": d.type, "data": d.data} for d in events]
    try:
        deps.audit.record_incident(request.tenant, request.debtor_id, now, data)
    except StorageUnavailableError:
        logger.error("incident not stored: %s", exc)  # the log line is then the only record


def _submit(request: ContactRequest, deps: Deps, now: datetime, contact_id: str, trigger: str) -> ContactResult | None:
    for attempt_no in range(MAX_COMMIT_ATTEMPTS):
        ledger = deps.ledgers.get(request.tenant, request.debtor_id)
        deferral = ledger.deferral(contact_id)
        if trigger == "dispatcher" and deferral is None:
            return None
        if trigger == "api" and _known(ledger, contact_id):
            raise DuplicateContactError(contact_id)
        attempt = _Attempt(request, contact_id, deferral.attempts if deferral else 0)
        new, status, decision = _plan(attempt, ledger, deps, now, trigger)
        try:
            appended = _commit(ledger, new, deps, now)
        except ConflictError:
            _backoff(deps, attempt_no)
            continue
        if status is Status.SENT:
            return _deliver(attempt, decision, deps, now, appended)
        return ContactResult(contact_id, status, decision)
    raise StorageUnavailableError("the person's ledger stayed contended; nothing was sent")


def _known(ledger: Ledger, contact_id: str) -> bool:
    return bool(
        ledger.record(contact_id)
        or ledger.deferral(contact_id)
        or any(e["contact_id"] == contact_id for e in ledger.outbox)
    )


def _send(request: ContactRequest, deps: Deps) -> str:
    message = request.message
    if message is None:
        raise PermanentDeliveryError("MessageMissing", "no message to send")
    if request.channel is Channel.SMS:
        return deps.sms.send_sms(to=request.to, body=message.body)
    return deps.email.send_email(to=request.to, subject=message.subject or "", body=message.body)


def _deliver(
    attempt: _Attempt, decision: Decision, deps: Deps, now: datetime, appended: frozenset[int]
) -> ContactResult:
    contact_id = attempt.contact_id
    try:
        provider_id = _send(attempt.request, deps)
    except DeliveryOutcomeUnknownError as exc:
        # It may have left: keep counting it, never send it again automatically.
        data = {"error_code": exc.code, "retryable": False}
        _settle(
            attempt,
            deps,
            now,
            [Draft(EventType.UNKNOWN, contact_id, data)],
            lambda led: led.with_result(contact_id, Result.UNKNOWN),
            appended,
        )
        return ContactResult(contact_id, Status.UNKNOWN, decision)
    except DeliveryError as exc:
        return _failed(attempt, decision, deps, now, exc, appended)
    _settle(
        attempt,
        deps,
        now,
        [Draft(EventType.SENT, contact_id, {"provider_message_id": provider_id})],
        lambda led: led.with_result(contact_id, Result.SENT),
        appended,
    )
    return ContactResult(contact_id, Status.SENT, decision, provider_id)


def _failed(
    attempt: _Attempt, decision: Decision, deps: Deps, now: datetime, exc: DeliveryError, appended: frozenset[int]
) -> ContactResult:
    """The provider certainly did not send it: a retryable error is tried again later, a bounded number of times."""
    contact_id, failures = attempt.contact_id, attempt.deliveries_failed + 1
    retry = not isinstance(exc, PermanentDeliveryError) and failures < MAX_DELIVERY_ATTEMPTS
    data = {"error_code": exc.code, "retryable": retry, "delivery_attempt": failures}
    drafts = [Draft(EventType.FAILED, contact_id, data)]
    retry_at = now + RETRY_DELAY
    if retry:
        drafts.append(
            Draft(
                EventType.SCHEDULED,
                contact_id,
                {"not_before": decision_json(decision.model_copy(update={"not_before": retry_at}))["not_before"]},
            )
        )

    def mutate(led: Ledger) -> Ledger:
        led = led.with_result(contact_id, Result.FAILED)
        return led.with_deferred(Deferred(contact_id, attempt.request, retry_at, failures)) if retry else led

    settled = _settle(attempt, deps, now, drafts, mutate, appended)
    # Scheduled only if the retry really is in the ledger; otherwise it is over, and says so.
    return ContactResult(contact_id, Status.SCHEDULED if retry and settled else Status.FAILED, decision)


def _settle(
    attempt: _Attempt,
    deps: Deps,
    now: datetime,
    drafts: list[Draft],
    mutate: Callable[[Ledger], Ledger],
    appended: frozenset[int],
) -> bool:
    """Record what the provider did. The send is over by now, so this never raises: a client told
    "failed" after a send would retry and send twice. What cannot be committed is kept as an incident."""
    try:
        record_change(attempt.key, deps, now, drafts, mutate, appended)
    except StorageUnavailableError as exc:
        _record_incident(attempt.request, deps, now, attempt.contact_id, "settle", exc, drafts)
        return False
    return True


def record_change(
    key: tuple[str, str],
    deps: Deps,
    now: datetime,
    drafts: list[Draft] | Callable[[Ledger, Ledger], list[Draft]],
    mutate: Callable[[Ledger], Ledger],
    appended: frozenset[int] = frozenset(),
) -> Ledger:
    """Commit a change that needs no new decision (a send's result, a call's outcome, a preference).

    ``drafts`` may be a function of the ledger read and the changed one, re-run on every retry.
    """
    for attempt_no in range(MAX_COMMIT_ATTEMPTS):
        ledger = deps.ledgers.get(*key)
        changed = mutate(ledger)
        events = drafts(ledger, changed) if callable(drafts) else drafts
        new, _events = changed.without_outbox(appended).append(events, now)
        try:
            _commit(ledger.without_outbox(appended), new, deps, now)
        except ConflictError:
            _backoff(deps, attempt_no)
            continue
        return new
    raise StorageUnavailableError("the person's ledger stayed contended")


def evaluate_contact(request: ContactRequest, deps: Deps, at: datetime) -> Decision:
    """What-if on stored history: the decision at ``at``, nothing written."""
    ledger = deps.ledgers.get(request.tenant, request.debtor_id)
    return engine.evaluate(request, ledger.history, deps.policies, at, ledger.preferences)


def get_contact(tenant: str, contact_id: str, deps: Deps) -> dict[str, Any]:
    debtor_id = ids.debtor_of(contact_id)
    ledger = deps.ledgers.get(tenant, debtor_id)
    stored = {e["seq"]: e for e in deps.audit.for_contact(tenant, contact_id)}
    stored.update({e["seq"]: e for e in ledger.outbox if e["contact_id"] == contact_id})
    events = [stored[s] for s in sorted(stored)]
    if not events:
        raise NotFoundError(contact_id)
    return {"contact_id": contact_id, "debtor_id": debtor_id, "status": _current_status(events), "events": events}


_STATUS_EVENTS = {s.value for s in Status}


def _current_status(events: list[dict[str, Any]]) -> str:
    statuses = [e["type"] for e in events if e["type"] in _STATUS_EVENTS]
    return statuses[-1] if statuses else "received"
