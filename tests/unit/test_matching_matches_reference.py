"""Counting rules count, by class, exactly the records they would count one by one.

The engine sorts a history into classes once per evaluation and asks each counting rule once per class
(chalicelib/domain/rules/matching.py); rules counting the same classes share one selection and its dates.
The reference here asks each rule about each record (``CountedRule.counted``) in a context of its own,
and dates each record itself. Histories, requests and rules are drawn by hypothesis: every channel,
result, direction, delivery state, debt, address and collector, consents included.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import engine_cases
from chalicelib.domain.model import (
    Channel,
    ContactRecord,
    ContactRequest,
    DeliveryStatus,
    Direction,
    RecipientRole,
    Result,
)
from chalicelib.domain.preferences import Consent, Preferences
from chalicelib.domain.rules import Context, FrequencyRule, LockoutRule
from chalicelib.domain.rules.counted import CountedRule

NOW = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # the day US clocks spring forward
ZONES = (ZoneInfo("America/New_York"), ZoneInfo("America/Los_Angeles"), ZoneInfo("Australia/Sydney"))
PACK_RULES = tuple(
    rule for pack in engine_cases.every_pack_policies().packs for rule in pack.rules if isinstance(rule, CountedRule)
)

records = st.builds(
    ContactRecord,
    contact_id=st.text("abc", min_size=1, max_size=3),
    at=st.integers(-20 * 86400, 86400).map(lambda s: NOW + timedelta(seconds=s)),
    channel=st.sampled_from(Channel),
    account_id=st.sampled_from(("a", "b")),
    to=st.sampled_from((None, "+16175550100", "other")),
    result=st.sampled_from(Result),
    direction=st.sampled_from(Direction),
    agency=st.sampled_from((None, "agency-1", "agency-2")),
    recipient_role=st.sampled_from(RecipientRole),
    delivery=st.sampled_from((None, *DeliveryStatus)),
)
requests = st.builds(
    ContactRequest,
    tenant=st.just("t"),
    debtor_id=st.just("d"),
    account_id=st.sampled_from(("a", "b")),
    channel=st.sampled_from(Channel),
    to=st.just("+16175550100"),
    agency=st.sampled_from((None, "agency-1")),
)
consents = st.lists(
    st.builds(
        Consent,
        channel=st.sampled_from(Channel),
        account_id=st.sampled_from(("*", "a")),
        start=st.integers(-10, 2).map(lambda d: NOW + timedelta(days=d)),
        until=st.integers(3, 5).map(lambda d: NOW + timedelta(days=d)),
    ),
    max_size=2,
)
_COUNTS = st.lists(st.sampled_from((*Result, *DeliveryStatus)), min_size=1, max_size=4, unique=True).map(tuple)
_SHARED = {
    "citation": st.just("c"),
    "message": st.just("m"),
    "counts": _COUNTS,
    "channels": st.lists(st.sampled_from(Channel), min_size=1, unique=True).map(tuple),
    "counted_channels": st.none() | st.lists(st.sampled_from(Channel), min_size=1, unique=True).map(tuple),
    "directions": st.lists(st.sampled_from(Direction), min_size=1, unique=True).map(tuple),
    "key": st.sampled_from(("person", "debt", "address")),
    "per_collector": st.booleans(),
}
drawn_rules = st.one_of(
    st.builds(
        FrequencyRule,
        id=st.sampled_from(("x/frequency-1", "x/frequency-2")),
        kind=st.just("frequency"),
        limit=st.integers(0, 3),
        period=st.sampled_from(("rolling_days", "calendar_day", "calendar_week", "calendar_month")),
        days=st.integers(1, 8),
        consent_exempts=st.booleans(),
        **_SHARED,
    ),
    st.builds(LockoutRule, id=st.just("x/lockout"), kind=st.just("lockout"), days=st.integers(1, 8), **_SHARED),
)
rules = st.lists(st.sampled_from(PACK_RULES) | drawn_rules, min_size=1, max_size=6, unique_by=lambda r: r.id)


def _context(request: ContactRequest, history: tuple[ContactRecord, ...], consented: list[Consent]) -> Context:
    return Context(request=request, zones=ZONES, history=history, preferences=Preferences(consents=tuple(consented)))


def _reference(rule: CountedRule, ctx: Context, zone: ZoneInfo) -> list[tuple[date, ContactRecord]]:
    counted = [(r.at.astimezone(zone).date(), r) for r in ctx.history if rule.counted(ctx, r)]
    return sorted(counted, key=lambda pair: pair[0])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests, st.lists(records, max_size=25).map(tuple), consents, rules)
def test_each_rule_counts_and_dates_the_records_it_counts_one_by_one(
    request: ContactRequest, history: tuple[ContactRecord, ...], consented: list[Consent], chosen: list[CountedRule]
) -> None:
    shared = _context(request, history, consented)  # one evaluation: every rule shares its memo
    for rule in chosen:
        alone = _context(request, history, consented)
        expected = [r for r in history if rule.counted(alone, r)]
        assert rule.counted_records(shared) == expected
        for zone in ZONES:
            dated = _reference(rule, alone, zone)
            assert rule.dated(shared, zone) == dated
            assert rule.by_date(shared, zone)[0] == [d.toordinal() for d, _ in dated]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests, st.lists(records, max_size=25).map(tuple), rules, st.integers(-3 * 86400, 3 * 86400))
def test_lockouts_find_the_latest_event_a_one_by_one_search_finds(
    request: ContactRequest, history: tuple[ContactRecord, ...], chosen: list[CountedRule], offset: int
) -> None:
    at, ctx = NOW + timedelta(seconds=offset), _context(request, history, [])
    for rule in (r for r in chosen if isinstance(r, LockoutRule)):
        for zone in ZONES:
            today = at.astimezone(zone).date()
            earlier = [(d, r) for d, r in _reference(rule, ctx, zone) if d <= today]
            # in history order within a day (the reference's sort is stable): a known result first
            expected = max(earlier, key=lambda pair: (pair[0], not pair[1].unresolved), default=None)
            assert rule._last(ctx, zone, at) == expected
