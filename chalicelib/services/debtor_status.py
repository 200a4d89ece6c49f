"""A debtor's standing: "can we still call this person today?", from the ledger the gateway decides from.

One strongly consistent read of the person's ledger (history, deferred contacts, consent), one of each
probed address's opt-outs, and the engine's rules over them (``domain/standing.py``); never a read of the
audit trail. The kinds of contact probed are those the ledger holds (each channel, debt and address of its
recent history and deferred contacts), or the one the query names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain import standing
from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.model import Channel, ContactRequest, Direction, Location, RecipientRole
from chalicelib.services import consent, suppression
from chalicelib.services.unit_of_work import UnitOfWork

MAX_PROBES = 10  # the most recent kinds of contact a status reports on


@dataclass(frozen=True)
class Probe:
    """One kind of contact to report on; a location the ledger does not hold may be given with it."""

    channel: Channel | None = None
    account_id: str | None = None
    to: str | None = None
    location: Location | None = None


def _latest_location(ledger: Ledger) -> Location:
    """The location of the person's latest deferred contact: the ledger keeps no other."""
    dated = sorted(ledger.deferred, key=lambda d: d.not_before)
    return dated[-1].request.location if dated else Location()


def _kinds(ledger: Ledger) -> list[tuple[Channel, str, str]]:
    """(channel, debt, address) of the ledger's outbound contacts with the person and its deferred ones,
    the most recent first."""
    seen: dict[tuple[Channel, str, str], datetime] = {}
    for r in ledger.history:
        if r.to and r.direction is Direction.OUTBOUND and r.recipient_role is RecipientRole.DEBTOR:
            key = (r.channel, r.account_id, r.to)
            seen[key] = max(seen.get(key, r.at), r.at)
    for d in ledger.deferred:
        key = (d.request.channel, d.request.account_id, d.request.to)
        seen[key] = max(seen.get(key, d.not_before), d.not_before)
    return sorted(seen, key=lambda k: seen[k], reverse=True)[:MAX_PROBES]


def _requests(tenant: str, debtor_id: str, ledger: Ledger, probe: Probe) -> list[ContactRequest]:
    location = probe.location or _latest_location(ledger)
    kinds = _kinds(ledger)
    if probe.channel and probe.account_id and probe.to:
        kinds = [(probe.channel, probe.account_id, probe.to)]
    else:
        kinds = [
            k
            for k in kinds
            if (probe.channel in (None, k[0])) and (probe.account_id in (None, k[1])) and (probe.to in (None, k[2]))
        ]
    return [
        ContactRequest(
            tenant=tenant, debtor_id=debtor_id, channel=c, account_id=a, to=to, location=location, message=None
        )
        for c, a, to in kinds
    ]


def _deferred(ledger: Ledger) -> list[dict[str, Any]]:
    return [
        {
            "contact_id": d.contact_id,
            "channel": d.request.channel.value,
            "account_id": d.request.account_id,
            "to": d.request.to,
            "not_before": d.not_before.isoformat(),
            "paced": d.paced,
        }
        for d in sorted(ledger.deferred, key=lambda d: d.not_before)
    ]


def _unresolved(ledger: Ledger) -> list[dict[str, Any]]:
    """Contacts whose result is not known yet: each counts as the worst it can turn out to be."""
    return [
        {"contact_id": r.contact_id, "channel": r.channel.value, "at": r.at.isoformat(), "result": r.result.value}
        for r in ledger.history
        if r.unresolved
    ]


def debtor_status(
    tenant: str, debtor_id: str, deps: UnitOfWork, now: datetime, probe: Probe = Probe()
) -> dict[str, Any]:
    ledger = deps.ledgers.get(tenant, debtor_id)
    if ledger.version == 0:
        raise NotFoundError(f"debtor {debtor_id}: no ledger")
    contacts = []
    for request in _requests(tenant, debtor_id, ledger, probe):
        preferences = suppression.with_address(ledger.preferences, suppression.opt_outs(deps, tenant, request.to))
        found = standing.standing(request, ledger.history, deps.policies, now, preferences)
        kind = {"channel": request.channel.value, "account_id": request.account_id, "to": request.to}
        contacts.append({**kind, **found})
    view = consent.get_preferences(tenant, debtor_id, deps)
    return {
        "debtor_id": debtor_id,
        "at": now.isoformat(),
        "policy_version": deps.policies.version,
        "ledger_version": ledger.version,
        "contacts": contacts,
        "deferred": _deferred(ledger),
        "unresolved": _unresolved(ledger),
        "preferences": view["preferences"],
        "address_suppressions": view["address_suppressions"],
    }
