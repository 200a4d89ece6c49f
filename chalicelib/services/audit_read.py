"""Reading the audit trail: filtered, paginated queries, and verification of chains against the
ledger's head and the daily anchors.

Every read is a DynamoDB Query on the table's key (one person) or on an index (tenant x day, tenant
x debt); none is a Scan, so a query costs what it returns, not what the table holds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from chalicelib.domain.audit import ChainCheck, verify_chain
from chalicelib.domain.errors import InvalidFieldError, NotFoundError
from chalicelib.domain.events import AuditEvent
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.policy import canonical_json
from chalicelib.domain.ports import AuditQuery, LockedObjects
from chalicelib.services import anchors
from chalicelib.services.unit_of_work import UnitOfWork

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30


@dataclass(frozen=True)
class EventQuery:
    debtor_id: str | None = None
    account_id: str | None = None
    channel: str | None = None
    outcome: str | None = None  # a decision's outcome or a contact's status (the ``status`` filter too)
    type: str | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive
    descending: bool = False
    limit: int = 100

    def fingerprint(self) -> str:
        """What a cursor is bound to: the same filters, whatever the page size."""
        fields = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items() if k != "limit"}
        return hashlib.sha256(canonical_json(fields).encode()).hexdigest()[:16]


def utc_bound(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def at_range(start: datetime | None, end: datetime | None) -> tuple[str, str] | None:
    """``[start, end)`` as bounds on ``at_key`` (``<utc>#<debtor>#<seq>``); '~' sorts after every suffix."""
    if start is None and end is None:
        return None
    low = utc_bound(start) if start else ""
    high = utc_bound(end - timedelta(microseconds=1)) + "~" if end else "~"
    return low, high


def _bounded(query: EventQuery, now: datetime) -> EventQuery:
    """A query with neither a debtor nor a debt reads day partitions: its range must be bounded."""
    if query.start and query.end and query.start >= query.end:
        raise InvalidFieldError("to", "must be after 'from'")
    if query.debtor_id or query.account_id:
        return query
    end = query.end or now
    start = query.start or end - timedelta(days=DEFAULT_RANGE_DAYS)
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise InvalidFieldError("from", f"a range without debtor_id or account_id spans at most {MAX_RANGE_DAYS} days")
    return EventQuery(**{**asdict(query), "start": start, "end": end})


def _days(start: datetime, end: datetime, descending: bool) -> list[date]:
    first, last = start.astimezone(UTC).date(), (end - timedelta(microseconds=1)).astimezone(UTC).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return days[::-1] if descending else days


def _filters(query: EventQuery, tenant: str, by: str) -> dict[str, str]:
    filters = {"channel": query.channel, "outcome": query.outcome, "type": query.type}
    if by == "person" and query.account_id:
        filters["account_key"] = f"{tenant}#{query.account_id}"
    return {k: v for k, v in filters.items() if v}


def _page_size(query: EventQuery, filters: dict[str, str]) -> int:
    """Items read per Query: a page and one more when every item read is returned; more with filters
    (DynamoDB applies them after reading), so a filtered page needs fewer round trips."""
    return min(query.limit + 1, 1000) if not filters else 200


def matching(
    tenant: str,
    query: EventQuery,
    audit: AuditQuery,
    start_key: dict[str, Any] | None = None,
    *,
    bodies: bool = True,
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Every event the query selects, in order, as (key, event); resumes after ``start_key``. Without
    ``bodies`` an event is only its ``debtor_id`` and ``seq``, read in DynamoDB's largest pages (1 MB):
    nobody resumes that reading from a cursor."""
    forward = not query.descending
    bounds = at_range(query.start, query.end)
    if query.debtor_id or query.account_id:
        by = "person" if query.debtor_id else "account"
        value = str(query.debtor_id or query.account_id)
        filters = _filters(query, tenant, by)
        yield from audit.select(
            tenant=tenant,
            by=by,
            value=value,
            at_range=bounds,
            filters=filters,
            forward=forward,
            start_key=start_key,
            page_size=_page_size(query, filters) if bodies else None,
            bodies=bodies,
        )
        return
    assert query.start and query.end
    resume_day = start_key["day_key"].split("#")[1] if start_key else None  # tenant#day, or tenant#day#shard
    filters = _filters(query, tenant, "day")
    for day in _days(query.start, query.end, query.descending):
        if resume_day and (day.isoformat() < resume_day if forward else day.isoformat() > resume_day):
            continue
        key = start_key if resume_day == day.isoformat() else None
        yield from audit.select(
            tenant=tenant,
            by="day",
            value=day.isoformat(),
            at_range=bounds,
            filters=filters,
            forward=forward,
            start_key=key,
            page_size=_page_size(query, filters) if bodies else None,
            bodies=bodies,
        )


def _encode_cursor(key: dict[str, Any], asked: EventQuery, bounded: EventQuery) -> str:
    payload: dict[str, Any] = {"q": asked.fingerprint(), "k": key}
    if (bounded.start, bounded.end) != (asked.start, asked.end):
        # A window the server chose (the last 30 days, up to now): the next pages keep it, however
        # much later they are asked for, or the cursor would never match the query again.
        payload["w"] = [
            bounded.start.isoformat() if bounded.start else None,
            bounded.end.isoformat() if bounded.end else None,
        ]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _window(raw: Any) -> tuple[datetime, datetime] | None:
    if raw is None:
        return None
    start, end = (datetime.fromisoformat(v) for v in raw)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("naive window")
    if not all(1970 <= at.year <= 9000 for at in (start, end)):  # the calendar api.instant accepts
        raise ValueError("window out of range")
    return start, end


def _decode_cursor(cursor: str, query: EventQuery) -> tuple[dict[str, Any], tuple[datetime, datetime] | None]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key, fingerprint, window = raw["k"], raw["q"], _window(raw.get("w"))
        if not isinstance(key, dict) or not isinstance(key.get("pk"), str) or not isinstance(key.get("seq"), int):
            raise ValueError("bad key")
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise InvalidFieldError("cursor", "not a cursor this API returned") from None
    if fingerprint != query.fingerprint():
        raise InvalidFieldError("cursor", "belongs to a query with other filters")
    return dict(key), window


_CURSOR_KEYS = {"person": ("pk", "seq"), "day": ("pk", "seq", "day_key", "at_key")}
_CURSOR_KEYS["account"] = ("pk", "seq", "account_key", "at_key")


def _check_key(tenant: str, query: EventQuery, key: dict[str, Any]) -> None:
    """The client holds the cursor and may change it: its key must be one of an item this query reads,
    or DynamoDB refuses it (a 503) or the day index cannot resume from it (a 500)."""
    by = "person" if query.debtor_id else "account" if query.account_id else "day"
    names = _CURSOR_KEYS[by]
    seq = key.get("seq")
    fits = set(key) == set(names) and all(isinstance(key[n], str) for n in names if n != "seq")
    fits = fits and type(seq) is int and 0 <= seq < 2**53  # a bool is an int; DynamoDB numbers have limits
    if fits and by == "person":
        fits = key["pk"] == f"{tenant}#{query.debtor_id}"
    elif fits and by == "account":
        fits = key["account_key"] == f"{tenant}#{query.account_id}"
    elif fits and query.start and query.end:
        days = {f"{tenant}#{day.isoformat()}" for day in _days(query.start, query.end, False)}
        fits = re.sub(r"#\d{1,4}$", "", key["day_key"]) in days  # a day's shard, or the day before sharding
    bounds = at_range(query.start, query.end)
    if fits and bounds and by != "person":
        fits = bounds[0] <= key["at_key"] <= bounds[1]
    if not fits:
        raise InvalidFieldError("cursor", "not a cursor this API returned")


def _within(query: EventQuery, window: tuple[datetime, datetime] | None) -> EventQuery:
    """The query as asked, in the window its first page was given (bounds it names stay its own)."""
    if window is None:
        return query
    return EventQuery(**{**asdict(query), "start": query.start or window[0], "end": query.end or window[1]})


def events_page(
    tenant: str, query: EventQuery, deps: UnitOfWork, now: datetime, cursor: str | None = None
) -> dict[str, Any]:
    """One page of events and a cursor to the next one (None at the end); stable under new appends,
    because a cursor is the key of the last event returned, not an offset."""
    start_key, window = _decode_cursor(cursor, query) if cursor else (None, None)
    bounded = _bounded(_within(query, window), now)
    if start_key is not None:
        _check_key(tenant, bounded, start_key)
    page: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for item in matching(tenant, bounded, deps.audit, start_key):
        page.append(item)
        if len(page) > bounded.limit:
            break
    more = len(page) > bounded.limit
    page = page[: bounded.limit]
    return {
        "events": [event for _, event in page],
        "cursor": _encode_cursor(page[-1][0], query, bounded) if more and page else None,
        "order": "desc" if bounded.descending else "asc",
    }


@dataclass
class AnchorCache:
    """Anchors read once per verification run (a range touches each day's anchor many times)."""

    store: LockedObjects | None
    days: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def get(self, tenant: str, day: str) -> dict[str, Any] | None:
        if self.store is None:
            return None
        if day not in self.days:
            self.days[day] = anchors.read_anchor(self.store, tenant, day)
        return self.days[day]


def verify(tenant: str, debtor_id: str, deps: UnitOfWork, cache: AnchorCache | None = None) -> dict[str, Any]:
    """Recompute every hash and link, then check the chain reaches the head the ledger committed and
    every head the daily anchors recorded for it.

    A removed, altered or reordered event breaks a link; a removed tail leaves the chain short of
    the ledger's head (events still in the ledger's outbox are counted as not yet appended) and of
    the last anchored head, which nobody can change: the anchor bucket is under Object Lock.
    """
    cache = cache or AnchorCache(deps.anchors)
    events = cast(list[AuditEvent], deps.audit.for_person(tenant, debtor_id))  # untyped port
    ledger = deps.ledgers.get(tenant, debtor_id)
    check = verify_chain(events)
    result: dict[str, Any] = {
        "debtor_id": debtor_id,
        "ok": check.ok,
        "checked": check.checked,
        "head": {"seq": ledger.seq, "hash": ledger.head},
    }
    if not check.ok:
        return _broken(result, events, check)
    anchored = _check_anchors(tenant, debtor_id, events, cache)
    result["anchors_checked"] = anchored["checked"]
    if not events and ledger.version == 0 and not anchored["checked"] and not anchored.get("problem"):
        raise NotFoundError(f"debtor {debtor_id}: no ledger, no events, no anchored head")
    if anchored["warnings"]:
        result["warnings"] = anchored["warnings"]
    if anchored.get("problem"):
        return {**result, "ok": False, **{k: v for k, v in anchored.items() if k not in ("checked", "warnings")}}
    return _reaches_head(tenant, debtor_id, deps, events, ledger, result)


def _broken(result: dict[str, Any], events: list[AuditEvent], check: ChainCheck) -> dict[str, Any]:
    """The verdict on a chain whose hashes or links do not hold, with the event where they stop."""
    broken = next((e for e in events if e.get("seq") == check.broken_at), None)
    return {**result, "ok": False, "broken_at": check.broken_at, "problem": check.problem, "event": broken}


def _reaches_head(
    tenant: str, debtor_id: str, deps: UnitOfWork, events: list[AuditEvent], ledger: Ledger, result: dict[str, Any]
) -> dict[str, Any]:
    """The chain's events, with those still in the ledger's outbox, end at the head the ledger committed."""
    last_seq = events[-1]["seq"] if events else 0
    if last_seq > ledger.seq:
        # Read after the events, the ledger is at least as far as any event committed: one past its
        # head was never committed (a hash holds no secret: anyone can link an event to the end).
        problem = f"event {ledger.seq + 1} is past the ledger's head at seq {ledger.seq}: it was never committed"
        extra = next(e for e in events if e["seq"] == ledger.seq + 1)
        return {**result, "ok": False, "broken_at": ledger.seq + 1, "problem": problem, "event": extra}
    pending = {e["seq"] for e in ledger.outbox}
    missing = [s for s in range(last_seq + 1, ledger.seq + 1) if s not in pending]
    if missing:
        # The appender may have appended them and emptied the outbox between the two reads. Read after the
        # ledger, strongly consistent, the table holds every event the outbox no longer does.
        later = cast(list[AuditEvent], deps.audit.for_person(tenant, debtor_id, after_seq=last_seq))  # untyped port
        if later:
            events = [*events, *later]
            check = verify_chain(events)
            if not check.ok:
                return _broken(result, events, check)
            result["checked"] = check.checked
            last_seq = events[-1]["seq"]
            missing = [s for s in range(last_seq + 1, ledger.seq + 1) if s not in pending]
    if missing:
        problem = f"events {missing[0]}..{missing[-1]} are missing: the ledger's head is at seq {ledger.seq}"
        return {**result, "ok": False, "broken_at": missing[0], "problem": problem}
    if events and last_seq == ledger.seq and events[-1]["hash"] != ledger.head:
        return {**result, "ok": False, "broken_at": last_seq, "problem": "the last event is not the ledger's head"}
    return {**result, "pending": sorted(pending)}


def _check_anchors(tenant: str, debtor_id: str, events: list[AuditEvent], cache: AnchorCache) -> dict[str, Any]:
    """Each day's anchor names the chain's head at the end of that day: that event must be here."""
    chain = anchors.chain_id(tenant, debtor_id)
    by_seq = {e["seq"]: e for e in events}
    days = {datetime.fromisoformat(e["at"]).astimezone(UTC).date().isoformat() for e in events}
    # A tail removed with its whole days leaves no event to point at them: read the anchors after the last one.
    days |= set(anchors.days_after(cache.store, tenant, max(days) if days else None))
    checked, warnings = 0, list[str]()
    for day in sorted(days):
        anchor = cache.get(tenant, day)
        if anchor is None:
            continue
        if anchor.get("replaced"):
            warnings.append(f"the anchor of {day} was overwritten or hidden in its bucket; its locked original is used")
        if not anchors.digest_ok(anchor):
            problem = f"the anchor of {day} does not match its digest"
            return {"checked": checked, "problem": problem, "anchor": day, "warnings": warnings}
        head = anchors.head_of(anchor, chain)
        if head is None:
            continue
        checked += 1
        event = by_seq.get(head["seq"])
        if event is None:
            problem = f"event {head['seq']}, anchored on {day}, is missing: the chain was cut short"
            return {
                "checked": checked,
                "problem": problem,
                "broken_at": head["seq"],
                "anchor": day,
                "warnings": warnings,
            }
        if event["hash"] != head["hash"]:
            problem = f"event {head['seq']} differs from the one anchored on {day}"
            failure = {"checked": checked, "problem": problem, "broken_at": head["seq"], "anchor": day, "event": event}
            return {**failure, "warnings": warnings}
    return {"checked": checked, "warnings": warnings}


def chains_in_range(tenant: str, start: datetime, end: datetime, audit: AuditQuery) -> list[str]:
    """Debtors whose chains have an event in ``[start, end)``, from the tenant x day index."""
    query = EventQuery(start=start, end=end)
    return sorted({event["debtor_id"] for _, event in matching(tenant, query, audit)})


def verify_range(
    tenant: str, start: datetime, end: datetime, deps: UnitOfWork, after: str | None = None, limit: int = 200
) -> dict[str, Any]:
    """Verify every chain touched in the range, whole; ``after``/``cursor`` page through the debtors."""
    if start >= end:
        raise InvalidFieldError("to", "must be after 'from'")
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise InvalidFieldError("from", f"a verified range spans at most {MAX_RANGE_DAYS} days")
    touched = chains_in_range(tenant, start, end, deps.audit)
    debtors = [d for d in touched if after is None or d > after]
    cache = AnchorCache(deps.anchors)
    page = debtors[:limit]
    results = [verify(tenant, debtor, deps, cache) for debtor in page]
    failures = [r for r in results if not r["ok"]]
    if after is None:  # once per run: chains the anchors name that the trail no longer has at all
        failures += _vanished_chains(tenant, start, end, {anchors.chain_id(tenant, d) for d in touched}, cache)
    return {
        "ok": not failures,
        "chains": len(results),
        "events": sum(r["checked"] for r in results),
        "anchors_checked": sum(r.get("anchors_checked", 0) for r in results),
        "failures": failures,
        "cursor": page[-1] if len(debtors) > limit else None,
        "remaining": max(len(debtors) - limit, 0),
    }


def _vanished_chains(
    tenant: str, start: datetime, end: datetime, known: set[str], cache: AnchorCache
) -> list[dict[str, Any]]:
    """A chain anchored on a day inside the range must have events that day: if the index finds none,
    they were removed (with the ledger, or the ledger's head would have told)."""
    failures = []
    midnight = datetime.combine(start.astimezone(UTC).date(), time(0), UTC)
    first = midnight.date() + (timedelta(days=1) if start > midnight else timedelta())
    last = end.astimezone(UTC).date()  # exclusive: only days wholly inside [start, end)
    day = first
    while day < last:
        anchor = cache.get(tenant, day.isoformat())
        for head in (anchor or {}).get("heads", []):
            if head["chain"] not in known:
                problem = f"a chain anchored on {day} has no events in the trail: they were removed"
                failures.append({"ok": False, "chain": head["chain"], "anchor": day.isoformat(), "problem": problem})
                known.add(head["chain"])
        day += timedelta(days=1)
    return failures
