"""Sending a committed contact and recording what the provider did (at most once)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from chalicelib.domain.audit import Draft
from chalicelib.domain.errors import (
    DeliveryError,
    DeliveryOutcomeUnknownError,
    PermanentDeliveryError,
    RetryableDeliveryError,
    SecretUnavailableError,
    StorageUnavailableError,
    ThrottledDeliveryError,
)
from chalicelib.domain.events import EventType, Status
from chalicelib.domain.ledger import Deferred, Ledger
from chalicelib.domain.model import Channel, ContactRequest, Decision, Result
from chalicelib.domain.receipts import SentMessage
from chalicelib.services.writes import Committed, UnitOfWork, record_change, record_incident

RETRY_DELAY = timedelta(minutes=5)
THROTTLE_PAUSE = timedelta(seconds=1)  # a throttled message is tried again no sooner than this
UNSUBSCRIBE_FOOTER = "To stop emails to this address / 退订此邮箱: {link}"
MAX_DELIVERIES = 3  # hand-offs of one send to the provider before it is settled failed

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContactResult:
    contact_id: str
    status: Status
    decision: Decision
    provider_message_id: str | None = None
    error_code: str | None = None  # the provider's, when it refused or did not answer

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "contact_id": self.contact_id,
            "status": self.status.value,
            "decision": decision_json(self.decision),
            "policy_version": self.decision.policy_version,
        }
        if self.provider_message_id:
            body["provider_message_id"] = self.provider_message_id
        if self.decision.valid_until is not None:  # a voice permit: the dialer places the call before this
            body["valid_until"] = _instant(self.decision.valid_until)
        return body


def _instant(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def decision_json(decision: Decision) -> dict[str, Any]:
    body = {
        "outcome": decision.outcome.value,
        "not_before": _instant(decision.not_before) if decision.not_before else None,
        "reasons": [r.model_dump() for r in decision.reasons],
    }
    if decision.valid_until is not None:
        body["valid_until"] = _instant(decision.valid_until)
    return body


@dataclass(frozen=True)
class Handling:
    """One contact being handled: who, which id, how many deliveries already failed."""

    request: ContactRequest
    contact_id: str
    deliveries_failed: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return self.request.tenant, self.request.debtor_id


def _send(request: ContactRequest, deps: UnitOfWork) -> str:
    message = request.message
    if message is None:
        raise PermanentDeliveryError("MessageMissing", "no message to send")
    if request.channel is Channel.SMS:
        return deps.sms.send_sms(to=request.to, body=message.body)
    if deps.unsubscribe_headers is None:
        # RFC 8058 one-click unsubscribe is part of every email; without its secret, no email leaves.
        raise PermanentDeliveryError("UnsubscribeNotConfigured", "no unsubscribe secret")
    try:
        headers = deps.unsubscribe_headers(request.tenant, request.to)
    except SecretUnavailableError as exc:  # fail closed: no link, no email; tried again like a provider outage
        raise RetryableDeliveryError("UnsubscribeKeyUnavailable", "the unsubscribe secret could not be read") from exc
    link = headers["List-Unsubscribe"].strip("<>")
    body = f"{message.body}\n\n{UNSUBSCRIBE_FOOTER.format(link=link)}"  # the notice is in every email
    return deps.email.send_email(to=request.to, subject=message.subject or "", body=body, headers=headers)


def _with_result(contact_id: str, result: Result, ledger: Ledger) -> Ledger:
    return ledger.with_result(contact_id, result)


def deliver(
    handling: Handling, decision: Decision, deps: UnitOfWork, now: datetime, committed: Committed
) -> ContactResult:
    """Send what was just committed. The decision read the address's opt-outs strongly consistently one
    write ago; a STOP recorded within that write's few milliseconds is honoured from the next contact on
    (docs/decisions/0010)."""
    contact_id = handling.contact_id

    def settle(event: EventType, data: dict[str, Any], result: Result) -> None:
        _settle(
            handling,
            deps,
            now,
            [Draft(event, contact_id, data, *_facets(handling))],
            partial(_with_result, contact_id, result),
            committed,
        )

    try:
        provider_id = _send(handling.request, deps)
    except DeliveryOutcomeUnknownError as exc:
        # It may have left: keep counting it, never send it again automatically.
        settle(EventType.UNKNOWN, {"error_code": exc.code, "retryable": False}, Result.UNKNOWN)
        return ContactResult(contact_id, Status.UNKNOWN, decision, error_code=exc.code)
    except DeliveryError as exc:
        return _failed(handling, decision, deps, now, exc, committed)
    _remember(handling, decision, provider_id, deps, now)
    settle(EventType.SENT, {"provider_message_id": provider_id}, Result.SENT)
    return ContactResult(contact_id, Status.SENT, decision, provider_id)


def _remember(handling: Handling, decision: Decision, provider_id: str, deps: UnitOfWork, now: datetime) -> None:
    """Keep the message under its provider id, so its receipts find the contact. Never raises: the message
    has left; without this its receipts are dropped (and logged), nothing else is lost."""
    if deps.sent_messages is None:
        return
    request = handling.request
    packs = decision.inputs.get("packs")
    sent = SentMessage(
        channel=request.channel,
        provider_message_id=provider_id,
        tenant=request.tenant,
        contact_id=handling.contact_id,
        account_id=request.account_id,
        to=request.to,
        sent_at=now,
        packs=tuple(str(p) for p in packs) if isinstance(packs, list | tuple) else (),
    )
    try:
        deps.sent_messages.remember(sent)
    except Exception:  # noqa: BLE001 - after a send nothing raises
        logger.warning("a sent message was not kept for its receipts: %s", handling.contact_id)


def _facets(handling: Handling) -> tuple[str, str]:
    """Channel and account of the contact, carried on each of its events."""
    return handling.request.channel.value, handling.request.account_id


def _failed(
    handling: Handling, decision: Decision, deps: UnitOfWork, now: datetime, exc: DeliveryError, committed: Committed
) -> ContactResult:
    """The provider certainly did not send it: a retryable error is tried again later, a bounded number of
    times; a throttle is rescheduled every time (to the channel's next slot when it is paced) and counts
    toward no bound, since it says only that the provider was busy (docs/decisions/0017)."""
    contact_id, throttled = handling.contact_id, isinstance(exc, ThrottledDeliveryError)
    failures = handling.deliveries_failed + (0 if throttled else 1)
    retry = throttled or (not isinstance(exc, PermanentDeliveryError) and failures < MAX_DELIVERIES)
    data = {"error_code": exc.code, "retryable": retry, "delivery_attempt": handling.deliveries_failed + 1}
    if throttled:
        data["throttled"] = True
    drafts = [Draft(EventType.FAILED, contact_id, data, *_facets(handling))]
    retry_at, paced = _retry_at(handling.request, deps, now, throttled)
    if retry:
        drafts.append(
            Draft(
                EventType.SCHEDULED,
                contact_id,
                {"not_before": decision_json(decision.model_copy(update={"not_before": retry_at}))["not_before"]},
                *_facets(handling),
            )
        )

    def mutate(led: Ledger) -> Ledger:
        led = led.with_result(contact_id, Result.FAILED)
        deferred = Deferred(contact_id, handling.request, retry_at, failures, paced=paced)
        return led.with_deferred(deferred) if retry else led

    settled = _settle(handling, deps, now, drafts, mutate, committed)
    if retry and settled and paced:
        _wake(handling, deps, retry_at)
    # Scheduled only if the retry really is in the ledger; otherwise it is over, and says so.
    status = Status.SCHEDULED if retry and settled else Status.FAILED
    return ContactResult(contact_id, status, decision, error_code=exc.code)


def _retry_at(request: ContactRequest, deps: UnitOfWork, now: datetime, throttled: bool) -> tuple[datetime, bool]:
    """When to try a retryable failure again, and whether that instant is a provider slot it holds."""
    if not throttled or deps.pacing is None:
        return now + RETRY_DELAY, False
    try:
        slot = deps.pacing.slot(request, now)
    except Exception:  # noqa: BLE001 - after a send handling nothing raises; the plain delay still reschedules
        logger.warning("no pacing slot for a throttled message; it is tried again after the retry delay")
        return now + RETRY_DELAY, False
    if slot is None:
        return now + RETRY_DELAY, False
    return max(slot, now + THROTTLE_PAUSE), True


def _wake(handling: Handling, deps: UnitOfWork, at: datetime) -> None:
    try:
        deps.wake(handling.request.tenant, handling.request.debtor_id, at)
    except Exception:  # noqa: BLE001 - the retry is committed: a dispatcher tick finds it later
        logger.warning("a throttled contact was not put on the dispatch queue; a tick finds it")


def _settle(
    handling: Handling,
    deps: UnitOfWork,
    now: datetime,
    drafts: list[Draft],
    mutate: Callable[[Ledger], Ledger],
    committed: Committed,
) -> bool:
    """Record what the provider did. The send is over by now, so this never raises: a client told
    "failed" after a send would retry and send twice. What cannot be committed is kept as an incident."""
    try:
        record_change(handling.key, deps, now, drafts, mutate, committed)
    except StorageUnavailableError as exc:
        record_incident(handling.request, deps, now, handling.contact_id, "settle", exc, drafts)
        return False
    return True
