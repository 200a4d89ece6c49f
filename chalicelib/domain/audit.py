"""The audit hash chain: each person's events link by SHA-256 over canonical JSON."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.policy import canonical_json

GENESIS = "0" * 64


class EventType:
    REQUESTED = "requested"
    DECIDED = "decided"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    SCHEDULED = "scheduled"
    BLOCKED = "blocked"
    PERMITTED = "permitted"
    REFUSED = "refused"
    OUTCOME = "outcome"


@dataclass(frozen=True)
class Draft:
    """An event before it takes its place in the chain."""

    type: str
    contact_id: str
    data: dict[str, Any]


def event_hash(event: dict[str, Any]) -> str:
    body = {k: v for k, v in event.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def link(
    drafts: Iterable[Draft],
    *,
    tenant: str,
    debtor_id: str,
    seq: int,
    head: str,
    at: datetime,
) -> list[dict[str, Any]]:
    """Chain drafts after ``seq``/``head``; returns complete events with ``prev_hash`` and ``hash``."""
    events = []
    for draft in drafts:
        seq += 1
        event = {
            "tenant": tenant,
            "debtor_id": debtor_id,
            "seq": seq,
            "type": draft.type,
            "contact_id": draft.contact_id,
            "at": at.isoformat(),
            "data": draft.data,
            "prev_hash": head,
        }
        event["hash"] = head = event_hash(event)
        events.append(event)
    return events


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    broken_at: int | None = None  # seq of the first bad event
    problem: str | None = None


def verify_chain(events: Sequence[dict[str, Any]], start_hash: str = GENESIS, start_seq: int = 0) -> ChainCheck:
    """Recompute every hash and link; name the first event that does not fit."""
    head, seq = start_hash, start_seq
    for count, event in enumerate(events):
        seq += 1
        problem = None
        if event.get("seq") != seq:
            problem = f"expected seq {seq}, found {event.get('seq')}"
        elif event.get("prev_hash") != head:
            problem = "prev_hash does not match the previous event's hash"
        elif event_hash(event) != event.get("hash"):
            problem = "hash does not match the event's content"
        if problem:
            return ChainCheck(ok=False, checked=count, broken_at=seq, problem=problem)
        head = event["hash"]
    return ChainCheck(ok=True, checked=len(events))
