"""The dispatcher: sends deferred contacts once due, and repairs the audit table from ledgers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.errors import ConflictError, GatewayError
from chalicelib.services.contacts import Deps, submit_contact

logger = logging.getLogger(__name__)

SWEEP_GRACE = timedelta(seconds=30)


@dataclass
class DispatchReport:
    dispatched: int = 0
    statuses: dict[str, int] | None = None
    repaired_events: int = 0
    errors: int = 0


def dispatch_due(deps: Deps, now: datetime, limit: int = 200) -> DispatchReport:
    """Re-run every due deferred contact through the same submit path (policies or consent may have changed)."""
    report = DispatchReport(statuses={})
    for tenant, debtor_id in deps.ledgers.due(now, limit):
        ledger = deps.ledgers.get(tenant, debtor_id)
        for item in [d for d in ledger.deferred if d.not_before <= now]:
            try:
                result = submit_contact(item.request, deps, now, contact_id=item.contact_id, trigger="dispatcher")
            except GatewayError:
                logger.exception("dispatch of a deferred contact failed; it stays deferred")
                report.errors += 1
                continue
            if result is not None:
                report.dispatched += 1
                assert report.statuses is not None
                report.statuses[result.status.value] = report.statuses.get(result.status.value, 0) + 1
    return report


def sweep_audit(deps: Deps, now: datetime, limit: int = 200) -> int:
    """Append events that ledgers committed but the audit table lacks, then trim those outboxes."""
    repaired = 0
    for tenant, debtor_id in deps.ledgers.with_outbox(now - SWEEP_GRACE, limit):
        ledger = deps.ledgers.get(tenant, debtor_id)
        if not ledger.outbox:
            continue
        first = min(e["seq"] for e in ledger.outbox)
        present = {e["seq"] for e in deps.audit.for_person(tenant, debtor_id, after_seq=first - 1)}
        missing = [e for e in ledger.outbox if e["seq"] not in present]
        deps.audit.append(missing)
        repaired += len(missing)
        try:
            deps.ledgers.commit(ledger.without_outbox(frozenset(e["seq"] for e in ledger.outbox)), ledger.version)
        except ConflictError:
            pass  # a submit got there first; the next sweep trims
    return repaired


def run_dispatcher(deps: Deps, now: datetime) -> DispatchReport:
    report = dispatch_due(deps, now)
    report.repaired_events = sweep_audit(deps, now)
    return report
