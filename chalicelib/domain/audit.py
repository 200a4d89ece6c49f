"""The audit hash chain: each person's events link by SHA-256 over canonical JSON."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from chalicelib.domain.events import STATUS_TYPES, AuditEvent, AuditEventStub, EventType
from chalicelib.domain.masking import holds_hidden
from chalicelib.domain.policy import canonical_json

GENESIS = "0" * 64
# Kept at least this long after the last activity when no applicable pack says more (Reg F's 3 years,
# 12 CFR 1006.100, in days of leap years).
DEFAULT_RETENTION_DAYS = 3 * 366


def event_outcome(event: Mapping[str, Any]) -> str | None:
    """What the ``outcome``/``status`` filter matches: a decision's outcome or a contact's status (of an event
    as stored, or as read back over HTTP); of a ``delivery`` event, its delivery state (the ``delivery``
    filter: no outcome or status has the name of a delivery state but ``delivered``, which no filter on
    ``outcome`` accepts)."""
    if event["type"] == EventType.DECIDED:
        return str(event["data"].get("outcome") or "") or None
    if event["type"] == EventType.DELIVERY:  # a receipt: its delivery state (the ``delivery`` filter)
        return str((event["data"].get("delivery") or {}).get("status") or "") or None
    return str(event["type"]) if event["type"] in STATUS_TYPES else None


@dataclass(frozen=True)
class Draft:
    """An event before it takes its place in the chain."""

    type: EventType
    contact_id: str
    data: dict[str, Any]
    channel: str | None = None  # set on events of one contact, so the trail can be filtered by them
    account_id: str | None = None


# What an event says about its contact; hashed on its own, so an event can be shown without it. ``nonce``: a
# random value in each event that holds what a masked export hides (an address, a message's text), so that
# its ``content_hash`` cannot be matched by hashing guesses of the hidden values (docs/decisions/0042).
CONTENT_KEYS = ("contact_id", "channel", "account_id", "data", "nonce")
NONCE_BYTES = 12  # 96 random bits, 16 characters


def content_hash(event: Mapping[str, Any]) -> str:
    content = {k: event[k] for k in CONTENT_KEYS if k in event}
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def event_hash(event: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the event without ``hash``, its content (contact, channel,
    debt, data) replaced by the content's own SHA-256 (``content_hash``). Two levels, so an event shown
    without its content (an export stub: the other fields plus ``content_hash``) still recomputes to
    the same hash, and no link of a chain has to be taken on trust."""
    if "content_hash" in event and not any(k in event for k in CONTENT_KEYS):
        digest = event["content_hash"]
    else:
        digest = content_hash(event)
    body = {k: v for k, v in event.items() if k not in (*CONTENT_KEYS, "hash", "redacted", "content_hash")}
    body["content_hash"] = digest
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def line_hash(line: Mapping[str, Any]) -> str:
    """The hash an export line recomputes to. A masked line (``masked`` names what it hides) stands for its
    original by the ``content_hash`` it carries, as a stub does: its shown content is not what was hashed."""
    if line.get("masked"):
        return event_hash({k: v for k, v in line.items() if k not in (*CONTENT_KEYS, "masked")})
    return event_hash(line)


def stub(event: AuditEvent) -> AuditEventStub:
    """The event without its content: its place in the chain, its type and time, and ``content_hash``."""
    shown = {k: v for k, v in event.items() if k not in CONTENT_KEYS}
    return cast(AuditEventStub, {**shown, "content_hash": content_hash(event), "redacted": True})


def link(
    drafts: Iterable[Draft],
    *,
    tenant: str,
    debtor_id: str,
    seq: int,
    head: str,
    at: datetime,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    nonce: Callable[[], str] = lambda: secrets.token_urlsafe(NONCE_BYTES),
) -> list[AuditEvent]:
    """Chain drafts after ``seq``/``head``; returns complete events with ``prev_hash`` and ``hash``.

    ``retention_days`` is how long after the person's last activity the event must be kept: the
    longest retention of the packs that applied (it only grows, see ``Ledger.with_retention``).
    """
    events = []
    for draft in drafts:
        seq += 1
        event: dict[str, Any] = {  # typed once whole: ``hash`` is computed over the rest
            "tenant": tenant,
            "debtor_id": debtor_id,
            "seq": seq,
            "type": str(draft.type),  # the text, as stored and read back
            "contact_id": draft.contact_id,
            "at": at.isoformat(),
            "data": draft.data,
            "retention_days": retention_days,
            "prev_hash": head,
        }
        if draft.channel:
            event["channel"] = draft.channel
        if draft.account_id:
            event["account_id"] = draft.account_id
        if any(holds_hidden(event[k], k) for k in CONTENT_KEYS if k in event):
            event["nonce"] = nonce()
        event["hash"] = head = event_hash(event)
        events.append(cast(AuditEvent, event))
    return events


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    broken_at: int | None = None  # seq of the first bad event
    problem: str | None = None


def verify_chain(events: Sequence[Mapping[str, Any]], start_hash: str = GENESIS, start_seq: int = 0) -> ChainCheck:
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
