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


class Status(StrEnum):
    """Status of one contact request, as clients see it."""

    SENT = "sent"
    SCHEDULED = "scheduled"
    BLOCKED = "blocked"
    PERMITTED = "permitted"
    REFUSED = "refused"
    FAILED = "failed"
    UNKNOWN = "unknown"


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


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Location(_Frozen):
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    subdivision: str | None = Field(default=None, pattern=r"^[A-Z0-9]{1,3}$")
    timezone: str | None = Field(default=None, max_length=64)


class Message(_Frozen):
    subject: str | None = Field(default=None, max_length=998)
    body: str = Field(min_length=1, max_length=20_000)


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
