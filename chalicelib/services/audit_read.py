"""Reading the audit trail of one person: page through it, and verify it against the ledger's head."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.audit import verify_chain
from chalicelib.services.writes import Deps


def events_page(tenant: str, debtor_id: str, deps: Deps, after_seq: int, limit: int) -> dict[str, Any]:
    """Oldest first; ``cursor`` is the last sequence number returned, or None at the end."""
    events = deps.audit.for_person(tenant, debtor_id, after_seq=after_seq, limit=limit + 1)
    page, more = events[:limit], len(events) > limit
    return {"events": page, "cursor": str(page[-1]["seq"]) if more and page else None}


def verify(tenant: str, debtor_id: str, deps: Deps) -> dict[str, Any]:
    """Recompute every hash and link, then check the chain reaches the head the ledger committed.

    A removed, altered or reordered event breaks a link; a removed tail leaves the chain short of
    the ledger's head (events still in the ledger's outbox are counted as not yet appended).
    """
    events = deps.audit.for_person(tenant, debtor_id)
    ledger = deps.ledgers.get(tenant, debtor_id)
    check = verify_chain(events)
    result: dict[str, Any] = {
        "debtor_id": debtor_id,
        "ok": check.ok,
        "checked": check.checked,
        "head": {"seq": ledger.seq, "hash": ledger.head},
    }
    if not check.ok:
        broken = next((e for e in events if e.get("seq") == check.broken_at), None)
        return {**result, "broken_at": check.broken_at, "problem": check.problem, "event": broken}
    last_seq = events[-1]["seq"] if events else 0
    pending = {e["seq"] for e in ledger.outbox}
    missing = [s for s in range(last_seq + 1, ledger.seq + 1) if s not in pending]
    if missing:
        problem = f"events {missing[0]}..{missing[-1]} are missing: the ledger's head is at seq {ledger.seq}"
        return {**result, "ok": False, "broken_at": missing[0], "problem": problem}
    if events and last_seq == ledger.seq and events[-1]["hash"] != ledger.head:
        return {**result, "ok": False, "broken_at": last_seq, "problem": "the last event is not the ledger's head"}
    return {**result, "pending": sorted(pending)}
