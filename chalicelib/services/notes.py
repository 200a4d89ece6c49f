"""An officer's note or a complaint about a person, recorded on the person's own chain.

A note is an audit event (``note``) like any other: hash-chained after the person's contacts, verified
with them, anchored, exported with them (its text masked in a masked export, as a message body is). It
names the contacts it is about, which must be the person's own.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from chalicelib.domain.audit import Draft
from chalicelib.domain.errors import InvalidFieldError, NotFoundError
from chalicelib.domain.events import EventType
from chalicelib.domain.ledger import Ledger
from chalicelib.services import ids
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.services.writes import record_change

CATEGORIES = ("complaint", "note", "hardship", "vulnerability", "legal", "other")


def new_note_id(now: datetime) -> str:
    return f"nt_{now:%Y%m%d%H%M%S}_{secrets.token_hex(5)}"


def _check_contacts(debtor_id: str, contact_ids: tuple[str, ...]) -> None:
    for contact_id in contact_ids:
        try:
            owner = ids.debtor_of(contact_id)
        except NotFoundError:
            owner = None
        if owner != debtor_id:
            raise InvalidFieldError("contact_ids", f"{contact_id} is not a contact of debtor {debtor_id}")


def record_note(
    tenant: str,
    debtor_id: str,
    deps: UnitOfWork,
    now: datetime,
    *,
    category: str,
    text: str,
    contact_ids: tuple[str, ...] = (),
    key_id: str | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Append the note to the person's chain; the answer names its event (seq and hash)."""
    _check_contacts(debtor_id, contact_ids)
    note_id = new_note_id(now)
    data = {
        "note_id": note_id,
        "category": category,
        "text": text,
        "contact_ids": list(contact_ids),
        "actor": actor,
        "key_id": key_id,
    }
    ledger: Ledger = record_change(
        (tenant, debtor_id), deps, now, [Draft(EventType.NOTE, f"note:{note_id}", data)], lambda led: led
    )
    event = next(e for e in reversed(ledger.outbox) if e["contact_id"] == f"note:{note_id}")
    return {
        "note_id": note_id,
        "debtor_id": debtor_id,
        "category": category,
        "contact_ids": list(contact_ids),
        "seq": event["seq"],
        "hash": event["hash"],
        "at": event["at"],
    }
