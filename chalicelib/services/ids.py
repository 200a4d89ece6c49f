"""Contact ids: time-ordered, unguessable, and naming the person's ledger they belong to.

The id carries the debtor id (base32) so an outcome or a status read finds the ledger with one
strongly consistent read instead of an eventually consistent index lookup.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from datetime import datetime

from chalicelib.domain.errors import NotFoundError


def new_contact_id(debtor_id: str, now: datetime) -> str:
    return f"ct_{int(now.timestamp() * 1000):012x}{secrets.token_hex(6)}_{_person(debtor_id)}"


def contact_id_for_key(tenant: str, debtor_id: str, key: str, agency: str | None = None) -> str:
    """The same Idempotency-Key always names the same contact, so a replay whose first response was
    lost is recognised in the ledger itself, not only in the idempotency store. Each agency of a
    creditor has keys of its own: two agencies picking the same key name two contacts."""
    text = json.dumps([tenant, agency, key]) if agency else f"{tenant}\n{key}"  # the latter: ids already issued
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    return f"ct_{digest}_{_person(debtor_id)}"


def _person(debtor_id: str) -> str:
    return base64.b32encode(debtor_id.encode()).decode().rstrip("=").lower()


def debtor_of(contact_id: str) -> str:
    prefix, _, rest = contact_id.partition("_")
    _stamp, _, person = rest.partition("_")
    if prefix != "ct" or not person:
        raise NotFoundError(contact_id)
    padded = person.upper() + "=" * (-len(person) % 8)
    try:
        return base64.b32decode(padded).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise NotFoundError(contact_id) from exc
