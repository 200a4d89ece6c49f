"""Value objects of the gateway: requests, history records, decisions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    VOICE = "voice"


class RecipientRole(StrEnum):
    DEBTOR = "debtor"
    THIRD_PARTY = "third_party"


class Purpose(StrEnum):
    REMINDER = "reminder"
    NEGOTIATION = "negotiation"
    REPAYMENT_PLAN = "repayment_plan"
    LEGAL_NOTICE = "legal_notice"
    REQUIRED_BY_LAW = "required_by_law"
    CEASE_ACKNOWLEDGEMENT = "cease_acknowledgement"
    LOCATION_INFORMATION = "location_information"  # a third party asked only where the debtor can be reached


class OnBlocked(StrEnum):
    DEFER = "defer"
    REJECT = "reject"


class Outcome(StrEnum):
    ALLOW = "allow"
    DEFER = "defer"
    DENY = "deny"


class Result(StrEnum):
    """What became of one attempt, as the ledger counts it."""

    PLACED = "placed"  # voice permit granted, outcome not yet reported
    NOT_CONNECTED = "not_connected"
    UNANSWERED = "unanswered"
    VOICEMAIL = "voicemail"
    CONVERSATION = "conversation"
    PENDING = "pending"  # message reserved, provider not yet answered
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    BOUNCED = "bounced"
    UNKNOWN = "unknown"  # provider may or may not have sent it: counted


VOICE_RESULTS = frozenset({Result.NOT_CONNECTED, Result.UNANSWERED, Result.VOICEMAIL, Result.CONVERSATION})
MESSAGE_RESULTS = frozenset({Result.SENT, Result.DELIVERED, Result.FAILED, Result.BOUNCED})
# Results that are not final: a permitted call not yet reported (or settled ``unknown`` when no report came),
# a message the provider has not answered for, or may or may not have sent.
UNRESOLVED = frozenset({Result.PLACED, Result.PENDING, Result.UNKNOWN})


class DeliveryStatus(StrEnum):
    """What the provider reported about a sent message (its receipt): the words of GOV.UK Notify and Twilio."""

    DELIVERED = "delivered"
    TEMPORARY_FAILURE = "temporary_failure"  # not delivered for now (a phone off, a full inbox): may still be
    PERMANENT_FAILURE = "permanent_failure"  # never delivered to this address (a wrong number, a hard bounce)


# Equal instants: a final word outranks a temporary one, and a failure outranks a delivery (fail closed).
_DELIVERY_RANK = {DeliveryStatus.TEMPORARY_FAILURE: 0, DeliveryStatus.DELIVERED: 1, DeliveryStatus.PERMANENT_FAILURE: 2}


def supersedes(status: DeliveryStatus, at: datetime, current: tuple[DeliveryStatus, datetime] | None) -> bool:
    """Whether a receipt (``status`` at provider time ``at``) replaces the ``current`` one: the latest by the
    provider's time wins, whatever order receipts arrive in, so a late ``delivered`` never overrides a
    ``permanent_failure`` the provider reported after it, nor the other way round."""
    if current is None:
        return True
    held, held_at = current
    return at > held_at or (at == held_at and _DELIVERY_RANK[status] > _DELIVERY_RANK[held])


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Location(_Frozen):
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    subdivision: str | None = Field(default=None, pattern=r"^[A-Z0-9]{1,3}$")
    timezone: str | None = Field(default=None, max_length=64)
    postal_code: str | None = Field(default=None, max_length=16)


class Message(_Frozen):
    subject: str | None = Field(default=None, max_length=998)
    body: str = Field(min_length=1, max_length=20_000)


class TemplateRef(_Frozen):
    """The approved template version a message was rendered from, and the SHA-256 of the rendered body."""

    id: str
    version: int
    locale: str
    sha256: str


class ContactRequest(_Frozen):
    """One message or one call permit an upstream system asks for (validated)."""

    tenant: str
    debtor_id: str
    account_id: str
    channel: Channel
    to: str
    recipient_role: RecipientRole = RecipientRole.DEBTOR
    location: Location = Location()
    message: Message | None = None
    purpose: Purpose = Purpose.REMINDER
    days_past_due: int | None = None
    on_blocked: OnBlocked = OnBlocked.DEFER
    agency: str | None = None  # the collection agency asking for the creditor (from its API key)
    submitted_by: str | None = None  # the API key's id (never the key)
    metadata: dict[str, Any] = Field(default_factory=dict)
    template: TemplateRef | None = None  # the message was rendered from this approved version


class ContactRecord(_Frozen):
    """One earlier attempt or conversation, as rules count it."""

    contact_id: str
    at: datetime
    channel: Channel
    account_id: str
    to: str | None = None
    result: Result
    direction: Direction = Direction.OUTBOUND
    agency: str | None = None
    recipient_role: RecipientRole = RecipientRole.DEBTOR
    valid_until: datetime | None = None  # a voice permit: the dialer may place the call until then
    outcome_due: datetime | None = None  # a voice permit: no outcome reported by then, it is settled unknown
    # A message's latest receipt (by the provider's time); its ``result`` stays what was sent, so a receipt
    # changes no count by itself: only a rule whose ``counts`` names a delivery state sees it.
    delivery: DeliveryStatus | None = None
    delivery_at: datetime | None = None
    delivery_code: str | None = None  # the provider's code of that receipt

    def delivery_json(self) -> dict[str, Any] | None:
        """The record's latest receipt, as a contact's answer shows it (``delivery``)."""
        if self.delivery is None or self.delivery_at is None:
            return None
        at = self.delivery_at.isoformat().replace("+00:00", "Z")
        return {"status": self.delivery.value, "at": at, "provider_code": self.delivery_code}

    @property
    def unresolved(self) -> bool:
        return self.result in UNRESOLVED


def possible_deliveries(record: ContactRecord) -> frozenset[DeliveryStatus]:
    """Every delivery state a message may end in, as counting sees it: a message without a final receipt may
    yet be delivered or fail (the worst case, as for results); a call has none."""
    if record.channel is Channel.VOICE or record.direction is not Direction.OUTBOUND:
        return frozenset()
    if record.delivery in (DeliveryStatus.DELIVERED, DeliveryStatus.PERMANENT_FAILURE):
        return frozenset({record.delivery})
    if record.result not in (Result.SENT, Result.UNKNOWN, Result.PENDING):
        return frozenset()  # it never left
    return frozenset(DeliveryStatus)


def possible_results(record: ContactRecord) -> frozenset[Result]:
    """Every result a record may turn out to have: what rules count it as until it is known.

    A call without a reported outcome may have been a conversation; a message in flight may have been
    delivered. Counting a record whenever any of these is counted makes each rule see the worst case.
    """
    if not record.unresolved:
        return frozenset({record.result})
    finals = VOICE_RESULTS if record.channel is Channel.VOICE else MESSAGE_RESULTS
    return frozenset({record.result, *finals})


class Reason(_Frozen):
    rule: str
    citation: str
    message: str


class Decision(_Frozen):
    outcome: Outcome
    not_before: datetime | None = None
    reasons: tuple[Reason, ...] = ()
    policy_version: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    valid_until: datetime | None = None  # an allowed call: place it before this instant, or ask again
