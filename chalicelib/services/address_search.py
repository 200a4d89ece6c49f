"""Every event of a tenant to one address (a phone number or an email), across debtors.

The audit table's ``by_address`` index holds, for each event that names an address, a keyed hash of the
address bound to the tenant (``domain/address_index.py``, docs/decisions/0036). A search hashes the address
it is given under every key that may have indexed it, reads the index (a Query a key, never a scan), and
takes each entry's contact whole: its request, decision, send and outcome events.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

from chalicelib.domain import address_index
from chalicelib.domain.errors import InvalidFieldError, NotFoundError
from chalicelib.domain.events import AuditEvent
from chalicelib.services.unit_of_work import UnitOfWork

MAX_CONTACTS = 100  # index entries a page reads: each brings its contact's few events
AT_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z#[^#]{1,200}#\d{12}$")


def index_values(tenant: str, address: str, deps: UnitOfWork) -> list[str]:
    """The address's index key under each key that may have indexed it."""
    if deps.address_keys is None:
        raise NotFoundError("address search: this deployment has no address index key")
    normalised = address_index.normalise(address)
    return [f"{tenant}#{address_index.digest(key, tenant, normalised)}" for key in deps.address_keys.checking()]


def _fingerprint(values: list[str], descending: bool) -> str:
    return hashlib.sha256(f"{values[0]}#{descending}".encode()).hexdigest()[:16]


def _encode(at_key: str, values: list[str], descending: bool) -> str:
    raw = json.dumps({"a": at_key, "q": _fingerprint(values, descending)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, values: list[str], descending: bool) -> str:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at_key, fingerprint = raw["a"], raw["q"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidFieldError("cursor", "not a cursor this API returned") from None
    if not isinstance(at_key, str) or not AT_KEY.fullmatch(at_key):
        raise InvalidFieldError("cursor", "not a cursor this API returned")
    if fingerprint != _fingerprint(values, descending):
        raise InvalidFieldError("cursor", "belongs to another address or order")
    return at_key


def _events_of(tenant: str, entry: dict[str, Any], deps: UnitOfWork) -> list[AuditEvent]:
    """The entry's contact, whole; an event of no contact (a reply on an address's chain) alone."""
    contact_id = entry.get("contact_id")
    if contact_id is None:
        found = deps.audit.by_keys(tenant, [(entry["debtor_id"], entry["seq"])])
        if not found:
            return []
        contact_id = found[0]["contact_id"]
        if not contact_id.startswith("ct_"):
            return found
    return deps.audit.for_contact(tenant, contact_id)


def events_page(
    tenant: str,
    address: str,
    deps: UnitOfWork,
    *,
    descending: bool = True,
    limit: int = MAX_CONTACTS,
    cursor: str | None = None,
) -> dict[str, Any]:
    """One page: the events of up to ``limit`` contacts (or other events) to ``address``, newest contact
    first unless ``descending`` is False, and a cursor to the next page (None at the end)."""
    values = index_values(tenant, address, deps)
    after = _decode(cursor, values, descending) if cursor else None
    size = min(limit, MAX_CONTACTS)
    entries = deps.audit.to_address(tenant, values, after=after, descending=descending, limit=size + 1)
    more, entries = len(entries) > size, entries[:size]
    events: list[AuditEvent] = []
    seen: set[tuple[str, int]] = set()
    for entry in entries:
        for event in _events_of(tenant, entry, deps):
            key = (event["debtor_id"], event["seq"])
            if event["tenant"] == tenant and key not in seen:
                seen.add(key)
                events.append(event)
    return {
        "events": events,
        "contacts": len(entries),
        "debtors": sorted({e["debtor_id"] for e in events}),
        "cursor": _encode(entries[-1]["at_key"], values, descending) if more else None,
        "order": "desc" if descending else "asc",
    }
