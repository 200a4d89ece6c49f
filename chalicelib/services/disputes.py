"""Disputes raised by a reply ("not my debt", 我已经还款了): opened on the debtor's chain for review, closed
by a compliance officer with a reason. Both are audit events of the dispute (``dispute:<id>``).

An open dispute is also state: the debtor's preferences hold it (id, account, since when) from the same
ledger commit as ``dispute_opened`` until the one of ``dispute_resolved``, so every later decision sees it
atomically (a pack's ``consent`` rule with ``check: dispute`` holds the debt meanwhile).

The id follows from the reply's ``inboundMessageId``, so a redelivered reply opens nothing new.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.domain.audit import Draft
from chalicelib.domain.errors import GatewayError, NotFoundError
from chalicelib.domain.events import AuditEvent, EventType
from chalicelib.domain.inbound import Classification
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.preferences import ALL, OpenDispute
from chalicelib.domain.recipients import SentTo
from chalicelib.services.contacts import contact_events
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.services.writes import record_change


class DisputeResolvedError(GatewayError):
    """The dispute's review was closed before: a second resolution changes nothing."""


def dispute_id(message_id: str, now: datetime) -> str:
    return "dp_" + hashlib.sha256((message_id or now.isoformat()).encode()).hexdigest()[:16]


def _events(tenant: str, dispute: str, ledger: Ledger, deps: UnitOfWork) -> list[AuditEvent]:
    return contact_events(tenant, f"dispute:{dispute}", ledger, deps)


def open_dispute(sent: SentTo, found: Classification, message_id: str, deps: UnitOfWork, now: datetime) -> None:
    """Record the dispute on the chain of the debtor whose text the reply answered."""
    dispute = dispute_id(message_id, now)
    data = {
        "dispute_id": dispute,
        "source": "sms-reply",
        "message_id": message_id,
        "matched": found.matched,
        "answered_contact_id": sent.contact_id,
        "account_id": sent.account_id,
    }
    # An answered text without an account (never expected) holds every debt: fail closed.
    held = OpenDispute(dispute_id=dispute, account_id=sent.account_id or ALL, opened_at=now)

    def mutate(led: Ledger) -> Ledger:
        if _events(sent.tenant, dispute, led, deps):
            return led  # opened by an earlier delivery of this reply (and maybe resolved since)
        return replace(led, preferences=led.preferences.with_dispute(held))

    def drafts(before: Ledger, after: Ledger) -> list[Draft]:
        if before.preferences == after.preferences:
            return []
        return [Draft(EventType.DISPUTE_OPENED, f"dispute:{dispute}", data, "sms", sent.account_id)]

    record_change((sent.tenant, sent.debtor_id), deps, now, drafts, mutate)


def resolve(
    tenant: str,
    debtor_id: str,
    dispute: str,
    reason: str,
    deps: UnitOfWork,
    now: datetime,
    *,
    key_id: str | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Close the review with the officer's reason (audited). Unknown: NotFoundError; closed: DisputeResolvedError."""

    def drafts(before: Ledger, _after: Ledger) -> list[Draft]:
        events = _events(tenant, dispute, before, deps)
        if not any(e["type"] == EventType.DISPUTE_OPENED for e in events):
            raise NotFoundError(f"dispute {dispute}")
        if any(e["type"] == EventType.DISPUTE_RESOLVED for e in events):
            raise DisputeResolvedError(dispute)
        data = {"dispute_id": dispute, "reason": reason, "actor": actor, "key_id": key_id}
        return [Draft(EventType.DISPUTE_RESOLVED, f"dispute:{dispute}", data)]

    def mutate(led: Ledger) -> Ledger:
        return replace(led, preferences=led.preferences.without_dispute(dispute))

    record_change((tenant, debtor_id), deps, now, drafts, mutate)
    return {"dispute_id": dispute, "debtor_id": debtor_id, "status": "resolved", "reason": reason}
