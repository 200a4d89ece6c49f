"""Receipts: what a provider reported about a sent message, and the sent message it is about.

A receipt names only the provider's message id; ``SentMessage`` is what the send kept under that id (the
tenant, the contact, the address and the packs that applied), so the receipt reaches the contact's chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.model import Channel, DeliveryStatus, supersedes

# How long a sent message can be found by its provider id: SMS receipts come within 72 hours, SES bounces and
# delays within days; a complaint weeks later still suppresses its address, without reaching the contact.
SENT_MESSAGE_DAYS = 30


@dataclass(frozen=True)
class SentMessage:
    channel: Channel
    provider_message_id: str
    tenant: str
    contact_id: str
    account_id: str
    to: str
    sent_at: datetime
    packs: tuple[str, ...] = ()  # the packs that applied to the contact: their delivery rules judge a failure


@dataclass(frozen=True)
class Receipt:
    """One report of the provider about one message. ``at`` is the provider's time, never ours."""

    channel: Channel
    provider_message_id: str
    status: DeliveryStatus
    at: datetime
    provider_code: str | None = None
    source: str = "provider"  # sns-delivery-log, ses-event
    # False: the failure says nothing about the address (SES rejected the message itself, for its content):
    # it is not counted against the address by a ``delivery`` rule.
    address_fault: bool = True

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two receipts the same report: redelivered, it is recorded once."""
        return self.status.value, self.at.isoformat(), self.provider_code or ""

    def event_data(self) -> dict[str, Any]:
        return {
            "delivery": {"status": self.status.value, "at": _instant(self.at), "provider_code": self.provider_code},
            "provider_message_id": self.provider_message_id,
            "channel": self.channel.value,
            "source": self.source,
        }


def _instant(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def receipt_key(data: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """The key of the receipt a ``delivery`` event recorded (``Receipt.key``), from its data."""
    delivery = data.get("delivery") or {}
    try:
        at = datetime.fromisoformat(str(delivery["at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return str(delivery.get("status")), at.isoformat(), str(delivery.get("provider_code") or "")


def latest_delivery(events: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """A contact's ``delivery`` answer: the latest receipt of its ``delivery`` events by the provider's time,
    whatever order they were recorded in (``model.supersedes``); None when no receipt came."""
    best: tuple[DeliveryStatus, datetime] | None = None
    answer: dict[str, Any] | None = None
    for event in events:
        if event.get("type") != "delivery":
            continue
        delivery = event["data"].get("delivery") or {}
        try:
            status = DeliveryStatus(str(delivery.get("status")))
            at = datetime.fromisoformat(str(delivery.get("at")).replace("Z", "+00:00"))
        except ValueError:
            continue
        if supersedes(status, at, best):
            best = (status, at)
            answer = {"status": status.value, "at": delivery.get("at"), "provider_code": delivery.get("provider_code")}
    return answer
