"""SES bounce and complaint notifications: the email address is suppressed for every debtor.

A hard (permanent) bounce or a complaint suppresses at once; soft (transient) bounces are counted in
the address's ledger and suppress once ``SOFT_BOUNCE_LIMIT`` fall within the ledger's window. Feedback
that changes nothing (any feedback about an address suppressed already, a soft bounce without an id)
records nothing: a chain kept for years holds changes, not repetitions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.domain.audit import Draft
from chalicelib.domain.events import EventType
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.model import Channel, ContactRecord, Result
from chalicelib.domain.preferences import OptOut, OptOutSource
from chalicelib.services import suppression
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.services.writes import record_change

SOFT_BOUNCE_LIMIT = 3
SOFT_BOUNCE_WINDOW_DAYS = 30


class FeedbackMessageError(ValueError):
    """The SNS message is not an SES bounce or complaint notification."""


def parse_ses_notification(text: str) -> tuple[str, str, list[str], str]:
    """(kind, bounce type, addresses, message id); kind is ``bounce`` or ``complaint``."""
    try:
        raw = json.loads(text)
        kind = str(raw.get("notificationType") or raw.get("eventType")).lower()
        message_id = str((raw.get("mail") or {}).get("messageId") or "")
        if kind == "bounce":
            detail = raw["bounce"]
            recipients, bounce_type = detail["bouncedRecipients"], str(detail.get("bounceType", "Undetermined"))
        elif kind == "complaint":
            recipients, bounce_type = raw["complaint"]["complainedRecipients"], ""
        else:
            raise FeedbackMessageError(f"not a bounce or complaint: {kind}")
        addresses = [r["emailAddress"] for r in recipients]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise FeedbackMessageError(f"not an SES notification: {exc}") from exc
    if not addresses or not all(isinstance(a, str) and "@" in a for a in addresses):
        raise FeedbackMessageError("a recipient is not an email address")
    return kind, bounce_type, addresses, message_id


def _suppressed(led: Ledger, address: str, kind: str, now: datetime) -> Ledger:
    source: OptOutSource = "ses-complaint" if kind == "complaint" else "ses-bounce"
    opt_out = OptOut(channel=Channel.EMAIL, address=address, at=now, source=source)
    return replace(
        led, preferences=led.preferences.model_copy(update={"opt_outs": (*led.preferences.opt_outs, opt_out)})
    )


def _is_suppressed(led: Ledger, address: str) -> bool:
    return any(o.channel is Channel.EMAIL and o.address == address for o in led.preferences.opt_outs)


def _mutation(kind: str, bounce_type: str, address: str, message_id: str, now: datetime) -> Any:
    def mutate(led: Ledger) -> Ledger:
        if _is_suppressed(led, address):
            return led  # feedback about an address suppressed already changes nothing
        if kind == "complaint" or bounce_type == "Permanent":
            return _suppressed(led, address, kind, now)
        if not message_id:  # a redelivery could not be told from a new bounce: not counted
            return led
        bounce = ContactRecord(
            contact_id=f"bounce:{message_id}",
            at=now,
            channel=Channel.EMAIL,
            account_id="-",
            to=address,
            result=Result.BOUNCED,
        )
        led = led.pruned(now, SOFT_BOUNCE_WINDOW_DAYS).with_record(bounce)  # one id counts once
        soft = sum(1 for r in led.history if r.result is Result.BOUNCED)
        return _suppressed(led, address, kind, now) if soft >= SOFT_BOUNCE_LIMIT else led

    return mutate


def _if_changed(draft: Draft) -> Callable[[Ledger, Ledger], list[Draft]]:
    return lambda before, after: [draft] if after != before else []


def handle_ses_notification(text: str, tenant: str, deps: UnitOfWork, now: datetime) -> list[str]:
    """Record the feedback against each address it names; returns the addresses now suppressed."""
    kind, bounce_type, addresses, message_id = parse_ses_notification(text)
    source = "ses-complaint" if kind == "complaint" else "ses-bounce"
    suppressed = []
    for address in addresses:
        key = (tenant, suppression.address_key(address))
        data = {"source": source, "kind": kind, "bounce_type": bounce_type or None, "message_id": message_id}
        mutate = _mutation(kind, bounce_type, address, message_id, now)
        new = record_change(
            key, deps, now, _if_changed(Draft(EventType.SES_FEEDBACK, f"ses:{message_id}", data)), mutate
        )
        if _is_suppressed(new, address):
            suppressed.append(address)
    return suppressed
