"""Daily anchors: a digest over the heads of every chain touched that day, written under Object Lock.

The ledger's head shows a removed tail only while the ledger itself is intact. An anchor cannot be
changed or deleted before its retention ends, even by the account's administrators, so a tail cut
from both the audit table and the ledger still leaves the anchored head missing.

An anchor's digest is the root of a Merkle tree over its heads (``gateway-anchor/2``), so an export proves
its own chains' heads with an inclusion proof each and carries nothing of the other chains but hashes of
hashes (docs/decisions/0028). Anchors written before (``gateway-anchor/1``) digest the list of heads
itself; they are still read and checked here, and never copied into an export.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from chalicelib.domain import merkle
from chalicelib.domain.events import AuditEvent
from chalicelib.domain.policy import canonical_json
from chalicelib.domain.ports import AuditQuery, LockedObjects

FORMAT = "gateway-anchor/2"
FLAT_FORMAT = "gateway-anchor/1"  # the digest of the whole list of heads: written before inclusion proofs
PROOF_FORMAT = "gateway-anchor-proof/1"  # what an export carries of one day's anchor
# An anchor is written once its day is over and the sweep has had time to append late events.
SETTLE = timedelta(minutes=15)
MAX_TRAILING_ANCHORS = 400  # anchors read after a chain's last event, looking for a cut tail


def chain_id(tenant: str, debtor_id: str) -> str:
    """A chain's name in anchors: pseudonymous, so an anchor in an export reveals no other debtor."""
    return hashlib.sha256(f"{tenant}#{debtor_id}".encode()).hexdigest()[:32]


def anchor_key(tenant: str, day: str) -> str:
    return f"anchors/{tenant}/{day}.json"


def head_leaf(head: dict[str, Any]) -> bytes:
    """A head as a leaf of the day's tree: ``chain`` LF ``seq`` LF ``hash`` (hex, decimal, hex: unambiguous),
    nothing else. Raises ValueError for a head whose fields are not of those types."""
    chain, seq, hashed = head.get("chain"), head.get("seq"), head.get("hash")
    if not isinstance(chain, str) or type(seq) is not int or not isinstance(hashed, str):
        raise ValueError("a head is a chain id, a seq and a hash")
    return merkle.leaf_hash(f"{chain}\n{seq}\n{hashed}".encode())


def digest(heads: list[dict[str, Any]], form: str = FORMAT) -> str:
    """The anchor's digest: the Merkle root over its heads in their order (a flat anchor: their SHA-256)."""
    if form == FLAT_FORMAT:
        return hashlib.sha256(canonical_json(heads).encode()).hexdigest()
    return merkle.root(merkle.levels([head_leaf(h) for h in heads])).hex()


def build_anchor(tenant: str, day: date, events: Iterable[AuditEvent], created_at: datetime) -> dict[str, Any]:
    """From the day's events (any order), the last event of each chain: its seq and hash."""
    last: dict[str, tuple[int, str]] = {}
    for event in events:
        chain = chain_id(tenant, event["debtor_id"])
        if chain not in last or event["seq"] > last[chain][0]:
            last[chain] = (event["seq"], event["hash"])
    heads = [{"chain": c, "seq": s, "hash": h} for c, (s, h) in last.items()]
    # Ordered by leaf hash, which no one predicts without the head's hash: a leaf's place in the tree (its
    # proof's index) says nothing of which other chains sort before it.
    heads.sort(key=head_leaf)
    return {
        "format": FORMAT,
        "tenant": tenant,
        "day": day.isoformat(),
        "created_at": created_at.isoformat(),
        "heads": heads,
        "tree_size": len(heads),
        "digest": digest(heads),
    }


def digest_ok(anchor: dict[str, Any]) -> bool:
    form = FLAT_FORMAT if anchor.get("format") == FLAT_FORMAT else FORMAT
    try:
        return anchor.get("digest") == digest(anchor.get("heads", []), form)
    except ValueError:
        return False


def inclusion_proofs(anchor: dict[str, Any], segments: dict[str, tuple[int, int]]) -> dict[str, Any] | None:
    """What an export carries of a day's anchor: for each chain in ``segments`` (chain id: first and last seq
    exported) whose anchored head is inside its segment, that head and its path to the root. None for a flat
    anchor (a proof would be the whole list of heads) or when no exported chain has its head here."""
    if anchor.get("format") == FLAT_FORMAT:
        return None
    heads = anchor["heads"]
    tree = merkle.levels([head_leaf(h) for h in heads])
    if merkle.root(tree).hex() != anchor.get("digest"):  # fail closed: no proofs against a digest that is wrong
        raise ValueError(f"the anchor of {anchor.get('day')} does not match its digest")
    proofs = []
    for index, head in enumerate(heads):
        span = segments.get(head["chain"])
        if span and span[0] <= head["seq"] <= span[1]:
            path = [node.hex() for node in merkle.path(tree, index)]
            proofs.append({**{k: head[k] for k in ("chain", "seq", "hash")}, "index": index, "path": path})
    if not proofs:
        return None
    document = {"format": PROOF_FORMAT, "tenant": anchor["tenant"], "day": anchor["day"]}
    return {**document, "tree_size": len(heads), "root": anchor["digest"], "proofs": proofs}


def proof_root(proof: dict[str, Any], tree_size: int) -> str | None:
    """The root one inclusion proof leads to (None: not a proof of a tree that size)."""
    try:
        siblings = [bytes.fromhex(node) for node in proof["path"]]
        found = merkle.root_from_path(head_leaf(proof), int(proof["index"]), tree_size, siblings)
    except (KeyError, TypeError, ValueError):
        return None
    return found.hex() if found is not None else None


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
    events = (cast(AuditEvent, event) for _, event in selected)  # select with bodies: whole events
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
