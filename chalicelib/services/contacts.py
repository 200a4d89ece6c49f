"""Use cases of the contact path: submit, evaluate, read, record a call's outcome.

Every submit follows gather -> decide -> commit -> act -> record. Nothing is sent before the
decision and its reservation are committed in the ledger, so there is never an unaudited send.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import engine, replay
from chalicelib.domain.audit import Draft
from chalicelib.domain.errors import (
    ConflictError,
    DuplicateContactError,
    NotFoundError,
    StorageUnavailableError,
)
from chalicelib.domain.events import STATUS_TYPES, AuditEvent, EventType, Status
from chalicelib.domain.ledger import MAX_DEFERRED, Deferred, Ledger, reservation
from chalicelib.domain.model import Channel, ContactRequest, Decision, OnBlocked, Outcome, Reason
from chalicelib.domain.pacing import HELD_SLOT_GRACE, PACED, WAIT
from chalicelib.domain.preferences import OptOut
from chalicelib.domain.receipts import latest_delivery
from chalicelib.services import ids, recipients, suppression, template_contacts
from chalicelib.services.delivery import ContactResult, Handling, decision_json, deliver
from chalicelib.services.template_contacts import TemplateUse
from chalicelib.services.writes import (
    MAX_COMMIT_TRIES,
    UnitOfWork,
    backoff,
    commit_and_append,
    commit_ledger,
    record_change,
    record_incident,
    request_data,
)

__all__ = [
    "ContactResult",
    "commit_ledger",
    "decision_json",
    "evaluate_contact",
    "evaluation_json",
    "get_contact",
    "record_change",
    "submit_contact",
]

logger = logging.getLogger(__name__)

TOO_MANY_DEFERRED = Reason(
    rule="gateway/deferred-limit",
    citation="house rule: bounded ledger",
    message=f"the person already has {MAX_DEFERRED} deferred contacts",
)


# A slot closer than this is the present (an idle counter's slot is the instant it was asked at).
PRESENT = timedelta(milliseconds=1)


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


def _paced(decision: Decision, ledger: Ledger, contact_id: str, slot: datetime) -> tuple[Status, Decision]:
    """An allowed message whose provider slot is ahead: rescheduled to it, whatever ``on_blocked`` says
    (pacing is no rule's refusal). Only the ledger's bound on deferrals can refuse it."""
    if len(ledger.deferred) >= MAX_DEFERRED and ledger.deferral(contact_id) is None:
        return Status.BLOCKED, decision.model_copy(update={"reasons": (*decision.reasons, TOO_MANY_DEFERRED)})
    update = {"outcome": Outcome.DEFER, "not_before": slot, "reasons": (*decision.reasons, PACED)}
    return Status.SCHEDULED, decision.model_copy(update=update)


def _decision_data(
    request: ContactRequest, decision: Decision, trigger: str, address_opt_outs: list[dict[str, Any]]
) -> dict[str, Any]:
    data = {
        "trigger": trigger,
        "account_id": request.account_id,
        "channel": request.channel.value,
        "agency": request.agency,
        "submitted_by": request.submitted_by,
        **decision_json(decision),
        "policy_version": decision.policy_version,
        "inputs": decision.inputs,
    }
    if address_opt_outs:
        data["address_opt_outs"] = address_opt_outs
    return data


def _plan(
    handling: Handling,
    ledger: Ledger,
    found: list[tuple[str, OptOut]],
    deps: UnitOfWork,
    now: datetime,
    trigger: str,
    slot: datetime | None = None,
) -> tuple[Ledger, Status, Decision]:
    """``slot``: the provider slot an allowed message must wait for (it is rescheduled to it)."""
    request, contact_id = handling.request, handling.contact_id
    history = [r for r in ledger.history if r.contact_id != contact_id]
    preferences = suppression.with_address(ledger.preferences, tuple(o for _scope, o in found))
    decision = engine.evaluate(request, history, deps.policies, now, preferences, permit_for=deps.permit_for)
    if trigger != "api":  # rendered from a version approved then: is it still?
        decision = template_contacts.still_approved(decision, request, deps)
    status, decision = _status(request, decision, ledger, contact_id)
    if slot is not None and status is Status.SENT:
        status, decision = _paced(decision, ledger, contact_id, slot)
    facets = (request.channel.value, request.account_id)
    drafts = [Draft(EventType.REQUESTED, contact_id, request_data(request), *facets)] if trigger == "api" else []
    data = _decision_data(request, decision, trigger, suppression.evidence(request, found))
    packs = decision.inputs.get("packs", ())
    data["replay"] = replay.recorded(request, history, preferences, deps.policies, packs, now)  # no address in it
    drafts.append(Draft(EventType.DECIDED, contact_id, data, *facets))
    new = ledger.without_deferred(contact_id).pruned(now, deps.policies.longest_window_days)
    if decision.outcome is Outcome.ALLOW:
        due = now + deps.outcome_deadline
        new = new.with_record(reservation(request, contact_id, now, decision.valid_until, outcome_due=due))
    if status is Status.SCHEDULED:
        not_before = decision.not_before or now
        held = PACED in decision.reasons  # the slot is this contact's: it does not queue for another
        new = new.with_deferred(Deferred(contact_id, request, not_before, handling.deliveries_failed, paced=held))
    if status is not Status.SENT:
        drafts.append(
            Draft(EventType(status), contact_id, {"not_before": decision_json(decision)["not_before"]}, *facets)
        )
    new = new.with_retention(deps.policies.retention_days(decision.inputs.get("packs", ())))
    new, _events = new.append(drafts, now)
    return new, status, decision


def submit_contact(
    request: ContactRequest,
    deps: UnitOfWork,
    now: datetime,
    *,
    contact_id: str | None = None,
    trigger: str = "api",
) -> ContactResult | None:
    """Decide, reserve atomically, then send. ``None`` when a deferred contact was taken by another run."""
    contact_id = contact_id or deps.new_id(request.debtor_id, now)
    try:
        result = _submit(request, deps, now, contact_id, trigger)
    except StorageUnavailableError as exc:
        record_incident(request, deps, now, contact_id, trigger, exc)
        raise
    if result is not None:
        try:
            deps.observe(result, request, trigger)
        except Exception:  # noqa: BLE001 - metrics never turn a decision (or a send) into an error
            logger.exception("the metrics of a decision could not be written")
    return result


def _submit(
    request: ContactRequest, deps: UnitOfWork, now: datetime, contact_id: str, trigger: str
) -> ContactResult | None:
    held: datetime | None = None  # the provider slot this contact took or kept, once it has one
    for try_no in range(MAX_COMMIT_TRIES):
        # One strongly consistent read: the person's ledger and the address's opt-outs in both scopes.
        ledger, found, address = suppression.read_with_opt_outs(deps, request.tenant, request.debtor_id, request.to)
        deferral = ledger.deferral(contact_id)
        if trigger == "dispatcher" and deferral is None:
            return None
        if trigger == "api" and _known(ledger, contact_id):
            raise DuplicateContactError(contact_id)
        handling = Handling(request, contact_id, deferral.deliveries_failed if deferral else 0)
        held = held or _kept_slot(deferral, now)
        new, status, decision = _plan(handling, ledger, found, deps, now, trigger)
        if status is Status.SENT:
            held = held or _take_slot(request, deps, now)
            if held is not None and held - now > PRESENT:
                if held - now <= WAIT:  # cheaper than a deferral: wait, then decide again at the slot
                    deps.sleep((held - now).total_seconds())
                    now = held
                    continue
                new, status, decision = _plan(handling, ledger, found, deps, now, trigger, held)
        try:
            committed = commit_and_append(ledger, new, deps, now)
        except ConflictError:
            backoff(deps, try_no)
            continue
        _wake_if_paced(deps, request, status, decision)
        if status is Status.SENT:
            if request.channel is Channel.SMS:  # a reply to this text will know whom it answers
                recipients.remember(request, contact_id, address, deps, now)
            return deliver(handling, decision, deps, now, committed)
        return ContactResult(contact_id, status, decision)
    raise StorageUnavailableError("the person's ledger stayed contended; nothing was sent")


def _kept_slot(deferral: Deferred | None, now: datetime) -> datetime | None:
    """The slot a contact rescheduled by pacing holds, unless it is found too late to keep it."""
    if deferral is None or not deferral.paced or now - deferral.not_before > HELD_SLOT_GRACE:
        return None
    return deferral.not_before


def _take_slot(request: ContactRequest, deps: UnitOfWork, now: datetime) -> datetime | None:
    if deps.pacing is None or request.channel is Channel.VOICE:
        return None
    return deps.pacing.slot(request, now)


def _wake_if_paced(deps: UnitOfWork, request: ContactRequest, status: Status, decision: Decision) -> None:
    """A contact rescheduled to its slot goes on the dispatch queue: a tick may have looked already."""
    if status is not Status.SCHEDULED or PACED not in decision.reasons or decision.not_before is None:
        return
    try:
        deps.wake(request.tenant, request.debtor_id, decision.not_before)
    except Exception:  # noqa: BLE001 - the deferral is committed: a dispatcher tick finds it later
        logger.warning("a paced contact was not put on the dispatch queue; a tick finds it")


def _known(ledger: Ledger, contact_id: str) -> bool:
    return bool(
        ledger.record(contact_id)
        or ledger.deferral(contact_id)
        # An incident names the contact it could not commit: a retry of that contact is still a first try.
        or any(e["contact_id"] == contact_id and e["type"] != EventType.INCIDENT for e in ledger.outbox)
    )


def evaluate_contact(
    request: ContactRequest, deps: UnitOfWork, at: datetime, template: TemplateUse | None = None
) -> Decision:
    """What-if on stored history: the decision at ``at``, nothing written; ``template`` rendered first."""
    request = template_contacts.prepare(request, template, deps, at)
    ledger = deps.ledgers.get(request.tenant, request.debtor_id)
    preferences = suppression.with_address(ledger.preferences, suppression.opt_outs(deps, request.tenant, request.to))
    return engine.evaluate(request, ledger.history, deps.policies, at, preferences)


def evaluation_json(decision: Decision) -> dict[str, Any]:
    """The answer of ``POST /v1/contacts/evaluate``: the decision, the policy version, its zones and inputs."""
    return {
        **decision_json(decision),
        "policy_version": decision.policy_version,
        "zones": decision.inputs.get("zones", []),
        "inputs": decision.inputs,
    }


def agency_of(events: list[AuditEvent]) -> str | None:
    """The collection agency that asked for the contact (None: the creditor itself)."""
    decided = (e for e in events if e["type"] in (EventType.REQUESTED, EventType.DECIDED))
    return next((e["data"].get("agency") for e in decided), None)


def contact_events(tenant: str, contact_id: str, ledger: Ledger, deps: UnitOfWork) -> list[AuditEvent]:
    """A contact's events in order: those in the audit table and those the ledger holds for the appender."""
    stored = {e["seq"]: e for e in deps.audit.for_contact(tenant, contact_id)}
    stored.update({e["seq"]: e for e in ledger.outbox if e["contact_id"] == contact_id})
    return [stored[s] for s in sorted(stored)]


def get_contact(tenant: str, contact_id: str, deps: UnitOfWork, *, agency: str | None = None) -> dict[str, Any]:
    """A contact's events; with ``agency``, only a contact that agency asked for is found."""
    debtor_id = ids.debtor_of(contact_id)
    events = contact_events(tenant, contact_id, deps.ledgers.get(tenant, debtor_id), deps)
    if not events or (agency is not None and agency_of(events) != agency):
        raise NotFoundError(contact_id)
    return {
        "contact_id": contact_id,
        "debtor_id": debtor_id,
        "status": _current_status(events),
        "delivery": latest_delivery(events),  # the latest receipt by the provider's time; None: none came
        "events": events,
    }


def _current_status(events: list[AuditEvent]) -> str:
    statuses = [e["type"] for e in events if e["type"] in STATUS_TYPES]
    return statuses[-1] if statuses else "received"
