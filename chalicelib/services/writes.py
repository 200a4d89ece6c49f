"""Writing a person's ledger: the conditional commit, retries with backoff, and incidents.

Every change to a ledger goes through here, so version conflicts, retried writes that did apply and
audit appends are handled in one place.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalicelib.domain.audit import Draft
from chalicelib.domain.errors import ConflictError, StorageUnavailableError
from chalicelib.domain.events import EventType
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.model import ContactRequest
from chalicelib.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

MAX_COMMIT_TRIES = 30  # with jittered backoff: ~2 s of contention before giving up


def backoff(deps: UnitOfWork, try_no: int) -> None:
    """Jittered exponential backoff after a version conflict, so contenders spread out."""
    deps.sleep(random.uniform(0, min(0.25, 0.004 * 2**try_no)))


def request_data(request: ContactRequest) -> dict[str, Any]:
    return request.model_dump(mode="json", exclude={"tenant"})


def commit_ledger(deps: UnitOfWork, new: Ledger, expected_version: int) -> Ledger:
    """A conditional write; a conflict is real only if the stored ledger is not this very commit
    (botocore may retry a write that did apply, and the retry then fails its own condition).

    Returns the ledger as stored, so the next write of the same request needs no read."""
    new = replace(new.trimmed(), commit_id=secrets.token_hex(8))
    try:
        deps.ledgers.commit(new, expected_version)
    except ConflictError:
        if deps.ledgers.get(new.tenant, new.debtor_id).commit_id != new.commit_id:
            raise
    return replace(new, version=expected_version + 1)


@dataclass(frozen=True)
class Committed:
    """A commit's result: the ledger as stored, and which of its events are known to be in the audit table."""

    ledger: Ledger
    appended: frozenset[int] = frozenset()


def commit_and_append(ledger: Ledger, new: Ledger, deps: UnitOfWork, now: datetime) -> Committed:
    """Commit, then (inline mode) append the new events."""
    stored = commit_ledger(deps, new, ledger.version)
    if not deps.audit_inline:
        return Committed(stored)  # the stream appender takes them from the ledger's new image
    events = [e for e in stored.outbox if e["seq"] > ledger.seq]
    try:
        deps.audit.append(events)
    except StorageUnavailableError:
        # The ledger holds them: the sweep appends them later. Nothing is lost.
        logger.warning("audit append left to the sweep: %d events", len(events))
        return Committed(stored)
    return Committed(stored, frozenset(e["seq"] for e in events))


def record_incident(
    request: ContactRequest,
    deps: UnitOfWork,
    now: datetime,
    contact_id: str,
    trigger: str,
    exc: Exception,
    events: list[Draft] | None = None,
) -> None:
    """Keep a contact request that could not be committed, with its reason (and the events it could not record).

    It reaches the trail as every event does: through the person's ledger (and the appender). When the ledger
    cannot take it either, it is kept outside the chain in the person's incident partition: written there by
    the appender from an incident item beside the ledger (the audit table has one writer, docs/decisions/0029),
    or directly when events are appended inline; when that fails too, the log line is the only record. Never
    raises: a failure while recording a failure must not turn the caller's 503 into anything else."""
    data: dict[str, Any] = {
        "contact_id": contact_id,
        "trigger": trigger,
        "reason": str(exc),
        "request": request_data(request),
    }
    if events:
        data["unrecorded_events"] = [{"type": d.type, "data": d.data} for d in events]
    draft = Draft(EventType.INCIDENT, contact_id, data, request.channel.value, request.account_id)
    try:
        record_change((request.tenant, request.debtor_id), deps, now, [draft], lambda ledger: ledger)
        return
    except Exception:  # noqa: BLE001 - storage is failing; try the partition outside the chain
        logger.warning("incident not committed to the ledger: %s", exc)
    try:
        inbox = deps.audit if deps.audit_inline else deps.ledgers
        inbox.record_incident(request.tenant, request.debtor_id, now, data)
    except Exception:  # noqa: BLE001 - nothing is sent either way; the log line is then the only record
        logger.error("incident not stored: %s", exc)


def record_change(
    key: tuple[str, str],
    deps: UnitOfWork,
    now: datetime,
    drafts: list[Draft] | Callable[[Ledger, Ledger], list[Draft]],
    mutate: Callable[[Ledger], Ledger],
    after: Committed | None = None,
) -> Ledger:
    """Commit a change that needs no new decision (a send's result, a call's outcome, a preference).

    ``drafts`` may be a function of the ledger read and the changed one, re-run on every retry.
    ``after``: this request's own commit; the first try builds on it instead of reading the ledger again.
    A change that changes nothing and has no event to record writes nothing (a replayed link, a repeated
    STOP): the ledger read is returned as it is.
    """
    appended = after.appended if after else frozenset()
    for try_no in range(MAX_COMMIT_TRIES):
        ledger = after.ledger if after and try_no == 0 else deps.ledgers.get(*key)
        changed = mutate(ledger)
        events = drafts(ledger, changed) if callable(drafts) else drafts
        if not events and changed == ledger:
            return ledger
        new, _events = changed.without_outbox(appended).append(events, now)
        try:
            commit_and_append(ledger.without_outbox(appended), new, deps, now)
        except ConflictError:
            backoff(deps, try_no)
            continue
        return new
    raise StorageUnavailableError("the person's ledger stayed contended")
