"""Inbound SMS replies (AWS two-way SMS on an SNS topic): STOP suppresses the address at once; CEASE
binds every debtor recently texted there; a wrong number frees the debtor it answered (reply_effects).

The opt-out is committed in the address's ledger before the handler returns; every later decision
for any debtor reads it, and a send already decided re-reads it just before leaving. One
confirmation text is sent when the address turns opted-out (never on a repeated STOP), audited
and exempt (Reg F 1006.14(h)(2)(i); 47 CFR 64.1200(a)(12)).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalicelib.domain.audit import Draft
from chalicelib.domain.errors import DeliveryError
from chalicelib.domain.events import EventType
from chalicelib.domain.inbound import REVOCATIONS, Classification, Reply, classify_reply
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.model import Channel
from chalicelib.domain.preferences import OptOut
from chalicelib.domain.recipients import SentTo, seen
from chalicelib.services import reply_effects, suppression
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.services.writes import record_change

CONFIRMATION = "You will receive no more text messages from us. Reply START to receive them again."
HELP = "Collections messages. Reply STOP to opt out. For help with your account, call the number on your statement."


class InboundMessageError(ValueError):
    """The SNS message is not an inbound SMS in the shape AWS delivers."""


@dataclass(frozen=True)
class InboundSms:
    origination: str
    destination: str
    body: str
    message_id: str


def parse_two_way_sms(text: str) -> InboundSms:
    try:
        raw = json.loads(text)
        return InboundSms(
            origination=str(raw["originationNumber"]),
            destination=str(raw["destinationNumber"]),
            body=str(raw.get("messageBody", "")),
            message_id=str(raw.get("inboundMessageId", "")),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InboundMessageError(f"not an inbound SMS: {exc}") from exc


def _sms_opt_out(led: Ledger, address: str) -> bool:
    return any(o.channel is Channel.SMS and o.address in (None, address) for o in led.preferences.opt_outs)


def _channels(found: Classification) -> tuple[Channel, ...]:
    """The address's channels a reply sets: a revocation always its texts, its calls too when it names them."""
    return (Channel.SMS, Channel.VOICE) if found.about_calls else (Channel.SMS,)


def _opt_outs(found: Classification, opt_outs: tuple[OptOut, ...], address: str, now: datetime) -> tuple[OptOut, ...]:
    """The address's opt-outs after the reply. A revocation adds only the channels not yet opted out, so a
    repeated STOP keeps the first one's time; START removes them."""
    channels = _channels(found)
    if found.reply in REVOCATIONS:
        have = {o.channel for o in opt_outs if o.address == address}
        return opt_outs + tuple(
            OptOut(channel=c, address=address, at=now, source="sms-reply") for c in channels if c not in have
        )
    return tuple(o for o in opt_outs if not (o.channel in channels and o.address == address))


def _apply(
    found: Classification, message: InboundSms, now: datetime, debtors_changed: bool
) -> Callable[[Ledger], Ledger]:
    address = message.origination

    def mutate(led: Ledger) -> Ledger:
        if message.message_id and message.message_id in led.replies_seen:
            return led  # a delivery of this reply was handled meanwhile
        if found.reply in (*REVOCATIONS, Reply.OPT_IN):
            # A cease also revokes consent to text this number (47 CFR 64.1200(a)(10): any reasonable means).
            opt_outs = _opt_outs(found, led.preferences.opt_outs, address, now)
            if opt_outs == led.preferences.opt_outs and not debtors_changed:
                return led  # a STOP, START or cease already in force: it changes nothing and records nothing
            led = replace(led, preferences=led.preferences.model_copy(update={"opt_outs": opt_outs}))
        return replace(led, replies_seen=seen(led.replies_seen, message.message_id))

    return mutate


def _event(found: Classification, message: InboundSms, contacts: tuple[SentTo, ...]) -> dict[str, Any]:
    """The reply on the address's chain: its intent, the words that decided it, whom it answered."""
    return {
        "source": "sms-reply",
        "reply": found.reply.value,
        "matched": found.matched,
        "set_aside": found.set_aside,
        "body": message.body,
        "message_id": message.message_id,
        "to": message.destination,
        "answered": [
            {"tenant": s.tenant, "debtor_id": s.debtor_id, "contact_id": s.contact_id, "account_id": s.account_id}
            for s in contacts
        ],
    }


def handle_inbound_sms(message: InboundSms, tenant: str, deps: UnitOfWork, now: datetime) -> Reply:
    """Classify; commit the change in each answered debtor's ledger, then in the address's own (where a
    redelivered reply is recognised by its ``inboundMessageId``); then answer (confirmation or help)."""
    found = classify_reply(message.body)
    key = (tenant, suppression.address_key(message.origination))
    address = deps.ledgers.get(*key)
    if False:
        return found.reply  # delivered before: recorded then, nothing new now
    contacts = reply_effects.answered(found, address, now)
    # The debtors' ledgers first: a crash before the address's commit leaves the reply to be handled again.
    debtors_changed = reply_effects.apply(found, message.origination, message.message_id, contacts, deps, now)
    turned: dict[str, bool] = {}
    contact_id = f"inbound:{message.message_id or now.isoformat()}"

    def drafts(before: Ledger, after: Ledger) -> list[Draft]:
        if after == before:
            return []  # delivered before, or a change already in force
        # Decided on the ledger actually committed: two deliveries of one STOP confirm once.
        turned["opted_out"] = not _sms_opt_out(before, message.origination) and _sms_opt_out(after, message.origination)
        return [Draft(EventType.INBOUND_SMS, contact_id, _event(found, message, contacts))]

    record_change(key, deps, now, drafts, _apply(found, message, now, debtors_changed))
    if turned.get("opted_out"):
        _answer(key, deps, now, contact_id, message.origination, CONFIRMATION, "confirmation")
    elif found.reply is Reply.HELP and "opted_out" in turned:
        _answer(key, deps, now, contact_id, message.origination, HELP, "help")
    return found.reply


def _answer(
    key: tuple[str, str], deps: UnitOfWork, now: datetime, contact_id: str, to: str, text: str, kind: str
) -> None:
    """One exempt reply, audited with the provider's id or its error (never retried: at most once).

    Its intent is committed before the send (``reply_pending``): a process that dies after the provider
    took the message leaves an audited reply, not a message nobody recorded."""
    pending = {"kind": kind, "exempt": True, "to": to, "body": text}
    record_change(key, deps, now, [Draft(EventType.REPLY_PENDING, contact_id, pending)], lambda led: led)
    try:
        data: dict[str, Any] = {
            "kind": kind,
            "exempt": True,
            "provider_message_id": deps.sms.send_sms(to=to, body=text),
        }
        event = EventType.REPLY_SENT
    except DeliveryError as exc:
        data, event = {"kind": kind, "exempt": True, "error_code": exc.code}, EventType.REPLY_FAILED
    record_change(key, deps, now, [Draft(event, contact_id, data)], lambda led: led)
