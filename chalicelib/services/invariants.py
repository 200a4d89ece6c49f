"""Invariant checks over what was stored: was anyone contacted more often, or at other times, than the
packs allow? Independent of the path that decided: it replays each contact against the rules, in the order
the person's ledger committed them (the audit chain's order), with every contact committed before it.

Only contacts that went out (or may have: ``unknown``) or were permitted are checked; one that failed at
the provider contacted nobody. The packs applied are today's; a contact decided under an older version is
checked against the current one, and a report names the rules it breaks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain import engine
from chalicelib.domain.audit import EventType
from chalicelib.domain.model import ContactRecord, ContactRequest, Outcome, Result
from chalicelib.domain.preferences import OptOut, Preferences
from chalicelib.services import audit_read, suppression
from chalicelib.services.ports import AuditTrail
from chalicelib.services.writes import Deps

NOT_A_CONTACT = frozenset({Result.FAILED, Result.PENDING})  # never left; a pending one is not settled yet


@dataclass(frozen=True)
class Violation:
    kind: str  # "over-contact" | "after-opt-out"
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


def _person_events(tenant: str, debtor_id: str, deps: Deps, outbox: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    stored = {e["seq"]: e for e in deps.audit.for_person(tenant, debtor_id)}
    stored.update({e["seq"]: e for e in outbox})  # committed, not yet appended
    return [stored[s] for s in sorted(stored)]


def _index(tenant: str, events: Iterable[dict[str, Any]]) -> tuple[dict[str, ContactRequest], dict[str, int]]:
    requests: dict[str, ContactRequest] = {}
    committed: dict[str, int] = {}  # contact -> seq of its last "allow"
    for event in events:
        if event["type"] == EventType.REQUESTED:
            requests[event["contact_id"]] = ContactRequest.model_validate({**event["data"], "tenant": tenant})
        elif event["type"] == EventType.DECIDED and event["data"].get("outcome") == Outcome.ALLOW:
            committed[event["contact_id"]] = event["seq"]
    return requests, committed


def check_person(
    tenant: str,
    debtor_id: str,
    deps: Deps,
    events: list[dict[str, Any]] | None = None,
    opt_outs: dict[str, list[tuple[str, OptOut]]] | None = None,
) -> tuple[int, list[Violation]]:
    """``events``: the person's events already read (by day, say); read whole from the trail if they miss
    the request or decision of a contact the ledger still counts. ``opt_outs``: a cache by address."""
    ledger = deps.ledgers.get(tenant, debtor_id)
    requests, committed = _index(tenant, [*(events or []), *ledger.outbox])
    if events is None or any(r.contact_id not in committed or r.contact_id not in requests for r in ledger.history):
        requests, committed = _index(tenant, _person_events(tenant, debtor_id, deps, ledger.outbox))
    cache = {} if opt_outs is None else opt_outs
    records = sorted((r for r in ledger.history if r.contact_id in committed), key=lambda r: committed[r.contact_id])
    violations: list[Violation] = []
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
    return checked, violations


def check_people(tenant: str, debtor_ids: Iterable[str], deps: Deps) -> InvariantReport:
    return _check_all(tenant, ((d, None) for d in dict.fromkeys(debtor_ids)), deps)


def _check_all(tenant: str, people: Iterable[tuple[str, list[dict[str, Any]] | None]], deps: Deps) -> InvariantReport:
    report = InvariantReport()
    cache: dict[str, list[tuple[str, OptOut]]] = {}
    for debtor_id, events in people:
        checked, violations = check_person(tenant, debtor_id, deps, events, cache)
        report.people += 1
        report.contacts += checked
        report.violations += violations
    return report


def check_range(tenant: str, start: datetime, end: datetime, deps: Deps, trail: AuditTrail) -> InvariantReport:
    """Every person with events in [start, end): the events are read a day at a time from the day index
    (a few large pages, not a Query per person) and grouped by person, so memory follows the events of the
    range: a tool for an operator's range, not for years at once."""
    by_person: dict[str, list[dict[str, Any]]] = {}
    for _key, event in audit_read.matching(tenant, audit_read.EventQuery(start=start, end=end, limit=1000), trail):
        if not event["debtor_id"].startswith("@"):  # address chains and the access chain hold no contacts
            by_person.setdefault(event["debtor_id"], []).append(event)
    return _check_all(tenant, by_person.items(), deps)
