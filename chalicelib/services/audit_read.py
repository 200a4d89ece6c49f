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
from typing import Any

from chalicelib.domain.audit import ChainCheck, verify_chain
from chalicelib.domain.errors import InvalidFieldError, NotFoundError
from chalicelib.domain.events import AuditEvent, EventType
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.policy import canonical_json
from chalicelib.domain.ports import AuditQuery, LockedObjects, ReadBudget
from chalicelib.services import anchors
from chalicelib.services.unit_of_work import UnitOfWork

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30
# What one request may read of the audit table (docs/decisions/0026-read-budgets.md): items read by its
# Queries (those a filter drops too; an empty Query counts one) and events read by key. When it is spent
# the page ends at the next page boundary of the reading, with a cursor that resumes right there: a page
# may hold fewer events than ``limit``, none at all, and still have a cursor.
READ_BUDGET_ITEMS = 5000


@dataclass(frozen=True)
class EventQuery:
    debtor_id: str | None = None
    account_id: str | None = None
    channel: str | None = None
    outcome: str | None = None  # a decision's outcome or a contact's status (the ``status`` filter too)
    type: str | None = None
    delivery: str | None = None  # a receipt's delivery state: ``delivery`` events that say it
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
    if query.delivery:  # a delivery event's outcome attribute is its delivery state (audit.event_outcome)
        filters.update(type=EventType.DELIVERY.value, outcome=query.delivery)
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
    budget: ReadBudget | None = None,
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Every event the query selects, in order, as (key, event); resumes after ``start_key``. Without
    ``bodies`` an event is only its ``debtor_id`` and ``seq``, read in DynamoDB's largest pages (1 MB):
    nobody resumes that reading from a cursor, unless it has a ``budget``.

    With a ``budget``, marks come too (``(key, {})``, see ``AuditQuery``): where the reading may stop and
    resume. Between two days, a spent budget ends the reading with a mark ``({"day": next day}, {})``: a
    reading resumed from it starts at that day.
    """
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
            **({"budget": budget} if budget is not None else {}),
        )
        return
    assert query.start and query.end
    resume_day = _resume_day(start_key)
    filters = _filters(query, tenant, "day")
    for day in _days(query.start, query.end, query.descending):
        if resume_day and (day.isoformat() < resume_day if forward else day.isoformat() > resume_day):
            continue
        key = start_key if resume_day == day.isoformat() and start_key and "at_key" in start_key else None
        if budget is not None and budget.spent:
            yield {"day": day.isoformat()}, {}
            return
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
            **({"budget": budget} if budget is not None else {}),
        )


def _resume_day(start_key: dict[str, Any] | None) -> str | None:
    """The day a reading resumes in: a key's ``day_key`` (tenant#day or tenant#day#shard), a day mark's
    day, or the day of a place (an ``at_key`` alone, which starts with its UTC instant)."""
    if not start_key:
        return None
    if "day" in start_key:
        return str(start_key["day"])
    if "day_key" in start_key:
        return str(start_key["day_key"]).split("#")[1]
    return str(start_key["at_key"])[:10]


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
        if not isinstance(key, dict) or not (_is_item_key(key) or _is_day_mark(key)):
            raise ValueError("bad key")
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise InvalidFieldError("cursor", "not a cursor this API returned") from None
    if fingerprint != query.fingerprint():
        raise InvalidFieldError("cursor", "belongs to a query with other filters")
    return dict(key), window


def _is_item_key(key: dict[str, Any]) -> bool:
    return isinstance(key.get("pk"), str) and isinstance(key.get("seq"), int)


def _is_day_mark(key: dict[str, Any]) -> bool:
    """Where a budget stopped a reading between two days: ``{"day": "YYYY-MM-DD"}``."""
    day = key.get("day")
    return set(key) == {"day"} and isinstance(day, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) is not None


_CURSOR_KEYS = {"person": ("pk", "seq"), "day": ("pk", "seq", "day_key", "at_key")}
_CURSOR_KEYS["account"] = ("pk", "seq", "account_key", "at_key")


def _check_key(tenant: str, query: EventQuery, key: dict[str, Any]) -> None:
    """The client holds the cursor and may change it: its key must be one of an item this query reads,
    or DynamoDB refuses it (a 503) or the day index cannot resume from it (a 500)."""
    by = "person" if query.debtor_id else "account" if query.account_id else "day"
    if _is_day_mark(key):
        if by != "day" or not query.start or not query.end:
            raise InvalidFieldError("cursor", "not a cursor this API returned")
        if key["day"] not in {day.isoformat() for day in _days(query.start, query.end, False)}:
            raise InvalidFieldError("cursor", "not a cursor this API returned")
        return
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
    because a cursor is the key of the last event returned, not an offset.

    The page ends early when the request's read budget (READ_BUDGET_ITEMS) is spent: its cursor is then
    where the reading stopped, past events a filter dropped, and the page may even be empty."""
    start_key, window = _decode_cursor(cursor, query) if cursor else (None, None)
    bounded = _bounded(_within(query, window), now)
    if start_key is not None:
        _check_key(tenant, bounded, start_key)
    budget = ReadBudget(READ_BUDGET_ITEMS)
    page: list[tuple[dict[str, Any], dict[str, Any]]] = []
    stopped: dict[str, Any] | None = None
    for key, event in matching(tenant, bounded, deps.audit, start_key, budget=budget):
        if not event:  # a mark: where the reading may stop
            if budget.spent:
                stopped = key
                break
            continue
        page.append((key, event))
        if len(page) > bounded.limit:
            break
    more = len(page) > bounded.limit
    page = page[: bounded.limit]
    resume = page[-1][0] if more and page else stopped
    return {
        "events": [event for _, event in page],
        "cursor": _encode_cursor(resume, query, bounded) if resume is not None else None,
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
        later = deps.audit.for_person(tenant, debtor_id, after_seq=last_seq)
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
    return sorted({event["debtor_id"] for _, event in matching(tenant, query, audit, bodies=False)})


@dataclass
class _RangeWalk:
    """One page of a range's verification: the range's index read once, in order, from where the last
    page stopped. A chain is verified, whole, at its first event in the range: the one whose previous
    event is not in the range (looked up by key, once per person and page at most). Each day's anchor is
    checked when the reading leaves the day: every chain it names must have had an event that day."""

    tenant: str
    start: datetime
    end: datetime
    deps: UnitOfWork
    budget: ReadBudget
    day: str  # the day being read
    counted: int  # chains with an event on ``day`` met before this page (carried by the cursor)
    cache: AnchorCache
    seen_today: set[str] = field(default_factory=set)
    whole_day: bool = False  # ``day`` was read from its start by this page
    last: dict[str, tuple[int, str]] = field(default_factory=dict)  # person: (seq, instant) of its last event met
    verified: set[str] = field(default_factory=set)  # persons this page verified
    results: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def enter(self, day: str) -> None:
        """The reading is at ``day``: the days it left are finished."""
        while self.day < day:
            self._finish_day()
            self.day = (date.fromisoformat(self.day) + timedelta(days=1)).isoformat()
            self.counted, self.seen_today, self.whole_day = 0, set(), True

    def finish(self) -> None:
        last = (self.end - timedelta(microseconds=1)).astimezone(UTC).date().isoformat()
        self.enter((date.fromisoformat(last) + timedelta(days=1)).isoformat())

    def meet(self, debtor_id: str, seq: int, place: str) -> None:
        instant = place.split("#", 1)[0]
        before = self._instant_before(debtor_id, seq)
        self.last[debtor_id] = (seq, instant)
        if before is None or before[:10] != instant[:10]:  # the chain's first event of the day
            self.counted += 1
            self.seen_today.add(anchors.chain_id(self.tenant, debtor_id))
        first = before is None or not utc_bound(self.start) <= before < utc_bound(self.end)
        if first and debtor_id not in self.verified:  # verified again only if its events' times disagree
            self.verified.add(debtor_id)
            result = verify(self.tenant, debtor_id, self.deps, self.cache)
            self.budget.charge(result["checked"])
            self.results.append(result)

    def _instant_before(self, debtor_id: str, seq: int) -> str | None:
        """When the chain's previous event happened (None: this is its first)."""
        if seq <= 1:
            return None
        known = self.last.get(debtor_id)
        if known and known[0] == seq - 1:
            return known[1]
        self.budget.charge(1)
        found = self.deps.audit.by_keys(self.tenant, [(debtor_id, seq - 1)])
        return utc_bound(datetime.fromisoformat(found[0]["at"])) if found else None

    def _finish_day(self) -> None:
        """Each chain the day's anchor names must have had an event that day. The anchor of a day only
        partly in the range is not checked (its other events are out of the range's reading)."""
        day = date.fromisoformat(self.day)
        midnight = datetime.combine(day, time(0), UTC)
        if midnight < self.start or midnight + timedelta(days=1) > self.end:
            return
        heads = (self.cache.get(self.tenant, self.day) or {}).get("heads", [])
        unmet = [h["chain"] for h in heads if h["chain"] not in self.seen_today]
        removed = len(heads) - self.counted  # chains met that day, on this page and (carried) before
        if self.whole_day or removed == len(unmet):
            for chain in unmet:
                problem = f"a chain anchored on {day} has no events in the trail: they were removed"
                self.failures.append({"ok": False, "chain": chain, "anchor": self.day, "problem": problem})
        elif removed > 0:  # the day's first part was read by an earlier page: how many, not which
            problem = f"{removed} chain(s) anchored on {day} have no events in the trail: they were removed"
            self.failures.append({"ok": False, "chain": None, "anchor": self.day, "problem": problem})


def verify_range(
    tenant: str, start: datetime, end: datetime, deps: UnitOfWork, after: str | None = None, limit: int = 200
) -> dict[str, Any]:
    """Verify every chain touched in the range, whole, ``limit`` chains a page at most; ``after`` is the
    cursor of the previous page. Each page reads on from where the last one stopped, within the read
    budget (READ_BUDGET_ITEMS): no page reads again what an earlier one read (docs/decisions/0026)."""
    if start >= end:
        raise InvalidFieldError("to", "must be after 'from'")
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise InvalidFieldError("from", f"a verified range spans at most {MAX_RANGE_DAYS} days")
    query = EventQuery(start=start, end=end)
    place, counted = _decode_verify_cursor(after, query) if after else (None, 0)
    budget = ReadBudget(READ_BUDGET_ITEMS)
    day = _resume_day(place) or start.astimezone(UTC).date().isoformat()
    walk = _RangeWalk(tenant, start, end, deps, budget, day, counted, AnchorCache(deps.anchors))
    walk.whole_day = place is None or "day" in place  # else the day's first part was read by an earlier page
    stopped: dict[str, Any] | None = None
    for key, event in matching(tenant, query, deps.audit, place, bodies=False, budget=budget):
        walk.enter(key["day"] if "day" in key else str(key["at_key"])[:10])
        if not event:  # a mark: where the reading may stop
            if budget.spent:
                stopped = {"day": key["day"]} if "day" in key else {"at_key": key["at_key"]}
                break
            continue
        walk.meet(event["debtor_id"], int(event["seq"]), str(key["at_key"]))
        if len(walk.results) >= limit:
            stopped = {"at_key": key["at_key"]}
            break
    else:
        walk.finish()
    failures = [r for r in walk.results if not r["ok"]] + walk.failures
    cursor = _encode_verify_cursor(stopped, walk.counted if "at_key" in stopped else 0, query) if stopped else None
    return {
        "ok": not failures,
        "chains": len(walk.results),
        "events": sum(r["checked"] for r in walk.results),
        "anchors_checked": sum(r.get("anchors_checked", 0) for r in walk.results),
        "failures": failures,
        "cursor": cursor,
        "remaining": None,  # not known without reading the rest of the range
    }


def _verify_fingerprint(query: EventQuery) -> str:
    return hashlib.sha256(f"verify#{query.fingerprint()}".encode()).hexdigest()[:16]


def _encode_verify_cursor(place: dict[str, Any], counted: int, query: EventQuery) -> str:
    """Where the range's reading stopped (an ``at_key``, or a day not yet begun) and how many chains
    of that day it had met: all a next page needs, encoded as the events' cursors are."""
    payload = {"q": _verify_fingerprint(query), "k": place, "n": counted}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_verify_cursor(cursor: str, query: EventQuery) -> tuple[dict[str, Any], int]:
    bad = InvalidFieldError("cursor", "not a cursor this API returned")
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        place, fingerprint, counted = raw["k"], raw["q"], raw["n"]
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise bad from None
    if fingerprint != _verify_fingerprint(query):
        raise InvalidFieldError("cursor", "belongs to another range")
    if not isinstance(place, dict) or type(counted) is not int or not 0 <= counted < 2**31:
        raise bad
    assert query.start and query.end
    days = {day.isoformat() for day in _days(query.start, query.end, False)}
    if _is_day_mark(place):
        fits = place["day"] in days and counted == 0
    else:
        at = place.get("at_key")
        bounds = at_range(query.start, query.end)
        fits = set(place) == {"at_key"} and isinstance(at, str) and bounds is not None
        fits = fits and bounds[0] <= at <= bounds[1] and at[:10] in days  # type: ignore[index,operator]
    if not fits:
        raise bad
    return dict(place), counted
