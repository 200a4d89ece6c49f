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

    @property
    def unresolved(self) -> bool:
        return self.result in UNRESOLVED


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
