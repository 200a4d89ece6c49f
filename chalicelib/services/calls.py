"""A dialer reports what became of a permitted call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain.audit import Draft, EventType
from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.model import Channel, Result
from chalicelib.services import ids
from chalicelib.services.contacts import Deps, _record


class NotAVoicePermitError(Exception):
    """The contact is not a permitted call, so it has no call outcome."""


def record_call_outcome(
    tenant: str, contact_id: str, result: Result, deps: Deps, now: datetime, at: datetime | None = None
) -> dict[str, Any]:
    """``not_connected`` stops the call counting as placed; ``conversation`` starts the lockout."""
    result = Result(result)
    debtor_id = ids.debtor_of(contact_id)
    ledger = deps.ledgers.get(tenant, debtor_id)
    record = ledger.record(contact_id)
    if record is None:
        if not deps.audit.for_contact(tenant, contact_id):
            raise NotFoundError(contact_id)
        raise NotAVoicePermitError("the call is older than every policy window or was never permitted")
    if record.channel is not Channel.VOICE:
        raise NotAVoicePermitError("outcomes are reported for voice permits only")
    when = at or record.at
    data = {"result": result.value, "at": when.isoformat(), "previous_result": record.result.value}

    def mutate(led: Ledger) -> Ledger:
        current = led.record(contact_id)
        if current is None:
            return led
        return led.with_record(current.model_copy(update={"result": result, "at": when}))

    _record((tenant, debtor_id), deps, now, [Draft(EventType.OUTCOME, contact_id, data)], mutate)
    return {"contact_id": contact_id, "result": result.value, "at": when.isoformat()}
