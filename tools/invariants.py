"""Invariant checks over what was stored: was anyone contacted more often, or at other times, than the
packs allow? Independent of the path that decided: it replays each contact against the rules, in the order
the person's ledger committed them (the audit chain's order), with every contact committed before it.

``check_invariants`` adds what an operator paged at night asks next (``./gateway audit check-invariants``):
every message the provider sent without a ``sent`` event (or an ``unknown`` one for its address), every
``sent`` event without a message, every deferred contact past due and not handled, every committed event
the audit table still lacks past the sweep's grace, and every broken chain.

Only contacts that went out (or may have: ``unknown``) or were permitted are checked; one that failed at
the provider contacted nobody. The packs applied are today's; a contact decided under an older version is
checked against the current one, and a report names the rules it breaks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from chalicelib.domain import engine
from chalicelib.domain.events import AuditEvent, EventType
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.masking import mask_address
from chalicelib.domain.model import Channel, ContactRecord, ContactRequest, Outcome, Result
from chalicelib.domain.ports import AuditQuery
from chalicelib.domain.preferences import OptOut, Preferences
from chalicelib.services import audit_read, calls, dispatch, suppression
from chalicelib.services.unit_of_work import UnitOfWork

# Never left. A pending reservation may have: its send began, and it counts until it is settled.
NOT_A_CONTACT = frozenset({Result.FAILED})
STUCK_LIMIT = 10_000  # people read from each of the due and pending indexes: an operator's run, not a scan
GRACE = timedelta(minutes=10)  # the dispatcher runs every minute; the sweep takes outboxes 30 s old


@dataclass(frozen=True)
class Violation:
    # over-contact | after-opt-out | call-without-valid-permit | message-without-sent | sent-without-message |
    # deferred-past-due | audit-pending | chain-break
    kind: str
    tenant: str
    debtor_id: str
    contact_id: str
    at: datetime
    rules: tuple[str, ...]
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "at": self.at.isoformat(), "rules": list(self.rules)}


@dataclass
class InvariantReport:
    people: int = 0
    contacts: int = 0
    violations: list[Violation] = field(default_factory=list)
    unreported_calls: list[str] = field(default_factory=list)  # "tenant/debtor contact": settled unknown


def _person_events(tenant: str, debtor_id: str, deps: UnitOfWork, outbox: Iterable[AuditEvent]) -> list[AuditEvent]:
    stored = {e["seq"]: e for e in cast(list[AuditEvent], deps.audit.for_person(tenant, debtor_id))}  # untyped port
    stored.update({e["seq"]: e for e in outbox})  # committed, not yet appended
    return [stored[s] for s in sorted(stored)]


def _index(tenant: str, events: Iterable[AuditEvent]) -> tuple[dict[str, ContactRequest], dict[str, int]]:
    requests: dict[str, ContactRequest] = {}
    committed: dict[str, int] = {}  # contact -> seq of its last "allow"
    for event in events:
        if event["type"] == EventType.REQUESTED:
            requests[event["contact_id"]] = ContactRequest.model_validate({**event["data"], "tenant": tenant})
        elif event["type"] == EventType.DECIDED and event["data"].get("outcome") == Outcome.ALLOW:
            committed[event["contact_id"]] = event["seq"]
    return requests, committed


def _calls_without_valid_permit(tenant: str, debtor_id: str, events: Iterable[AuditEvent]) -> list[Violation]:
    """Outcomes dated after their permit lapsed: the dialer placed a call the gateway had not permitted then."""
    return [
        Violation(
            "call-without-valid-permit",
            tenant,
            debtor_id,
            e["contact_id"],
            datetime.fromisoformat(e["data"]["at"]),
            (),
            f"placed at {e['data']['at']}, its permit was valid until {e['data'].get('valid_until')}",
        )
        for e in events
        if e["type"] == EventType.OUTCOME and e["data"].get(calls.WITHOUT_VALID_PERMIT)
    ]


def unreported_calls(ledger: Ledger) -> list[ContactRecord]:
    """Permitted calls whose outcome never came and were settled ``unknown``: they count as the worst case,
    and the dialer that placed them owes a report (not an over-contact, so not a violation)."""
    return [r for r in ledger.history if r.channel is Channel.VOICE and r.result is Result.UNKNOWN]


def check_person(
    tenant: str,
    debtor_id: str,
    deps: UnitOfWork,
    events: list[AuditEvent] | None = None,
    opt_outs: dict[str, list[tuple[str, OptOut]]] | None = None,
) -> tuple[int, list[Violation], list[str]]:
    """Returns the contacts checked, the violations, and the calls settled unknown (``unreported_calls``).

    ``events``: the person's events already read (by day, say); read whole from the trail if they miss
    the request or decision of a contact the ledger still counts. ``opt_outs``: a cache by address."""
    ledger = deps.ledgers.get(tenant, debtor_id)
    read = [*(events or []), *ledger.outbox]
    requests, committed = _index(tenant, read)
    if events is None or any(r.contact_id not in committed or r.contact_id not in requests for r in ledger.history):
        read = _person_events(tenant, debtor_id, deps, ledger.outbox)
        requests, committed = _index(tenant, read)
    cache = {} if opt_outs is None else opt_outs
    records = sorted((r for r in ledger.history if r.contact_id in committed), key=lambda r: committed[r.contact_id])
    violations = _calls_without_valid_permit(tenant, debtor_id, {e["seq"]: e for e in read}.values())
    checked = 0
    for index, record in enumerate(records):
        request = requests.get(record.contact_id)
        if request is None or record.result in NOT_A_CONTACT:
            continue
        checked += 1
        before: list[ContactRecord] = records[:index]
        # The opt-outs recorded before this contact, the person's and the address's: the packs' own consent
        # rules judge them (exempt purposes included). Cease, attorney and inconvenient times are judged at
        # decision time and are not replayed here (their history is in preferences_changed events).
        if request.to not in cache:
            cache[request.to] = suppression.scoped_opt_outs(deps, tenant, request.to)
        found = cache[request.to]
        earlier = tuple(o for o in (*ledger.preferences.opt_outs, *(o for _s, o in found)) if o.at and o.at < record.at)
        decision = engine.evaluate(request, before, deps.policies, record.at, Preferences(opt_outs=earlier))
        if decision.outcome is not Outcome.ALLOW:
            rules = tuple(r.rule for r in decision.reasons)
            kind = "after-opt-out" if any("opt-out" in r for r in rules) else "over-contact"
            detail = "; ".join(r.message for r in decision.reasons)
            violations.append(Violation(kind, tenant, debtor_id, record.contact_id, record.at, rules, detail))
    return checked, violations, [r.contact_id for r in unreported_calls(ledger)]


def check_people(tenant: str, debtor_ids: Iterable[str], deps: UnitOfWork) -> InvariantReport:
    return _check_all(tenant, ((d, None) for d in dict.fromkeys(debtor_ids)), deps)


def _check_all(tenant: str, people: Iterable[tuple[str, list[AuditEvent] | None]], deps: UnitOfWork) -> InvariantReport:
    report = InvariantReport()
    cache: dict[str, list[tuple[str, OptOut]]] = {}
    for debtor_id, events in people:
        checked, violations, unreported = check_person(tenant, debtor_id, deps, events, cache)
        report.people += 1
        report.contacts += checked
        report.violations += violations
        report.unreported_calls += [f"{tenant}/{debtor_id} {contact_id}" for contact_id in unreported]
    return report


def _events_by_chain(tenant: str, start: datetime, end: datetime, audit: AuditQuery) -> dict[str, list[AuditEvent]]:
    by_chain: dict[str, list[AuditEvent]] = {}
    for _key, event in audit_read.matching(tenant, audit_read.EventQuery(start=start, end=end, limit=1000), audit):
        by_chain.setdefault(event["debtor_id"], []).append(cast(AuditEvent, event))  # untyped port
    return by_chain


def _people(by_chain: dict[str, list[AuditEvent]]) -> list[tuple[str, list[AuditEvent]]]:
    # address chains (@addr:...) and the access chain hold no contacts of a person
    return [(chain, events) for chain, events in by_chain.items() if not chain.startswith("@")]


def check_range(tenant: str, start: datetime, end: datetime, deps: UnitOfWork, audit: AuditQuery) -> InvariantReport:
    """Every person with events in [start, end): the events are read a day at a time from the day index
    (a few large pages, not a Query per person) and grouped by person, so memory follows the events of the
    range: a tool for an operator's range, not for years at once."""
    return _check_all(tenant, _people(_events_by_chain(tenant, start, end, audit)), deps)


@dataclass(frozen=True)
class SentMessage:
    """One message the provider says it sent (moto's lists locally; delivery logs in AWS)."""

    message_id: str
    channel: str  # sms | email
    to: str
    body: str = ""


def check_invariants(
    tenants: Iterable[str],
    start: datetime,
    end: datetime,
    now: datetime,
    deps: UnitOfWork,
    sent: list[SentMessage] | None,
    grace: timedelta = GRACE,
    every_message: bool = False,
) -> InvariantReport:
    """Every invariant over [start, end) for ``tenants`` (the shared scope of inbound replies included).

    ``sent``: the provider's own list; ``None`` where there is none to read, and those two checks are off.
    The list holds every message ever sent, so by default only messages to addresses the range's events
    name are matched. ``every_message``: the list covers exactly this scope (a fresh stack, the soak), and a
    message to an address nobody in the trail has is reported too."""
    report = InvariantReport()
    sent_events: dict[str, tuple[str, str, str]] = {}  # provider message id -> tenant, chain, contact
    unknown: list[tuple[str, str]] = []  # (address, body) of contacts that may have left
    addresses: set[str] = set()  # every address the range's events name
    for tenant in tenants:
        by_chain = _events_by_chain(tenant, start, end, deps.audit)
        merged = _check_all(tenant, _people(by_chain), deps)
        report.people += merged.people
        report.contacts += merged.contacts
        report.violations += merged.violations
        report.unreported_calls += merged.unreported_calls
        cache = audit_read.AnchorCache(deps.anchors)
        for chain, events in by_chain.items():
            _collect_sends(tenant, chain, events, deps, sent_events, unknown, addresses)
            result = audit_read.verify(tenant, chain, deps, cache)
            if not result["ok"]:
                detail = json.dumps({k: v for k, v in result.items() if k not in ("head",)}, default=str)[:500]
                report.violations.append(Violation("chain-break", tenant, chain, "", now, (), detail))
    if sent is not None:
        if not every_message:
            sent = [m for m in sent if m.to in addresses]
        report.violations += _match_sends(sent, sent_events, unknown, now)
    report.violations += stuck_work(deps, now, grace)
    return report


def _collect_sends(
    tenant: str,
    chain: str,
    events: list[AuditEvent],
    deps: UnitOfWork,
    sent_events: dict[str, tuple[str, str, str]],
    unknown: list[tuple[str, str]],
    addresses: set[str],
) -> None:
    unknown_ids = {e["contact_id"] for e in events if e["type"] == EventType.UNKNOWN}
    outbox: tuple[AuditEvent, ...] = ()
    if not chain.startswith("@"):  # a reservation still pending (in flight, or its sender died) may have left
        ledger = deps.ledgers.get(tenant, chain)
        outbox = ledger.outbox
        unknown_ids |= {r.contact_id for r in ledger.history if r.result is Result.PENDING}
    addresses.update(_addresses(events))
    answered = {e["contact_id"] for e in events if e["type"] in (EventType.REPLY_SENT, EventType.REPLY_FAILED)}
    for event in events:
        if event["type"] in (EventType.SENT, EventType.REPLY_SENT) and event["data"].get("provider_message_id"):
            sent_events[event["data"]["provider_message_id"]] = (tenant, chain, event["contact_id"])
        elif event["type"] == EventType.REPLY_PENDING and event["contact_id"] not in answered:
            unknown.append((event["data"]["to"], event["data"]["body"]))  # its process died after the send
    if unknown_ids:
        unknown += _requested_to(tenant, chain, deps, outbox, unknown_ids)


def _requested_to(
    tenant: str, chain: str, deps: UnitOfWork, outbox: tuple[AuditEvent, ...], contacts: set[str]
) -> list[tuple[str, str]]:
    """(address, text) of the contacts' requests, read from the whole chain and the ledger's outbox."""
    requested = [e for e in _person_events(tenant, chain, deps, outbox) if e["type"] == EventType.REQUESTED]
    return [
        (e["data"].get("to", ""), (e["data"].get("message") or {}).get("body", ""))
        for e in requested
        if e["contact_id"] in contacts
    ]


def _addresses(events: list[AuditEvent]) -> set[str]:
    named = (e["data"].get(field) for e in events for field in ("to", "address"))
    return {address for address in named if isinstance(address, str)}


def _match_sends(
    sent: list[SentMessage], sent_events: dict[str, tuple[str, str, str]], unknown: list[tuple[str, str]], now: datetime
) -> list[Violation]:
    violations: list[Violation] = []
    ids = {m.message_id for m in sent}
    for message in sent:
        if message.message_id in sent_events:
            continue
        # An unknown contact's message has no id on our side: matched by its address (and text, for SMS).
        match = next(
            (u for u in unknown if u[0] == message.to and (message.channel == "email" or u[1] == message.body)), None
        )
        if match is not None:
            unknown.remove(match)
            continue
        detail = f"{message.channel} {message.message_id} to {mask_address(message.to)}: no sent or unknown event"
        violations.append(Violation("message-without-sent", "", "", "", now, (), detail))
    for message_id, (tenant, chain, contact_id) in sent_events.items():
        if message_id not in ids:
            detail = f"sent event names {message_id}, which the provider never sent"
            violations.append(Violation("sent-without-message", tenant, chain, contact_id, now, (), detail))
    return violations


def stuck_work(deps: UnitOfWork, now: datetime, grace: timedelta) -> list[Violation]:
    """Deferred contacts (and unsettled reservations) past due, and committed events not yet appended,
    both older than the dispatcher's and the sweep's grace: nothing handled them."""
    found = []
    for tenant, debtor_id in deps.ledgers.due(now - grace, STUCK_LIMIT):
        ledger = deps.ledgers.get(tenant, debtor_id)
        late = [d.contact_id for d in ledger.deferred if d.not_before <= now - grace]
        late += [r.contact_id for r in ledger.unsettled(now - grace)]
        for contact_id in late:
            found.append(Violation("deferred-past-due", tenant, debtor_id, contact_id, now, (), "due, not handled"))
    for tenant, debtor_id in deps.ledgers.with_outbox(now - grace, STUCK_LIMIT):
        missing = sorted(e["seq"] for e in dispatch.unappended(deps, deps.ledgers.get(tenant, debtor_id)))
        if missing:
            detail = f"committed events {missing} are not in the audit table past the sweep's grace"
            found.append(Violation("audit-pending", tenant, debtor_id, "", now, (), detail))
    return found
