"""What a reply changes for the debtors it answers: cease binds each debtor recently texted at the
address (all their debts, Reg F's exempt notices still pass); wrong party suppresses the address for
the debtor whose message it answered only (a reassigned or shared number may belong to another one);
a dispute opens a review on that debtor's chain (chalicelib.services.disputes).

Each change is committed in the debtor's own ledger, with a ``preferences_changed`` event on their
chain naming the reply, its words and the contact it answered. A change already in force changes
nothing and records nothing, so a redelivered reply adds no event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.domain.audit import Draft
from chalicelib.domain.events import EventType
from chalicelib.domain.inbound import Classification, Reply
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.model import Channel
from chalicelib.domain.preferences import OptOut, PerDebt, Preferences
from chalicelib.domain.recipients import SentTo, debtors, latest
from chalicelib.services import disputes
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.services.writes import record_change


def answered(found: Classification, address: Ledger, now: datetime) -> tuple[SentTo, ...]:
    """The contacts a reply answers: for a cease, every debtor texted there lately; else the last text."""
    if found.reply is Reply.CEASE:
        return debtors(address.recent_contacts, now)
    last = latest(address.recent_contacts, now)
    return (last,) if last else ()


def _ceased(prefs: Preferences, number: str, now: datetime) -> Preferences:
    if any(c.account_id == "*" for c in prefs.cease):
        return prefs
    return prefs.model_copy(update={"cease": (*prefs.cease, PerDebt(at=now))})


def _wrong_party(prefs: Preferences, number: str, now: datetime) -> Preferences:
    """The number, on every channel it serves, for this debtor only."""
    new = tuple(
        OptOut(channel=channel, address=number, at=now)
        for channel in (Channel.SMS, Channel.VOICE)
        if not any(o.channel is channel and o.address == number for o in prefs.opt_outs)
    )
    return prefs.model_copy(update={"opt_outs": prefs.opt_outs + new}) if new else prefs


CHANGES: dict[Reply, Callable[[Preferences, str, datetime], Preferences]] = {
    Reply.CEASE: _ceased,
    Reply.WRONG_PARTY: _wrong_party,
}


def apply(
    found: Classification, number: str, message_id: str, contacts: tuple[SentTo, ...], deps: UnitOfWork, now: datetime
) -> bool:
    """Commit the reply's change in each answered debtor's ledger (nothing for other intents). True when
    any debtor's ledger changed."""
    if found.reply is Reply.DISPUTE:
        for sent in contacts:
            disputes.open_dispute(sent, found, message_id, deps, now)
    change = CHANGES.get(found.reply)
    if change is None:
        return False
    changed = [_commit(sent, found, number, message_id, change, deps, now) for sent in contacts]  # every one
    return any(changed)


def _commit(
    sent: SentTo,
    found: Classification,
    number: str,
    message_id: str,
    change: Callable[[Preferences, str, datetime], Preferences],
    deps: UnitOfWork,
    now: datetime,
) -> bool:
    changed = {"now": False}

    def mutate(led: Ledger) -> Ledger:
        return replace(led, preferences=change(led.preferences, number, now))

    def drafts(before: Ledger, after: Ledger) -> list[Draft]:
        changed["now"] = before.preferences != after.preferences
        if not changed["now"]:
            return []
        data: dict[str, Any] = {
            "source": "sms-reply",
            "reply": found.reply.value,
            "matched": found.matched,
            "message_id": message_id,
            "answered_contact_id": sent.contact_id,
            "reason": f"reply {found.reply.value}: {found.matched}",
            "before": before.preferences.model_dump(mode="json"),
            "after": after.preferences.model_dump(mode="json"),
        }
        return [Draft(EventType.PREFERENCES_CHANGED, f"preferences:{sent.debtor_id}", data)]

    record_change((sent.tenant, sent.debtor_id), deps, now, drafts, mutate)
    return changed["now"]
