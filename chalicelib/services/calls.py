"""A dialer reports what became of a permitted call."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.audit import Draft
from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.events import EventType
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.model import Channel, ContactRecord, Result
from chalicelib.services import contacts, ids
from chalicelib.services.contacts import record_change
from chalicelib.services.unit_of_work import UnitOfWork

CLOCK_SKEW = timedelta(minutes=5)


class NotAVoicePermitError(Exception):
    """The contact is not a permitted call: never permitted, too old to be kept, or not a call."""


class OutcomeAlreadyReportedError(Exception):
    """The call's outcome was reported before, as another result: an outcome is final."""


class InvalidOutcomeError(ValueError):
    """An outcome field that cannot be true (a call answered in the future, or before it was permitted)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# A permitted call waits for its outcome while ``placed``; one the dispatcher settled as ``unknown`` (no report
# came in time) still takes a late report: the real result replaces ``unknown``, and both stay in the trail.
AWAITING = frozenset({Result.PLACED, Result.UNKNOWN})
WITHOUT_VALID_PERMIT = "placed_without_valid_permit"


def _permit_check(record: ContactRecord, when: datetime) -> dict[str, Any]:
    """A call whose outcome is dated after its permit lapsed was placed without a valid permit: flagged."""
    if record.valid_until is None:
        return {}
    flag = {"valid_until": record.valid_until.isoformat()}
    return {**flag, WITHOUT_VALID_PERMIT: True} if when > record.valid_until else flag


def _check_time(when: datetime, permitted_at: datetime, now: datetime) -> None:
    # The lockout counts from the conversation's day: a time outside the call's life would move it.
    if when > now + CLOCK_SKEW:
        raise InvalidOutcomeError("at", "is in the future")
    if when < permitted_at - CLOCK_SKEW:
        raise InvalidOutcomeError("at", "is before the call was permitted")


def record_call_outcome(
    tenant: str,
    contact_id: str,
    result: Result,
    deps: UnitOfWork,
    now: datetime,
    at: datetime | None = None,
    *,
    agency: str | None = None,
) -> dict[str, Any]:
    """``not_connected`` stops the call counting as placed; ``conversation`` starts the lockout.

    With ``agency``, only a call that agency was permitted is found.
    """
    result = Result(result)
    debtor_id = ids.debtor_of(contact_id)
    ledger = deps.ledgers.get(tenant, debtor_id)
    record = ledger.record(contact_id)
    if record is None:
        events = contacts.contact_events(tenant, contact_id, ledger, deps)
        if not events or (agency is not None and contacts.agency_of(events) != agency):
            raise NotFoundError(contact_id)
        raise NotAVoicePermitError("the call is older than every policy window or was never permitted")
    if agency is not None and record.agency != agency:
        raise NotFoundError(contact_id)
    if record.channel is not Channel.VOICE:
        raise NotAVoicePermitError("outcomes are reported for voice permits only")
    when = at or record.at
    if record.result not in AWAITING:
        if record.result is result:
            return {"contact_id": contact_id, "result": result.value, "at": record.at.isoformat()}
        # An outcome is final: a second one could lift a lockout the first one started.
        raise OutcomeAlreadyReportedError(f"the call's outcome was already reported as {record.result.value}")
    _check_time(when, record.at, now)
    data = {"result": result.value, "at": when.isoformat(), "previous_result": record.result.value}
    data.update(_permit_check(record, when))

    def mutate(led: Ledger) -> Ledger:
        current = led.record(contact_id)
        if current is None:
            return led
        if current.result not in AWAITING:  # another report won the race: outcomes are final
            raise OutcomeAlreadyReportedError(f"the call's outcome was already reported as {current.result.value}")
        return led.with_record(current.model_copy(update={"result": result, "at": when}))

    record_change(
        (tenant, debtor_id),
        deps,
        now,
        [Draft(EventType.OUTCOME, contact_id, data, record.channel.value, record.account_id)],
        mutate,
    )
    return {"contact_id": contact_id, "result": result.value, "at": when.isoformat()}
