"""The daily rollup: counters of what a day's audit events say, per tenant and UTC day.

The audit appender tallies the events it stores in a batch and adds the counts to one small item of the
day (of several shards, so no day is one hot key): the daily report reads those items back, never the
trail (docs/decisions/0037-daily-rollup.md). Counter names are ``<facet>:<value>``:

- ``status:<status>`` a contact's status events (sent, scheduled, blocked, permitted, refused, failed,
  unknown), and ``status:<status>:<channel>`` for failed and unknown sends;
- ``outcome:<outcome>``, ``channel:<channel>``, ``pack:<pack>`` and ``rule:<rule>`` of each decision
  (the packs that applied, the rules named as reasons);
- ``deferred:in`` a contact put on the deferred list (a ``scheduled`` event), ``deferred:out`` one taken
  off it by the dispatcher's decision: the backlog is their running difference;
- ``type:<type>`` every other event type (notes, replies, consent changes), and ``events`` all of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.domain.events import STATUS_TYPES, AuditEvent, EventType

DISPATCHER = "dispatcher"  # the trigger of a deferred contact's decision (services/dispatch.py)
SENDS_WATCHED = ("failed", "unknown")


def day_of(event: AuditEvent) -> str:
    return datetime.fromisoformat(event["at"]).astimezone(UTC).date().isoformat()


def _decided(data: Mapping[str, Any]) -> list[str]:
    names = [f"outcome:{data.get('outcome')}", f"channel:{data.get('channel')}"]
    packs = (data.get("inputs") or {}).get("packs") or []
    names += [f"pack:{p}" for p in packs if isinstance(p, str)]
    names += [f"rule:{r['rule']}" for r in data.get("reasons") or [] if isinstance(r, dict) and r.get("rule")]
    if data.get("trigger") == DISPATCHER:
        names.append("deferred:out")
    return names


def counters(event: AuditEvent) -> list[str]:
    """The counters one event adds one to."""
    kind = str(event["type"])
    names = ["events"]
    if kind == EventType.DECIDED:
        names += _decided(event.get("data") or {})
    elif kind in STATUS_TYPES:
        names.append(f"status:{kind}")
        if kind in SENDS_WATCHED:
            names.append(f"status:{kind}:{event.get('channel', 'none')}")
        if kind == EventType.SCHEDULED:
            names.append("deferred:in")
    elif kind != EventType.REQUESTED:
        names.append(f"type:{kind}")
    return names


def tally(events: Iterable[AuditEvent]) -> dict[tuple[str, str], Counter[str]]:
    """(tenant, UTC day) -> counts, of the events given (each counted once by the caller)."""
    found: dict[tuple[str, str], Counter[str]] = {}
    for event in events:
        found.setdefault((event["tenant"], day_of(event)), Counter()).update(counters(event))
    return found


def days_back(day: date, count: int) -> list[str]:
    return [(day - timedelta(days=offset)).isoformat() for offset in range(count - 1, -1, -1)]


def facet(counts: Mapping[str, int], name: str) -> dict[str, int]:
    """``{value: n}`` of one facet (``status``, ``outcome``, ...), two-part names only."""
    prefix = f"{name}:"
    return {k[len(prefix) :]: v for k, v in sorted(counts.items()) if k.startswith(prefix) and k.count(":") == 1}
