"""What the audit trail records: a contact's status, the type of each event, the event itself.

One word per thing: a contact's status is the type of the event that set it, so ``EventType`` takes
its status members from ``Status`` and ``STATUS_TYPES`` is derived, checked when this module loads.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from chalicelib.domain.model import Outcome


class Status(StrEnum):
    """Status of one contact request, as clients see it."""

    SENT = "sent"
    SCHEDULED = "scheduled"
    BLOCKED = "blocked"
    PERMITTED = "permitted"
    REFUSED = "refused"
    FAILED = "failed"
    UNKNOWN = "unknown"


class EventType(StrEnum):
    """The ``type`` of an audit event."""

    REQUESTED = "requested"
    DECIDED = "decided"
    # a contact's status: the same words as ``Status``
    SENT = Status.SENT.value
    SCHEDULED = Status.SCHEDULED.value
    BLOCKED = Status.BLOCKED.value
    PERMITTED = Status.PERMITTED.value
    REFUSED = Status.REFUSED.value
    FAILED = Status.FAILED.value
    UNKNOWN = Status.UNKNOWN.value
    OUTCOME = "outcome"  # a call's reported outcome
    INCIDENT = "incident"  # a contact request that could not be committed, kept with its reason
    # what the person said or did, and the answers to it
    INBOUND_SMS = "inbound_sms"
    REPLY_PENDING = "reply_pending"
    REPLY_SENT = "reply_sent"
    REPLY_FAILED = "reply_failed"
    PREFERENCES_CHANGED = "preferences_changed"
    UNSUBSCRIBED = "unsubscribed"
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_RESOLVED = "dispute_resolved"
    SES_FEEDBACK = "ses_feedback"
    # what the provider said became of a sent message (a receipt), and a complaint about one
    DELIVERY = "delivery"
    COMPLAINT = "complaint"
    # the tenant's access chain: keys, export grants, settings
    KEY_CREATED = "key_created"
    KEY_REVOKED = "key_revoked"
    EXPORT_REQUESTED = "export_requested"  # who asked for which export, masked or not, and why
    EXPORT_GRANTED = "export_granted"
    EXPORT_GRANT_WITHDRAWN = "export_grant_withdrawn"
    SETTINGS_CHANGED = "settings_changed"
    # templates, on the same chain: each draft, approval and retirement, with the hash of the text
    TEMPLATE_CREATED = "template_created"
    TEMPLATE_DRAFTED = "template_drafted"
    TEMPLATE_APPROVED = "template_approved"
    TEMPLATE_RETIRED = "template_retired"
    # what an officer recorded about the person: a complaint, a note (``POST /v1/debtors/{id}/notes``)
    NOTE = "note"
    WEBHOOK_CREATED = "webhook_created"  # a webhook registered: its URL, events and agency (never its secret)
    WEBHOOK_DELETED = "webhook_deleted"
    POLICY_IMPACT_REQUESTED = "policy_impact_requested"  # who asked to replay a range under which proposed packs


# Raises at load if a status has no event type of its own.
STATUS_TYPES = frozenset(EventType(status.value) for status in Status)

# What the audit trail's ``outcome``/``status`` filter matches: a decision's outcome or a contact's status.
OUTCOME_FILTER_VALUES = (*(o.value for o in Outcome), *(s.value for s in Status))
OUTCOME_FILTER_PATTERN = "^(" + "|".join(OUTCOME_FILTER_VALUES) + ")$"


class AuditEvent(TypedDict):
    """One link of a person's hash chain, as ``audit.link`` makes it and the audit table stores it.

    Its fields are what ``audit.event_hash`` covers: any key added here changes every hash, so none is.
    """

    tenant: str
    debtor_id: str  # or the tenant's access chain (``ACCESS_CHAIN``)
    seq: int
    type: str  # an ``EventType``; stored and read back as its text
    contact_id: str  # the contact, or what the event is about (``preferences:<debtor>``, ``dispute:<id>``)
    at: str  # ISO 8601 with its offset
    data: dict[str, Any]
    prev_hash: str
    hash: str
    retention_days: NotRequired[int]  # absent on events stored before retention was recorded
    channel: NotRequired[str]  # set on the events of one contact, so the trail can be filtered by them
    account_id: NotRequired[str]
    nonce: NotRequired[str]  # on an event holding an address or a message's text (audit.CONTENT_KEYS)


class AuditEventStub(TypedDict):
    """An event shown without its content (an export stub): the chain still verifies through ``content_hash``."""

    tenant: str
    debtor_id: str
    seq: int
    type: str
    at: str
    prev_hash: str
    hash: str
    retention_days: NotRequired[int]
    content_hash: str
    redacted: bool
