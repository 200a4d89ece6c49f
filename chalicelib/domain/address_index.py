"""The address index: which events went to a phone number or an email, found by a keyed hash of the address.

An officer holds an address, not a debtor id ("you rang me at 7"). Each event that names an address (a
contact's ``requested`` event, a reply's ``reply_pending``, what a reply or a bounce came from) enters an
index keyed by an HMAC of the normalised address under a deployment secret, bound to the tenant: the key
reveals nothing without the secret, and one tenant's digest of a number never equals another's
(docs/decisions/0036-address-index-key.md).
"""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers

from chalicelib.domain.addresses import EMAIL
from chalicelib.domain.errors import InvalidFieldError
from chalicelib.domain.events import AuditEvent, EventType

DEFAULT_REGION = "US"  # a national number without its country code is read as a North American one
DIGEST_HEX = 32  # 128 bits: no collision among any tenant's addresses

# The event types that name an address, and the field of their data that holds it.
ADDRESS_FIELDS: dict[str, tuple[str, ...]] = {
    EventType.REQUESTED.value: ("to",),
    EventType.REPLY_PENDING.value: ("to",),
    EventType.INBOUND_SMS.value: ("from", "origination"),
    EventType.UNSUBSCRIBED.value: ("address",),
    EventType.SES_FEEDBACK.value: ("address",),
}


def normalise(text: str, region: str = DEFAULT_REGION) -> str:
    """An email in lower case, or a phone number in E.164; raises ``InvalidFieldError`` on anything else."""
    value = text.strip()
    if "@" in value:
        if not EMAIL.fullmatch(value) or len(value) > 320:
            raise InvalidFieldError("address", "not an email address")
        return value.lower()
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else region)
    except phonenumbers.NumberParseException:
        raise InvalidFieldError("address", "not a phone number or an email address") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidFieldError("address", "not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def stored_form(text: str) -> str:
    """An address as an event holds it, normalised as a search normalises it (as given when it cannot be)."""
    try:
        return normalise(text)
    except InvalidFieldError:
        return text.strip().lower()


def digest(key: bytes, tenant: str, normalised: str) -> str:
    """HMAC-SHA256 of tenant and address under the deployment's key: the index's partition value."""
    message = f"{tenant}\x00{normalised}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:DIGEST_HEX]


def address_of(event: AuditEvent) -> str | None:
    """The address an event names, normalised; None when it names none."""
    data = event.get("data") or {}
    for name in ADDRESS_FIELDS.get(str(event.get("type")), ()):
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return stored_form(value)
    return None


def index_value(key: bytes, event: AuditEvent) -> str | None:
    """``<tenant>#<digest>`` for an event that names an address, else None."""
    address = address_of(event)
    return None if address is None else f"{event['tenant']}#{digest(key, event['tenant'], address)}"
