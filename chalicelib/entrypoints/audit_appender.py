"""The ledger stream's edge: stream records to ledgers, for the audit appender (services/appender.py).

Chalice's ``on_dynamodb_record`` trigger cannot report partial failures; it does not need to: appends are
idempotent, so a batch that raises is delivered again and what was appended is skipped.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from chalicelib.adapters.dynamodb import ledger_from_image
from chalicelib.domain.errors import StorageUnavailableError
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.ports import AuditAppend, Outbox, Rollups
from chalicelib.services import appender, webhook_delivery

if TYPE_CHECKING:
    from chalicelib.bootstrap import Runtime

logger = logging.getLogger(__name__)


def images(records: list[dict[str, Any]]) -> list[Ledger]:
    """The new image of each ledger write, in stream order. Deletes carry none; an address's own items
    and other keys are ledgers too. An image that cannot be read is logged and skipped: the ledger it
    belongs to fails closed on every decision, and an operator must repair it."""
    found = []
    for record in records:
        image = record.get("dynamodb", {}).get("NewImage")
        if not image or "outbox" not in image:
            continue
        try:
            found.append(ledger_from_image(image))
        except StorageUnavailableError:
            logger.error("ledger stream image unreadable: %s", image.get("pk", {}).get("S", "?"))
    return found


def incidents(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Incidents written beside a ledger (``IncidentInbox``): each item's body, once, when it is inserted."""
    found = []
    for record in records:
        image = record.get("dynamodb", {}).get("NewImage") or {}
        if "incident" in image and record.get("eventName", "INSERT") == "INSERT":
            found.append(json.loads(image["incident"]["S"]))
    return found


def handle_stream(
    event: dict[str, Any],
    ledgers: Outbox,
    audit: AuditAppend,
    rollups: Rollups | None = None,
    announce: appender.Announce | None = None,
) -> dict[str, int]:
    records = event.get("Records", [])
    copied = appender.copy_incidents(incidents(records), audit)
    report = appender.append_committed(images(records), ledgers, audit, rollups, announce)
    return {"ledgers": report.ledgers, "events": report.events, **({"incidents": copied} if copied else {})}


def audit_stream(event: dict[str, Any], g: Runtime) -> dict[str, int]:
    """The ledger stream's trigger (AUDIT_APPEND=stream): a batch that raises is delivered again. Each
    ledger's appended events are announced to the tenant's webhooks."""
    announce = webhook_delivery.announcer(g.webhooks, g.now)
    return handle_stream(event, g.deps.ledgers, g.audit, g.deps.rollups, announce)
