"""Receipts: what the provider said became of a sent message, on the contact's chain.

Each receipt is a ``delivery`` event on the person's chain (the contact's events). Receipts are idempotent
and may come late or out of order: one already recorded (the same status, provider time and code) records
nothing; any other is recorded, and the contact's record in the ledger keeps the latest by the provider's
time (``model.supersedes``), so the trail keeps both and the answer shows the latest. A receipt changes no
count by itself: the record's ``result`` stays ``sent``.

A permanent failure also counts on the address's own ledger (the tenant's scope, for every debtor), when a
``delivery`` rule of the packs that applied to the contact asks for it; once that rule's threshold is
reached, the address is suppressed with the event every address suppression records (``unsubscribed``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalicelib.domain.audit import Draft
from chalicelib.domain.events import AuditEvent, EventType
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.model import Channel, ContactRecord, DeliveryStatus, Result, supersedes
from chalicelib.domain.preferences import OptOut
from chalicelib.domain.receipts import Receipt, SentMessage, receipt_key
from chalicelib.domain.rules.delivery import SOURCE, DeliveryRule
from chalicelib.services import ids, suppression
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.services.writes import record_change

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recorded:
    """What one receipt did: the contact it reached, whether it was new, whether it suppressed the address."""

    contact_id: str
    recorded: bool
    suppressed: bool = False


def find_sent(deps: UnitOfWork, channel: Channel, provider_message_id: str) -> SentMessage | None:
    if deps.sent_messages is None or not provider_message_id:
        return None
    return deps.sent_messages.find(channel, provider_message_id)


def record_receipt(receipt: Receipt, deps: UnitOfWork, now: datetime) -> Recorded | None:
    """Record one receipt on its contact's chain; None when no sent message has its id (dropped, logged)."""
    sent = find_sent(deps, receipt.channel, receipt.provider_message_id)
    if sent is None:
        logger.warning("a receipt for an unknown %s message was dropped", receipt.channel.value)
        return None
    recorded = _on_contact(sent, receipt, deps, now)
    failed = receipt.status is DeliveryStatus.PERMANENT_FAILURE and receipt.address_fault
    suppressed = _count_failure(sent, receipt, deps, now) if failed else False
    return Recorded(sent.contact_id, recorded, suppressed)


def _contact_events(sent: SentMessage, deps: UnitOfWork) -> list[AuditEvent]:
    return deps.audit.for_contact(sent.tenant, sent.contact_id)


def _seen(events: list[AuditEvent], ledger: Ledger, contact_id: str, kind: EventType) -> list[dict[str, Any]]:
    """The data of this contact's events of ``kind``: in the audit table, and still in the ledger's outbox."""
    held = [e for e in ledger.outbox if e["contact_id"] == contact_id]
    return [e["data"] for e in (*events, *held) if e["type"] == kind]


def _with_delivery(ledger: Ledger, contact_id: str, receipt: Receipt) -> Ledger:
    record = ledger.record(contact_id)
    if record is None:  # pruned from the window, or never committed: the trail alone keeps the receipt
        return ledger
    current = (record.delivery, record.delivery_at) if record.delivery and record.delivery_at else None
    if not supersedes(receipt.status, receipt.at, current):
        return ledger  # a late or repeated receipt: the trail keeps it, the record keeps the latest
    update = {"delivery": receipt.status, "delivery_at": receipt.at, "delivery_code": receipt.provider_code}
    return ledger.with_record(record.model_copy(update=update))


def _on_contact(sent: SentMessage, receipt: Receipt, deps: UnitOfWork, now: datetime) -> bool:
    key = (sent.tenant, ids.debtor_of(sent.contact_id))
    stored = _contact_events(sent, deps)
    draft = Draft(EventType.DELIVERY, sent.contact_id, receipt.event_data(), sent.channel.value, sent.account_id)
    recorded = {"new": False}

    def drafts(before: Ledger, after: Ledger) -> list[Draft]:
        known = {receipt_key(d) for d in _seen(stored, before, sent.contact_id, EventType.DELIVERY)}
        recorded["new"] = receipt.key not in known
        return [draft] if recorded["new"] else []

    def mutate(led: Ledger) -> Ledger:
        return _with_delivery(led, sent.contact_id, receipt)

    record_change(key, deps, now, drafts, mutate)
    return recorded["new"]


def record_complaint(channel: Channel, provider_message_id: str, at: datetime, deps: UnitOfWork, now: datetime) -> bool:
    """A complaint about a sent message, on its contact's chain (once); the address is suppressed by the
    feedback handler as before. False when no sent message has the id, or the complaint was recorded."""
    sent = find_sent(deps, channel, provider_message_id)
    if sent is None:
        return False
    key = (sent.tenant, ids.debtor_of(sent.contact_id))
    stored = _contact_events(sent, deps)
    data = {
        "provider_message_id": provider_message_id,
        "channel": channel.value,
        "at": at.isoformat().replace("+00:00", "Z"),
        "source": "ses-event",
    }
    draft = Draft(EventType.COMPLAINT, sent.contact_id, data, channel.value, sent.account_id)
    recorded = {"new": False}

    def drafts(before: Ledger, after: Ledger) -> list[Draft]:
        recorded["new"] = not _seen(stored, before, sent.contact_id, EventType.COMPLAINT)
        return [draft] if recorded["new"] else []

    record_change(key, deps, now, drafts, lambda led: led)
    return recorded["new"]


# -- the address: permanent failures counted, and the suppression they reach ----------------------------


def delivery_rules(deps: UnitOfWork, sent: SentMessage) -> list[DeliveryRule]:
    """The enabled ``delivery`` rules of the packs that applied to the contact, for its channel."""
    packs = [p for p in deps.policies.packs if p.id in set(sent.packs)]
    return [r for p in packs for r in p.active_rules() if isinstance(r, DeliveryRule) and sent.channel in r.channels]


def _suppressed(led: Ledger, channel: Channel, address: str) -> bool:
    return any(o.channel is channel and o.address == address for o in led.preferences.opt_outs)


def _failures(led: Ledger, channel: Channel, address: str) -> list[datetime]:
    return [r.at for r in led.history if r.result is Result.FAILED and r.channel is channel and r.to == address]


def _failure_mutation(sent: SentMessage, receipt: Receipt, rules: list[DeliveryRule], now: datetime) -> Any:
    channel, address = sent.channel, sent.to
    keep_days = max(r.window_days for r in rules)

    def mutate(led: Ledger) -> Ledger:
        if _suppressed(led, channel, address):
            return led  # suppressed already: nothing more to count
        failure = ContactRecord(
            contact_id=f"failure:{channel.value}:{receipt.provider_message_id}",  # one message counts once
            at=receipt.at,
            channel=channel,
            account_id="-",
            to=address,
            result=Result.FAILED,
            delivery=DeliveryStatus.PERMANENT_FAILURE,
            delivery_at=receipt.at,
        )
        led = led.pruned(now, keep_days).with_record(failure)
        if not any(rule.threshold_reached(_failures(led, channel, address), now) for rule in rules):
            return led
        opt_out = OptOut(channel=channel, address=address, at=now, source=SOURCE)
        opt_outs = (*led.preferences.opt_outs, opt_out)
        return replace(led, preferences=led.preferences.model_copy(update={"opt_outs": opt_outs}))

    return mutate


def _count_failure(sent: SentMessage, receipt: Receipt, deps: UnitOfWork, now: datetime) -> bool:
    """Count a permanent failure against the address; True when this one suppressed it."""
    rules = delivery_rules(deps, sent)
    if not rules:
        return False
    key = (sent.tenant, suppression.address_key(sent.to))
    turned = {"now": False}

    def drafts(before: Ledger, after: Ledger) -> list[Draft]:
        turned["now"] = not _suppressed(before, sent.channel, sent.to) and _suppressed(after, sent.channel, sent.to)
        if not turned["now"]:
            return []
        failures = _failures(after, sent.channel, sent.to)
        data = {
            "source": SOURCE,
            "channel": sent.channel.value,
            "rules": [r.id for r in rules if r.threshold_reached(failures, now)],
            "permanent_failures": len(failures),
            "provider_message_id": receipt.provider_message_id,
        }
        return [Draft(EventType.UNSUBSCRIBED, f"suppressed:{key[1]}", data)]

    record_change(key, deps, now, drafts, _failure_mutation(sent, receipt, rules, now))
    return turned["now"]
