"""Retention of the audit trail: kept until the person's last activity plus the longest retention of
the packs that applied, then removed by DynamoDB TTL.

An event is written with ``expires_at`` = its own time + that retention. Later activity moves the
person's horizon, and the event may not expire before it: this pass, run daily, finds the events
whose TTL falls in the next weeks and moves ``expires_at`` to the horizon. It is the only write to
an existing audit item: a PutItem of the same item, conditional on every attribute but the TTL being
unchanged, since no role may update an audit item (docs/decisions/0007, 0011, 0029). A chain links every debt of
a person, so the whole chain expires together: verification never meets a chain with a hole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib.domain.errors import ConflictError
from chalicelib.domain.ports import AuditRetention, Ledgers

logger = logging.getLogger(__name__)
LOOKAHEAD_DAYS = 30  # a missed run or two cannot let anything expire early


@dataclass
class RetentionReport:
    checked: int = 0
    extended: int = 0
    errors: int = 0


def horizon(ledgers: Ledgers, tenant: str, debtor_id: str, now: datetime) -> int:
    """Epoch seconds before which nothing of this person may expire."""
    ledger = ledgers.get(tenant, debtor_id)
    last = ledger.last_event_at or now  # a ledger from before this field: count from today, never shorter
    return int((last + timedelta(days=ledger.retention_days)).timestamp())


def extend_retention(
    audit: AuditRetention, ledgers: Ledgers, now: datetime, lookahead_days: int = LOOKAHEAD_DAYS
) -> RetentionReport:
    report, horizons = RetentionReport(), {}
    today = now.astimezone(UTC).date()
    for offset in range(-2, lookahead_days + 1):  # TTL deletes up to two days late: those too
        # Read and extended a page at a time: a big tenant's day is millions of items, and an extended
        # item leaves the day's partition without disturbing the paging (its key is a position).
        for item in audit.expiring(today + timedelta(days=offset)):
            report.checked += 1
            person = (item["tenant"], item["debtor_id"])
            if person not in horizons:
                horizons[person] = horizon(ledgers, *person, now)
            if horizons[person] <= int(item["expires_at"]):
                continue
            try:
                report.extended += audit.extend_retention(item["pk"], int(item["seq"]), horizons[person])
            except ConflictError:
                continue  # already extended by an overlapping run
            except Exception:  # noqa: BLE001 - one item must not stop the pass for everyone else
                logger.exception("retention not extended for one audit item; the next run tries again")
                report.errors += 1
    return report
