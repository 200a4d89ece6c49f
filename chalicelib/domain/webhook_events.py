"""What one committed ledger tells webhooks: each audit event that is a webhook event, for which tenant,
with which data, about which agency's contact (docs/webhooks.md). Pure: the ledger image holds the address
and the agency of its contacts; the events of the same commit hold the decision's rules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.access import ACCESS_CHAIN, SHARED_SCOPE
from chalicelib.domain.events import AuditEvent
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.masking import mask_address
from chalicelib.domain.webhooks import CONTACT_TYPES, contact_data, webhook_type

UNKNOWN_AGENCY = object()  # the contact's agency could not be found: no agency's webhook is told


@dataclass(frozen=True)
class Publication:
    """One webhook event for one tenant; ``agency`` is the contact's (``UNKNOWN_AGENCY``: not found)."""

    tenant: str
    kind: str
    data: dict[str, Any]
    agency: object = None
    key: tuple[Any, ...] = ()


def wants(hook: dict[str, Any], pub: Publication) -> bool:
    if pub.kind not in hook.get("events", ()):
        return False
    agency = hook.get("agency")
    return agency is None or (pub.kind in CONTACT_TYPES and pub.agency == agency)


def publications(ledger: Ledger, events: Sequence[AuditEvent]) -> Iterable[Publication]:
    if ledger.debtor_id == ACCESS_CHAIN:
        return
    for event in events:
        if ledger.debtor_id.startswith("@addr:"):
            yield from _address_event(ledger, event)
            continue
        kind = webhook_type(event)
        if kind is None or kind == "address.suppressed":
            continue
        if kind == "preferences.changed":
            data = {"debtor_id": ledger.debtor_id, "source": event["data"].get("source", "api")}
            yield Publication(ledger.tenant, kind, {**data, "at": event["at"], "seq": event["seq"]}, key=_key(event))
            continue
        yield _contact_event(ledger, event, events, kind)


def _key(event: AuditEvent) -> tuple[Any, ...]:
    return (event["tenant"], event["debtor_id"], event["seq"])


def _contact_event(ledger: Ledger, event: AuditEvent, batch: Sequence[AuditEvent], kind: str) -> Publication:
    """Address and agency from the ledger's record of the contact, its deferral, or this commit's events."""
    cid = event["contact_id"]
    mine = [e for e in batch if e["contact_id"] == cid]
    decided = next((e["data"] for e in reversed(mine) if e["type"] == "decided"), None)
    requested = next((e["data"] for e in mine if e["type"] == "requested"), None)
    record, deferral = ledger.record(cid), ledger.deferral(cid)
    address: str | None = None
    agency: object = UNKNOWN_AGENCY
    if record is not None:
        address, agency = record.to, record.agency
    elif deferral is not None:
        address, agency = deferral.request.to, deferral.request.agency
    if decided is not None:
        agency = decided.get("agency")
    if address is None and requested is not None:
        address = requested.get("to")
    shown = None if agency is UNKNOWN_AGENCY else str(agency) if agency else None
    data = contact_data(event, kind.split(".", 1)[1], address, shown, decided)
    return Publication(ledger.tenant, kind, data, agency, _key(event))


def _address_event(ledger: Ledger, event: AuditEvent) -> Iterable[Publication]:
    """An address suppressed: to its tenant, or (the shared scope) to each tenant that recently contacted it."""
    at = datetime.fromisoformat(event["at"])
    opt_outs = ledger.preferences.opt_outs
    now_out = [o for o in opt_outs if o.at == at]
    kind = webhook_type(event, suppressed=bool(now_out))
    if kind != "address.suppressed" or not opt_outs:
        return
    opt_out = (now_out or list(opt_outs))[-1]
    data = {
        "address": mask_address(opt_out.address),
        "channel": opt_out.channel.value,
        "source": opt_out.source,
        "chain": ledger.debtor_id,
        "at": event["at"],
        "seq": event["seq"],
    }
    if ledger.tenant != SHARED_SCOPE:
        yield Publication(ledger.tenant, kind, {**data, "scope": "tenant"}, key=_key(event))
        return
    tenants: dict[str, list[str]] = {}
    for sent in ledger.recent_contacts:
        tenants.setdefault(sent.tenant, []).append(sent.debtor_id)
    for tenant, debtors in tenants.items():
        yield Publication(
            tenant, kind, {**data, "scope": "shared", "debtor_ids": sorted(set(debtors))}, key=_key(event)
        )
