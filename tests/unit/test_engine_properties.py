"""Properties of ``engine.evaluate`` over random histories and instants (hypothesis).

The oracles here do not reuse the engine's rule code: counted calls, lockouts and quiet hours are
recomputed from the records with plain ``zoneinfo`` arithmetic.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from chalicelib.domain.engine import evaluate
from chalicelib.domain.model import ContactRecord, ContactRequest, Decision, Outcome, Result
from chalicelib.domain.policy import PolicySet, build_policy_set
from chalicelib.domain.zones import resolve
from tests.support import make_request, utc

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

COUNTED = {Result.PLACED, Result.UNANSWERED, Result.VOICEMAIL, Result.CONVERSATION}  # us-federal/call-frequency
LIMIT, WINDOW_DAYS, LOCKOUT_DAYS = 7, 7, 7
EARLIEST, LATEST = time(8, 0), time(21, 0)

VOICE_REQUESTS = {
    "eastern": make_request(channel="voice", message=None),
    "eastern mobile, pacific address": make_request(
        channel="voice", message=None, location={"country": "US", "subdivision": "CA"}
    ),
    "eastern mobile, mountain address": make_request(
        channel="voice", message=None, location={"country": "US", "subdivision": "CO"}
    ),
    "hawaii mobile, eastern address": make_request(channel="voice", message=None, to="+18085550100"),
    "eastern mobile, texas address (central + mountain)": make_request(
        channel="voice", message=None, location={"country": "US", "subdivision": "TX"}
    ),
}
OTHER_REQUESTS = {
    "sms, eastern mobile, pacific address": make_request(
        channel="sms", location={"country": "US", "subdivision": "CA"}
    ),
    "email, arizona address": make_request(
        channel="email", to="debtor@example.com", location={"country": "US", "subdivision": "AZ"}
    ),
}
TWO_ZONE_REQUESTS = {
    name: request for name, request in {**VOICE_REQUESTS, **OTHER_REQUESTS}.items() if len(resolve(request).zones) == 2
}

# Instants of 2025-2027, with extra weight on the days around US DST changes.
DST_CHANGES = [utc(2025, 3, 9, 7), utc(2025, 11, 2, 6), utc(2026, 3, 8, 7), utc(2026, 11, 1, 6), utc(2027, 3, 14, 7)]
instants = st.one_of(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    st.builds(
        lambda change, minutes: change + timedelta(minutes=minutes),
        st.sampled_from(DST_CHANGES),
        st.integers(-4 * 1440, 4 * 1440),
    ),
)


# Mostly counted call results, so that 7-in-7 windows fill up; every other result now and then.
results = st.one_of(
    st.sampled_from(["placed", "unanswered", "voicemail", "unanswered", "not_connected"]),
    st.sampled_from(sorted(Result)),
)
# Spread over 20 days, or bunched into the last 7 so the frequency limit binds.
ages = st.one_of(st.integers(0, 20 * 86400), st.integers(0, 7 * 86400))


@st.composite
def voice_histories(draw: st.DrawFn, before: datetime, max_size: int = 25) -> list[ContactRecord]:
    """Voice records of the 20 days before ``before``: any result, either direction, mostly debt a-1."""
    size = draw(st.integers(0, max_size))
    return [
        ContactRecord(
            contact_id=f"h-{n}",
            at=before - timedelta(seconds=draw(ages)),
            channel="voice",
            account_id=draw(st.sampled_from(["a-1", "a-1", "a-1", "a-2"])),
            to="+14045550100",
            result=draw(results),
            direction=draw(st.sampled_from(["outbound", "outbound", "outbound", "inbound"])),
        )
        for n in range(size)
    ]


@st.composite
def scenarios(
    draw: st.DrawFn, requests: dict[str, ContactRequest]
) -> tuple[ContactRequest, list[ContactRecord], datetime]:
    now = draw(instants)
    request = requests[draw(st.sampled_from(sorted(requests)))]
    return request, draw(voice_histories(now)), now


def zones_of(request: ContactRequest) -> list[ZoneInfo]:
    return [ZoneInfo(name) for name in resolve(request).zones]


def inside_hours(at: datetime, zone: ZoneInfo) -> bool:
    return EARLIEST <= at.astimezone(zone).time().replace(tzinfo=None) < LATEST


def whole_minutes_between(start: datetime, end: datetime, rnd: random.Random, count: int) -> list[datetime]:
    """``count`` random whole minutes strictly between the two, plus the last whole minute before ``end``."""
    first = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    last = (
        end - timedelta(minutes=1)
        if end == end.replace(second=0, microsecond=0)
        else end.replace(second=0, microsecond=0)
    )
    if last < first:
        return []
    span = int((last - first).total_seconds() // 60)
    picks = {first + timedelta(minutes=rnd.randint(0, span)) for _ in range(count)}
    return sorted(m for m in picks | {first, last} if start < m < end)


# --- (a) + (b): not_before is exact ---------------------------------------------------------------


@PROPERTY_SETTINGS
@given(scenario=scenarios({**VOICE_REQUESTS, **OTHER_REQUESTS}))
def test_deferred_request_is_allowed_exactly_at_not_before(
    policies: PolicySet, scenario: tuple[ContactRequest, list[ContactRecord], datetime]
) -> None:
    request, history, now = scenario

    decision = evaluate(request, history, policies, now=now)
    for rule in sorted({reason.rule for reason in decision.reasons}) or ["-"]:
        event(f"{decision.outcome}: {rule}")

    assert decision.outcome is not Outcome.DENY, decision.reasons
    if decision.outcome is Outcome.DEFER:
        assert decision.not_before is not None and decision.not_before > now
        assert decision.reasons
        later = evaluate(request, history, policies, now=decision.not_before)
        assert later.outcome is Outcome.ALLOW, (decision.not_before, later.reasons)
    else:
        assert decision.not_before is None and decision.reasons == ()


@PROPERTY_SETTINGS
@given(scenario=scenarios({**VOICE_REQUESTS, **OTHER_REQUESTS}), rnd=st.randoms(use_true_random=False))
def test_no_whole_minute_before_not_before_is_allowed(
    policies: PolicySet, scenario: tuple[ContactRequest, list[ContactRecord], datetime], rnd: random.Random
) -> None:
    request, history, now = scenario

    decision = evaluate(request, history, policies, now=now)

    if decision.outcome is Outcome.DEFER:
        assert decision.not_before is not None
        for minute in whole_minutes_between(now, decision.not_before, rnd, count=30):
            earlier = evaluate(request, history, policies, now=minute)
            assert earlier.outcome is not Outcome.ALLOW, f"{minute} is allowed but not_before is {decision.not_before}"


# --- (c): a dialer asking every 37 minutes for 10 days ---------------------------------------------


def local_dates(records: Iterable[ContactRecord], zone: ZoneInfo) -> list[date]:
    return [r.at.astimezone(zone).date() for r in records]


def assert_seven_in_seven(history: Sequence[ContactRecord], dialed: Sequence[ContactRecord], zone: ZoneInfo) -> None:
    """Every window of 7 local days holding a dialer call holds at most 7 counted outbound calls."""
    counted = local_dates(
        (r for r in history if r.account_id == "a-1" and r.result in COUNTED and r.direction == "outbound"), zone
    )
    for day in set(local_dates(dialed, zone)):
        for offset in range(WINDOW_DAYS):
            lo = day - timedelta(days=offset)
            hi = lo + timedelta(days=WINDOW_DAYS - 1)
            in_window = sum(1 for d in counted if lo <= d <= hi)
            assert in_window <= LIMIT, f"{in_window} counted calls on {lo}..{hi} in {zone.key}"


def assert_no_call_in_lockout(
    history: Sequence[ContactRecord], dialed: Sequence[ContactRecord], zone: ZoneInfo
) -> None:
    conversations = [r for r in history if r.account_id == "a-1" and r.result is Result.CONVERSATION]
    for conversation in conversations:
        day_one = conversation.at.astimezone(zone).date()
        for placed in dialed:
            if placed.contact_id != conversation.contact_id and placed.at >= conversation.at:
                days_after = (placed.at.astimezone(zone).date() - day_one).days
                assert days_after >= LOCKOUT_DAYS, f"call at {placed.at} is on day {days_after + 1} in {zone.key}"


# One example is ~390 evaluations (~0.4 s), so this property runs fewer examples than the others to keep
# the file under ~20 s; (a) and (b) cover the exactness of every single deferral at full strength.
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["eastern", "eastern mobile, pacific address", "hawaii mobile, eastern address"]),
    start=instants,
    data=st.data(),
)
def test_dialer_every_37_minutes_never_breaks_seven_in_seven_or_the_lockout(
    policies: PolicySet, name: str, start: datetime, data: st.DataObject
) -> None:
    request = VOICE_REQUESTS[name]
    history = data.draw(voice_histories(start, max_size=12), label="history")
    talk_at = start + timedelta(minutes=data.draw(st.integers(0, 10 * 1440), label="conversation after (minutes)"))
    inbound = data.draw(st.booleans(), label="inbound conversation")
    # An inbound conversation arrives on its own; an outbound one is the first permitted call after talk_at.
    pending = (
        [
            ContactRecord(
                contact_id="inbound-talk",
                at=talk_at,
                channel="voice",
                account_id="a-1",
                result="conversation",
                direction="inbound",
            )
        ]
        if inbound
        else []
    )
    answered = data.draw(st.lists(st.sampled_from(["placed", "unanswered"]), min_size=32, max_size=32))
    dialed: list[ContactRecord] = []

    at, end = start, start + timedelta(days=10)
    while at < end:
        if pending and pending[0].at <= at:
            history.append(pending.pop(0))
        decision = evaluate(request, history, policies, now=at)
        for reason in decision.reasons:
            if reason.rule != "us-federal/quiet-hours":
                event(f"dialer held by {reason.rule}")
        if decision.outcome is Outcome.ALLOW:
            talked = not inbound and at >= talk_at and all(r.result != "conversation" for r in dialed)
            record = ContactRecord(
                contact_id=f"dial-{len(dialed)}",
                at=at,
                channel="voice",
                account_id="a-1",
                result="conversation" if talked else answered[len(dialed) % len(answered)],
            )
            dialed.append(record)
            history.append(record)
        else:
            assert decision.outcome is Outcome.DEFER
        at += timedelta(minutes=37)

    event(f"dialer calls: {min(len(dialed) // 5 * 5, 20)}+")
    for zone in zones_of(request):
        assert_seven_in_seven(history, dialed, zone)
        assert_no_call_in_lockout(history, dialed, zone)
        assert all(inside_hours(r.at, zone) for r in dialed)


# --- (d): allowed instants of a two-zone request ----------------------------------------------------


@st.composite
def near_window_edges(
    draw: st.DrawFn, requests: dict[str, ContactRequest]
) -> tuple[ContactRequest, list[ContactRecord], datetime]:
    """A request and an instant within a few minutes of 08:00 or 21:00 local in one of its zones."""
    request = requests[draw(st.sampled_from(sorted(requests)))]
    zone = draw(st.sampled_from(zones_of(request)))
    day = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)))
    edge = datetime.combine(day, draw(st.sampled_from([EARLIEST, LATEST])), tzinfo=zone)
    now = (edge + timedelta(seconds=draw(st.integers(-300, 300)))).astimezone(UTC)
    return request, draw(voice_histories(now)), now


@PROPERTY_SETTINGS
@given(scenario=st.one_of(scenarios(TWO_ZONE_REQUESTS), near_window_edges(TWO_ZONE_REQUESTS)))
def test_two_zone_request_is_allowed_only_inside_8_to_21_in_each_zone(
    policies: PolicySet, scenario: tuple[ContactRequest, list[ContactRecord], datetime]
) -> None:
    request, history, now = scenario
    zones = zones_of(request)
    assert len(zones) == 2

    decision = evaluate(request, history, policies, now=now)
    allowed_at = now if decision.outcome is Outcome.ALLOW else decision.not_before

    assert allowed_at is not None
    for zone in zones:
        assert inside_hours(allowed_at, zone), f"{allowed_at} is {allowed_at.astimezone(zone)} in {zone.key}"


def test_two_zone_requests_cover_several_zone_pairs() -> None:
    pairs = {tuple(sorted(resolve(r).zones)) for r in TWO_ZONE_REQUESTS.values()}

    assert len(pairs) >= 3


# --- regression: the earliest instant after a skipped (DST gap) local time --------------------------

EARLY_WINDOW_PACK = {
    "id": "early",
    "title": "a window that opens inside the US spring-forward gap",
    "applies_to": {"countries": ["US"]},
    "retention_years": 1,
    "retention_source": {"citation": "test pack", "confidence": "unverified"},
    "sources": [{"citation": "test", "confidence": "unverified"}],
    "rules": [
        {
            "id": "early/quiet-hours",
            "kind": "quiet_hours",
            "citation": "test",
            "message": "test window",
            "allowed": {"default": ["02:30-23:00"]},
        }
    ],
}


def test_window_opening_inside_dst_gap_opens_at_the_first_real_local_instant_example() -> None:
    policy_set = build_policy_set({"early.yaml": EARLY_WINDOW_PACK})
    request = make_request(channel="sms")

    # 07:00 UTC on 8 March 2026 is 03:00 EDT, the first instant after 02:00 EST jumps to 03:00 EDT.
    decision: Decision = evaluate(request, [], policy_set, now=utc(2026, 3, 8, 7, 0))

    assert decision.outcome is Outcome.ALLOW


def test_window_opening_inside_dst_gap_defers_to_the_first_real_local_instant() -> None:
    policy_set = build_policy_set({"early.yaml": EARLY_WINDOW_PACK})
    request = make_request(channel="sms")

    decision = evaluate(request, [], policy_set, now=utc(2026, 3, 8, 6, 0))  # 01:00 EST

    assert decision.outcome is Outcome.DEFER
    assert decision.not_before == utc(2026, 3, 8, 7, 0)  # 03:00 EDT
