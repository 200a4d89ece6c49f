"""The audit appender: copies each committed ledger's new events into the audit table, off the request path.

A decision commits its events in the person's ledger (the outbox) and returns. The ledger table's stream
hands every new image to this appender, which puts the events that are not yet marked as appended
(conditional ``PutItem``s, idempotent by person and sequence number) and then marks them
(``mark_appended``, which never changes the ledger's version). The sweep repairs whatever the stream missed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain import rollup
from chalicelib.domain.errors import StorageUnavailableError
from chalicelib.domain.events import AuditEvent
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.ports import AuditAppend, Outbox, Rollups

logger = logging.getLogger(__name__)


class AppendIncompleteError(Exception):
    """Some ledgers' events could not be appended; the stream delivers the batch again (appends are no-ops)."""


@dataclass
class AppendReport:
    ledgers: int = 0  # images with events not yet marked as appended
    events: int = 0  # events the audit table did not hold before
    failed: list[tuple[str, str]] = field(default_factory=list)


def unappended(ledger: Ledger) -> list[AuditEvent]:
    return [e for e in ledger.outbox if e["seq"] > ledger.appended_seq]


# Told of each ledger's events once they are in the audit table, before they are marked: the webhooks
# (services/webhook_delivery.py). Raising StorageUnavailableError has the image delivered again.
Announce = Callable[[Ledger, Sequence[AuditEvent]], object]


def append_committed(
    images: Iterable[Ledger],
    ledgers: Outbox,
    audit: AuditAppend,
    rollups: Rollups | None = None,
    announce: Announce | None = None,
) -> AppendReport:
    """Append the events of each person's latest image. A later image holds every unappended event of an
    earlier one (only the appender's mark trims an outbox), so one per person suffices. The events this
    batch stored (and only those: a redelivery counts nothing twice) are added to the daily rollup."""
    latest = {(led.tenant, led.debtor_id): led for led in images}
    report = AppendReport()
    stored: list[AuditEvent] = []
    for (tenant, debtor_id), ledger in latest.items():
        events = unappended(ledger)
        if not events:
            continue
        try:
            new = audit.append_new(events)
            if announce is not None:
                announce(ledger, events)
            ledgers.mark_appended(ledger, max(e["seq"] for e in events))
        except StorageUnavailableError:
            logger.exception("audit append failed for one person; the stream delivers it again")
            report.failed.append((tenant, debtor_id))
            continue
        report.ledgers += 1
        report.events += len(new)
        stored += new
    roll_up(stored, rollups)
    if report.failed:
        raise AppendIncompleteError(f"{len(report.failed)} of {len(latest)} ledgers not appended")
    return report


def roll_up(stored: list[AuditEvent], rollups: Rollups | None) -> None:
    """One rollup write per tenant and day of the batch (docs/decisions/0037). A write that fails loses
    these counts, logged: the events are stored, and a redelivery would not count them again."""
    if rollups is None:
        return
    for (tenant, day), counts in rollup.tally(stored).items():
        try:
            rollups.add(tenant, day, counts)
        except StorageUnavailableError:
            logger.exception("daily rollup write failed: %d events of %s not counted", counts["events"], day)


def copy_incidents(incidents: Iterable[dict[str, Any]], audit: AuditAppend) -> int:
    """Incidents kept beside a ledger (its own commit failed), into the audit table's incident partition.
    The put is idempotent by person and instant, so a redelivered batch copies nothing twice."""
    copied = 0
    for incident in incidents:
        at = datetime.fromisoformat(incident["at"])
        try:
            audit.record_incident(incident["tenant"], incident["debtor_id"], at, incident["data"])
        except StorageUnavailableError as exc:
            raise AppendIncompleteError("an incident was not copied; the stream delivers it again") from exc
        copied += 1
    return copied
