"""The daily report: "what happened yesterday?", from the daily rollup, never from the trail.

Totals by status, decision outcome, channel and jurisdiction (the packs that applied), the rules that
blocked most, failed and unknown sends, the deferred backlog, the last invariant check and the last anchor.
Reads: the rollup's items of the day and the days before it (``LOOKBACK_DAYS`` x shards, by BatchGetItem),
the oldest entries of the ledger's ``due`` index (one Query a shard), one anchor listing and one anchor
(docs/decisions/0037-daily-rollup.md).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from chalicelib.domain import rollup
from chalicelib.domain.errors import NotFoundError
from chalicelib.services import anchors
from chalicelib.services.unit_of_work import UnitOfWork

# The backlog is the running sum of deferrals in and out: a deferral is never further than the engine's
# 35-day horizon from its decision, so the days before these hold none still waiting.
LOOKBACK_DAYS = 36
CHART_DAYS = 14  # the days the dashboard's chart shows
TOP_RULES = 10
OLDEST_SCAN = 25  # entries of each shard of the due index read for the oldest due contact
CHART_STATUSES = ("sent", "scheduled", "blocked", "refused", "permitted", "failed", "unknown")


def _watched(counts: dict[str, int]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {kind: {} for kind in rollup.SENDS_WATCHED}
    for name, value in counts.items():
        parts = name.split(":")
        if len(parts) == 3 and parts[0] == "status" and parts[1] in found:
            found[parts[1]][parts[2]] = value
    return found


def _oldest_due(tenant: str, deps: UnitOfWork, now: datetime) -> dict[str, Any] | None:
    """The tenant's deferred contact due first, among the oldest entries of every shard of ``due``."""
    people = [key for key in deps.ledgers.due(now + timedelta(days=LOOKBACK_DAYS), OLDEST_SCAN) if key[0] == tenant]
    if not people:
        return None
    waiting = [
        (d.not_before, led.debtor_id, d.contact_id)
        for led in deps.ledgers.get_many(people[:OLDEST_SCAN])
        for d in led.deferred
    ]
    if not waiting:
        return None
    not_before, debtor_id, contact_id = min(waiting)
    return {"contact_id": contact_id, "debtor_id": debtor_id, "not_before": not_before.isoformat()}


def _last_anchor(tenant: str, deps: UnitOfWork, day: date) -> dict[str, Any] | None:
    """The latest anchor of a day up to the report's (anchors of the 14 days before are looked at)."""
    listed = anchors.days_after(deps.anchors, tenant, (day - timedelta(days=15)).isoformat())
    days = [d for d in listed if d <= day.isoformat()]
    if not days or deps.anchors is None:
        return None
    anchor = anchors.read_anchor(deps.anchors, tenant, days[-1]) or {}
    return {
        "day": days[-1],
        "created_at": anchor.get("created_at"),
        "chains": len(anchor.get("heads", [])),
        "digest": anchor.get("digest"),
    }


def daily_report(tenant: str, day: date, deps: UnitOfWork, now: datetime) -> dict[str, Any]:
    if deps.rollups is None:
        raise NotFoundError("daily reports: this deployment keeps no rollup")
    days = rollup.days_back(day, LOOKBACK_DAYS)
    counts = deps.rollups.read(tenant, days)
    today = counts.get(day.isoformat(), {})
    rules = sorted(rollup.facet(today, "rule").items(), key=lambda pair: (-pair[1], pair[0]))[:TOP_RULES]
    backlog = sum(c.get("deferred:in", 0) - c.get("deferred:out", 0) for c in counts.values())
    return {
        "date": day.isoformat(),
        "generated_at": now.isoformat(),
        "totals": {
            "events": today.get("events", 0),
            "by_status": rollup.facet(today, "status"),
            "by_outcome": rollup.facet(today, "outcome"),
            "by_channel": rollup.facet(today, "channel"),
            "by_jurisdiction": rollup.facet(today, "pack"),
            "other_events": rollup.facet(today, "type"),
        },
        "top_rules": [{"rule": rule, "hits": hits} for rule, hits in rules],
        "failed_and_unknown": _watched(today),
        "deferred": {
            "added": today.get("deferred:in", 0),
            "dispatched": today.get("deferred:out", 0),
            "backlog_at_end_of_day": max(backlog, 0),
            "oldest_due_now": _oldest_due(tenant, deps, now),
        },
        "days": [
            {"date": d, **{s: counts.get(d, {}).get(f"status:{s}", 0) for s in CHART_STATUSES}}
            for d in days[-CHART_DAYS:]
        ],
        "last_invariant_check": deps.rollups.last_check(tenant),
        "last_anchor": _last_anchor(tenant, deps, day),
    }


def yesterday(now: datetime) -> date:
    return (datetime.combine(now.astimezone(UTC).date(), time(0), UTC) - timedelta(days=1)).date()
