"""Keeping, in the address's shared-scope ledger, whom each text to it was about (chalicelib.domain.recipients).

Written before the text leaves, on the ledger the decision already read (one conditional PutItem): a
reply can only answer a text that was sent, so whoever it may answer is known when it arrives. If this
write fails, the text does not leave (the reservation is settled as unknown, counted, never sent).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib.domain.access import SHARED_SCOPE
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.model import ContactRequest, RecipientRole
from chalicelib.domain.recipients import SentTo, remembered
from chalicelib.services import suppression
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.services.writes import Committed, record_change


def remember(request: ContactRequest, contact_id: str, address: Ledger, deps: UnitOfWork, now: datetime) -> None:
    """Record that ``contact_id`` goes to ``request.to``; ``address`` is that address's shared-scope ledger."""
    sent = SentTo(
        tenant=request.tenant,
        debtor_id=request.debtor_id,
        contact_id=contact_id,
        account_id=request.account_id,
        at=now,
        third_party=request.recipient_role is RecipientRole.THIRD_PARTY,
    )

    def mutate(led: Ledger) -> Ledger:
        return replace(led, recent_contacts=remembered(led.recent_contacts, sent, now))

    key = (SHARED_SCOPE, suppression.address_key(request.to))
    first = address if (address.tenant, address.debtor_id) == key else None
    record_change(key, deps, now, [], mutate, Committed(first) if first else None)
