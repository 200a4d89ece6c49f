"""Inbound SMS replies (AWS two-way SMS on an SNS topic): STOP suppresses the address at once.

The opt-out is committed in the address's ledger before the handler returns; every later decision
for any debtor reads it, and a send already decided re-reads it just before leaving. One
confirmation text is sent when the address turns opted-out (never on a repeated STOP), audited
and exempt (Reg F 1006.14(h)(2)(i); 47 CFR 64.1200(a)(12)).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalicelib.domain.audit import Draft
from chalicelib.domain.errors import DeliveryError
from chalicelib.domain.inbound import Reply, classify
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.model import Channel
from chalicelib.domain.preferences import OptOut
from chalicelib.services import suppression
from chalicelib.services.writes import Deps, record_change

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


def _apply(reply: Reply, address: str, now: datetime) -> Any:
    def mutate(led: Ledger) -> Ledger:
        keep = tuple(o for o in led.preferences.opt_outs if not (o.channel is Channel.SMS and o.address == address))
        if reply is Reply.OPT_OUT:
            keep += (OptOut(channel=Channel.SMS, address=address, at=now),)
        if reply in (Reply.OPT_OUT, Reply.OPT_IN):
            return replace(led, preferences=led.preferences.model_copy(update={"opt_outs": keep}))
        return led

    return mutate


def handle_inbound_sms(message: InboundSms, tenant: str, deps: Deps, now: datetime) -> Reply:
    """Classify, commit the consent change with its event, then answer (confirmation or help)."""
    reply = classify(message.body)
    key = (tenant, suppression.address_key(message.origination))
    turned: dict[str, bool] = {}

    def drafts(before: Ledger, after: Ledger) -> list[Draft]:
        # Decided on the ledger actually committed: two deliveries of one STOP confirm once.
        turned["opted_out"] = not _sms_opt_out(before, message.origination) and _sms_opt_out(after, message.origination)
        return [Draft("inbound_sms", contact_id, data)]

    data = {
        "source": "sms-reply",
        "reply": reply.value,
        "body": message.body,
        "message_id": message.message_id,
        "to": message.destination,
    }
    contact_id = f"inbound:{message.message_id or now.isoformat()}"
    record_change(key, deps, now, drafts, _apply(reply, message.origination, now))
    if turned.get("opted_out"):
        _answer(key, deps, now, contact_id, message.origination, CONFIRMATION, "confirmation")
    elif reply is Reply.HELP:
        _answer(key, deps, now, contact_id, message.origination, HELP, "help")
    return reply


def _answer(key: tuple[str, str], deps: Deps, now: datetime, contact_id: str, to: str, text: str, kind: str) -> None:
    """One exempt reply, audited with the provider's id or its error (never retried: at most once).

    Its intent is committed before the send (``reply_pending``): a process that dies after the provider
    took the message leaves an audited reply, not a message nobody recorded."""
    pending = {"kind": kind, "exempt": True, "to": to, "body": text}
    record_change(key, deps, now, [Draft("reply_pending", contact_id, pending)], lambda led: led)
    try:
        data: dict[str, Any] = {
            "kind": kind,
            "exempt": True,
            "provider_message_id": deps.sms.send_sms(to=to, body=text),
        }
        event = "reply_sent"
    except DeliveryError as exc:
        data, event = {"kind": kind, "exempt": True, "error_code": exc.code}, "reply_failed"
    record_change(key, deps, now, [Draft(event, contact_id, data)], lambda led: led)
