"""Events for upstream systems: which audit events become which webhook events, what they carry, where they
may go, and when a failed delivery is tried again (docs/webhooks.md, docs/decisions/0031).

Pure: the caller passes the addresses a host resolved to and the instants; nothing here reads a clock or
the network.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from chalicelib.domain.errors import InvalidFieldError
from chalicelib.domain.events import EventType
from chalicelib.domain.masking import mask_address

# The event catalogue: what a webhook may subscribe to.
EVENT_TYPES = (
    "contact.scheduled",
    "contact.sent",
    "contact.delivered",
    "contact.failed",
    "contact.blocked",
    "contact.unknown",
    "call.settled",
    "preferences.changed",
    "address.suppressed",
    "export.done",
)
TEST_TYPE = "webhook.test"  # sent by ``POST /v1/webhooks/{id}/test`` to that webhook only, whatever it subscribes to
# What an agency's webhook may be told: events about one contact, of the contacts that agency asked for.
CONTACT_TYPES = frozenset(t for t in EVENT_TYPES if t.startswith(("contact.", "call.")))

# audit event type -> webhook event type; receipts, SES feedback and replies depend on what they say (below).
BY_AUDIT_TYPE = {
    EventType.SCHEDULED: "contact.scheduled",
    EventType.SENT: "contact.sent",
    EventType.FAILED: "contact.failed",
    EventType.BLOCKED: "contact.blocked",
    EventType.REFUSED: "contact.blocked",
    EventType.UNKNOWN: "contact.unknown",
    EventType.OUTCOME: "call.settled",
    EventType.PREFERENCES_CHANGED: "preferences.changed",
    EventType.UNSUBSCRIBED: "address.suppressed",
}
RECEIPTS = {"delivered": "contact.delivered", "permanent_failure": "contact.failed"}  # a temporary one is not final

SECRET_PREFIX = "whsec_"
UrlMode = Literal["public", "local"]


class WebhookUrlError(InvalidFieldError):
    """A webhook URL this deployment will not deliver to; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__("url", message)


def webhook_type(event: Mapping[str, Any], suppressed: bool = False) -> str | None:
    """The webhook event an audit event is, or None. ``suppressed``: the commit that recorded this SES feedback
    or reply suppressed its address (a soft bounce below the limit, or a HELP, tells nobody)."""
    kind = event["type"]
    if kind == EventType.DELIVERY:
        return RECEIPTS.get(str((event["data"].get("delivery") or {}).get("status")))
    if kind in (EventType.SES_FEEDBACK, EventType.INBOUND_SMS):  # a bounce, complaint or STOP that suppressed it
        return "address.suppressed" if suppressed else None
    return BY_AUDIT_TYPE.get(kind)


def rule_ids(decided: Mapping[str, Any] | None) -> list[str]:
    """The rules a decision cited (``<pack>/<rule>``), from its ``decided`` event's data."""
    return [str(r["rule"]) for r in (decided or {}).get("reasons", []) if r.get("rule")]


def contact_data(
    event: Mapping[str, Any],
    status: str,
    address: str | None,
    agency: str | None,
    decided: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """A contact event's ``data``: ids, status, the rules cited, a masked address; never a body or the address."""
    data: dict[str, Any] = {
        "contact_id": event["contact_id"],
        "debtor_id": event["debtor_id"],
        "account_id": event.get("account_id"),
        "channel": event.get("channel"),
        "status": status,
        "address": mask_address(address) or None,
        "agency": agency,
        "rule_ids": rule_ids(decided),
        "at": event["at"],
        "seq": event["seq"],
    }
    source = event["data"]
    for key in ("not_before", "error_code", "retryable", "result", "provider_message_id"):
        if source.get(key) is not None:
            data[key] = source[key]
    if event["type"] == EventType.DELIVERY:
        receipt = source.get("delivery") or {}
        data["delivery"] = {k: receipt.get(k) for k in ("status", "at", "provider_code")}
    return data


def envelope(kind: str, timestamp: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The Standard Webhooks payload."""
    return {"type": kind, "timestamp": timestamp.isoformat(), "data": data}


def message_id(webhook_id: str, *about: object) -> str:
    """``webhook-id``: the same for every attempt and redelivery of one event to one webhook, so a receiver
    can drop a duplicate by it; a digest, so the header names no tenant or debtor."""
    digest = hashlib.sha256(json.dumps([webhook_id, *about], default=str).encode()).hexdigest()[:24]
    return f"msg_{digest}"


# -- URLs ---------------------------------------------------------------------------------------------------

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def check_url(url: str, mode: UrlMode) -> str:
    """The URL's host, if its form is acceptable: ``local`` takes http(s) to this machine or anywhere;
    ``public`` takes https only. Where it resolves is checked by ``check_addresses``."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookUrlError("must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise WebhookUrlError("must not carry credentials")
    if mode == "public" and parts.scheme != "https":
        raise WebhookUrlError("must be https")
    return parts.hostname


def check_addresses(host: str, addresses: Sequence[str], mode: UrlMode) -> str:
    """The address to connect to: the first of those ``host`` resolved to, if every one of them is public
    (``public``); any (``local``). One private address among them refuses the URL: DNS may answer it next."""
    if not addresses:
        raise WebhookUrlError(f"{host} does not resolve")
    if mode == "public":
        for text in addresses:
            ip = ipaddress.ip_address(text.split("%", 1)[0])
            if not ip.is_global or ip.is_multicast or ip.is_private or ip.is_loopback or ip.is_link_local:
                raise WebhookUrlError(f"{host} resolves to a private, loopback or link-local address")
    return addresses[0]


# -- retries ------------------------------------------------------------------------------------------------

# After the first attempt fails: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about 27.5 h in all), then the
# dead letters. Standard Webhooks' suggested schedule; more than a day for a receiver to come back.
RETRY_DELAYS = tuple(timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18_000, 36_000, 36_000))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def next_attempt(attempt: int, failed_at: datetime) -> datetime | None:
    """When to try again after attempt number ``attempt`` (1 = the first) failed at ``failed_at``; None: it
    was the last, and the message goes to the dead letters."""
    if attempt >= MAX_ATTEMPTS:
        return None
    return failed_at + RETRY_DELAYS[attempt - 1]


def delivered(status_code: int | None) -> bool:
    """A 2xx answer is a delivery; anything else (a redirect too: none is followed) is tried again."""
    return status_code is not None and 200 <= status_code < 300
