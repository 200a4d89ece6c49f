"""Daily anchors: a digest over the heads of every chain touched that day, written under Object Lock.

The ledger's head shows a removed tail only while the ledger itself is intact. An anchor cannot be
changed or deleted before its retention ends, even by the account's administrators, so a tail cut
from both the audit table and the ledger still leaves the anchored head missing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from chalicelib.domain.events import AuditEvent
from chalicelib.domain.policy import canonical_json
from chalicelib.domain.ports import AuditQuery, LockedObjects

FORMAT = "gateway-anchor/1"
# An anchor is written once its day is over and the sweep has had time to append late events.
SETTLE = timedelta(minutes=15)
MAX_TRAILING_ANCHORS = 400  # anchors read after a chain's last event, looking for a cut tail


def chain_id(tenant: str, debtor_id: str) -> str:
    """A chain's name in anchors: pseudonymous, so an anchor in an export reveals no other debtor."""
    return hashlib.sha256(f"{tenant}#{debtor_id}".encode()).hexdigest()[:32]


def anchor_key(tenant: str, day: str) -> str:
    return f"anchors/{tenant}/{day}.json"


def digest(heads: list[dict[str, Any]]) -> str:
    return hashlib.sha256(canonical_json(heads).encode()).hexdigest()


def build_anchor(tenant: str, day: date, events: Iterable[AuditEvent], created_at: datetime) -> dict[str, Any]:
    """From the day's events (any order), the last event of each chain: its seq and hash."""
    last: dict[str, tuple[int, str]] = {}
    for event in events:
        chain = chain_id(tenant, event["debtor_id"])
        if chain not in last or event["seq"] > last[chain][0]:
            last[chain] = (event["seq"], event["hash"])
    heads = [{"chain": c, "seq": s, "hash": h} for c, (s, h) in sorted(last.items())]
    return {
        "format": FORMAT,
        "tenant": tenant,
        "day": day.isoformat(),
        "created_at": created_at.isoformat(),
        "heads": heads,
        "digest": digest(heads),
    }


def digest_ok(anchor: dict[str, Any]) -> bool:
    return anchor.get("digest") == digest(anchor.get("heads", []))


def head_of(anchor: dict[str, Any], chain: str) -> dict[str, Any] | None:
    return next((h for h in anchor.get("heads", []) if h.get("chain") == chain), None)


def read_anchor(store: LockedObjects, tenant: str, day: str) -> dict[str, Any] | None:
    """The anchor as first written: a later version or a delete marker (which Object Lock cannot
    prevent) neither hides nor replaces it, and is reported as ``replaced``."""
    raw, versions = store.get_original(anchor_key(tenant, day))
    if raw is None:
        return None  # never written: under Object Lock a written version cannot be deleted
    anchor = dict(json.loads(raw))
    if versions > 1:
        anchor["replaced"] = versions - 1
    return anchor


def original_bytes(store: LockedObjects, tenant: str, day: str) -> bytes | None:
    return store.get_original(anchor_key(tenant, day))[0]


def days_after(
    store: LockedObjects | None, tenant: str, day: str | None, limit: int = MAX_TRAILING_ANCHORS
) -> list[str]:
    """Days anchored after ``day`` (all, if None), oldest first, at most ``limit``."""
    if store is None:
        return []
    prefix = f"anchors/{tenant}/"
    start = anchor_key(tenant, day) if day else None
    keys = store.list_keys(prefix, start_after=start, limit=limit)
    return [k.removeprefix(prefix).removesuffix(".json") for k in keys]


def write_anchor(
    audit: AuditQuery, store: LockedObjects, tenant: str, day: date, now: datetime, retain_days: int
) -> dict[str, Any] | None:
    """Anchor one finished day; an anchor already written is kept (written once, never replaced)."""
    if now < datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC) + SETTLE:
        return None
    existing = read_anchor(store, tenant, day.isoformat())
    if existing is not None:
        return existing  # written once: even a hidden one is not written again
    start = datetime.combine(day, datetime.min.time(), UTC)
    selected = audit.select(tenant=tenant, by="day", value=day.isoformat())
    events = (cast(AuditEvent, event) for _, event in selected)  # untyped port
    anchor = build_anchor(tenant, day, events, now)
    if not anchor["heads"]:
        return None  # nothing happened that day: nothing to anchor
    body = json.dumps(anchor, indent=1, sort_keys=True).encode()
    anchor["version_id"] = store.put_locked(
        anchor_key(tenant, day.isoformat()), body, start + timedelta(days=retain_days)
    )
    return anchor


def anchor_missing_days(
    audit: AuditQuery, store: LockedObjects, tenant: str, now: datetime, retain_days: int, back_days: int = 7
) -> list[str]:
    """The scheduled pass: anchor each of the last ``back_days`` finished days that has none yet."""
    written = []
    today = now.astimezone(UTC).date()
    for offset in range(back_days, 0, -1):
        day = today - timedelta(days=offset)
        anchor = write_anchor(audit, store, tenant, day, now, retain_days)
        if anchor is not None:
            written.append(day.isoformat())
    return written
