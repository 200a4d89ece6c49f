"""Regulation F worked examples (12 CFR part 1006, Supplement I) run through the policy engine.

Every expected instant is written in UTC with its local wall-clock reading beside it, so a DST
slip shows up as a wrong hour rather than hiding behind the same conversion the engine uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest

from chalicelib.domain.engine import evaluate
from chalicelib.domain.model import ContactRecord, ContactRequest, Decision, Outcome
from chalicelib.domain.policy import PolicySet
from tests.support import make_request, utc

QUIET_HOURS = "us-federal/quiet-hours"
FREQUENCY = "us-federal/call-frequency"
LOCKOUT = "us-federal/call-after-conversation"

EASTERN_MOBILE = "+14045550100"  # Atlanta area code: America/New_York


def call(at: datetime, result: str = "unanswered", account_id: str = "a-1", **extra: Any) -> ContactRecord:
    fields: dict[str, Any] = {
        "contact_id": f"c-{account_id}-{at.isoformat()}-{result}",
        "at": at,
        "channel": "voice",
        "account_id": account_id,
        "to": EASTERN_MOBILE,
        "result": result,
    }
    fields.update(extra)
    return ContactRecord(**fields)


def voice(**overrides: Any) -> ContactRequest:
    return make_request(channel="voice", message=None, **overrides)


def rules_of(decision: Decision) -> list[str]:
    return [reason.rule for reason in decision.reasons]


def decide(
    policies: PolicySet, request: ContactRequest, now: datetime, history: Sequence[ContactRecord] = ()
) -> Decision:
    return evaluate(request, list(history), policies, now=now)


# --- comment 6(b)(1)(i)-2: every candidate time zone must be inside 08:00-21:00 -------------------

EASTERN_MOBILE_PACIFIC_ADDRESS = {"to": EASTERN_MOBILE, "location": {"country": "US", "subdivision": "CA"}}
EASTERN_MOBILE_MOUNTAIN_ADDRESS = {"to": EASTERN_MOBILE, "location": {"country": "US", "subdivision": "CO"}}


def test_eastern_mobile_with_pacific_address_has_both_zones_as_candidates(policies: PolicySet) -> None:
    decision = decide(policies, voice(**EASTERN_MOBILE_PACIFIC_ADDRESS), utc(2026, 3, 16, 16, 0))

    assert sorted(decision.inputs["zones"]) == ["America/Los_Angeles", "America/New_York"]
    assert decision.inputs["zone_sources"] == {
        "America/Los_Angeles": ["location.subdivision"],
        "America/New_York": ["phone_number"],
    }


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Winter (EST, UTC-5): 10:59 EST -> 11:00 EST.
        (utc(2026, 1, 15, 15, 59), utc(2026, 1, 15, 16, 0)),
        # Spring-forward Sunday (both zones already on DST by 10:59 EDT): 11:00 EDT.
        (utc(2026, 3, 8, 14, 59), utc(2026, 3, 8, 15, 0)),
        # Summer time (EDT, UTC-4): 10:59 EDT -> 11:00 EDT.
        (utc(2026, 3, 16, 14, 59), utc(2026, 3, 16, 15, 0)),
        # Fall-back Sunday: 10:59 EST -> 11:00 EST.
        (utc(2026, 11, 1, 15, 59), utc(2026, 11, 1, 16, 0)),
    ],
)
def test_defers_call_at_1059_eastern_until_exactly_11_eastern_for_pacific_address(
    policies: PolicySet, now: datetime, expected: datetime
) -> None:
    decision = decide(policies, voice(**EASTERN_MOBILE_PACIFIC_ADDRESS), now)

    assert decision.outcome is Outcome.DEFER
    assert decision.not_before == expected
    assert rules_of(decision) == [QUIET_HOURS]
    assert "America/Los_Angeles" in decision.reasons[0].message


@pytest.mark.parametrize(
    "now",
    [
        utc(2026, 3, 16, 15, 0),  # 11:00 EDT / 08:00 PDT
        utc(2026, 3, 17, 0, 59),  # 20:59 EDT / 17:59 PDT
        utc(2026, 1, 15, 16, 0),  # 11:00 EST / 08:00 PST
        utc(2026, 1, 16, 1, 59),  # 20:59 EST / 17:59 PST
    ],
)
def test_allows_call_from_11_to_2059_eastern_for_pacific_address(policies: PolicySet, now: datetime) -> None:
    decision = decide(policies, voice(**EASTERN_MOBILE_PACIFIC_ADDRESS), now)

    assert decision.outcome is Outcome.ALLOW
    assert decision.reasons == ()
    assert decision.not_before is None


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # 21:00 EDT Mon 16 March -> 11:00 EDT Tue 17 March.
        (utc(2026, 3, 17, 1, 0), utc(2026, 3, 17, 15, 0)),
        # 21:00 EST Sat 7 March -> 11:00 EDT Sun 8 March: the night holds the spring-forward.
        (utc(2026, 3, 8, 2, 0), utc(2026, 3, 8, 15, 0)),
        # 21:00 EDT Sat 31 October -> 11:00 EST Sun 1 November: the night holds the fall-back.
        (utc(2026, 11, 1, 1, 0), utc(2026, 11, 1, 16, 0)),
    ],
)
def test_defers_call_at_21_eastern_until_11_eastern_next_day(
    policies: PolicySet, now: datetime, expected: datetime
) -> None:
    decision = decide(policies, voice(**EASTERN_MOBILE_PACIFIC_ADDRESS), now)

    assert decision.outcome is Outcome.DEFER
    assert decision.not_before == expected
    assert rules_of(decision) == [QUIET_HOURS]


def test_defers_call_at_0959_eastern_until_10_eastern_for_mountain_address(policies: PolicySet) -> None:
    request = voice(**EASTERN_MOBILE_MOUNTAIN_ADDRESS)

    deferred = decide(policies, request, utc(2026, 3, 16, 13, 59))  # 09:59 EDT / 07:59 MDT
    allowed = decide(policies, request, utc(2026, 3, 16, 14, 0))  # 10:00 EDT / 08:00 MDT

    assert sorted(deferred.inputs["zones"]) == ["America/Denver", "America/New_York"]
    assert deferred.outcome is Outcome.DEFER
    assert deferred.not_before == utc(2026, 3, 16, 14, 0)
    assert allowed.outcome is Outcome.ALLOW


def test_eastern_evening_end_still_binds_for_mountain_address(policies: PolicySet) -> None:
    request = voice(**EASTERN_MOBILE_MOUNTAIN_ADDRESS)

    last_minute = decide(policies, request, utc(2026, 3, 17, 0, 59))  # 20:59 EDT / 18:59 MDT
    too_late = decide(policies, request, utc(2026, 3, 17, 1, 0))  # 21:00 EDT / 19:00 MDT

    assert last_minute.outcome is Outcome.ALLOW
    assert too_late.outcome is Outcome.DEFER
    assert too_late.not_before == utc(2026, 3, 17, 14, 0)  # 10:00 EDT next day


# --- comment 14(b)(2)(i)-1: 7 calls within 7 consecutive days ---------------------------------------

SEVEN_CALLS_APRIL_1_TO_7 = [call(utc(2026, 4, day, 15, 0)) for day in range(1, 8)]  # 11:00 EDT each day


def test_defers_eighth_call_in_seven_days_until_8am_local_on_day_eight(policies: PolicySet) -> None:
    decision = decide(policies, voice(), utc(2026, 4, 7, 20, 0), SEVEN_CALLS_APRIL_1_TO_7)  # 16:00 EDT

    assert decision.outcome is Outcome.DEFER
    assert decision.not_before == utc(2026, 4, 8, 12, 0)  # 08:00 EDT, 8 April
    assert rules_of(decision) == [FREQUENCY]
    assert decision.inputs["rules"][FREQUENCY] == {"America/New_York": 7}


def test_allows_call_on_day_eight_once_day_one_leaves_the_window(policies: PolicySet) -> None:
    decision = decide(policies, voice(), utc(2026, 4, 8, 15, 0), SEVEN_CALLS_APRIL_1_TO_7)

    assert decision.outcome is Outcome.ALLOW


def test_day_eight_before_8am_is_held_by_quiet_hours_only(policies: PolicySet) -> None:
    decision = decide(policies, voice(), utc(2026, 4, 8, 11, 59), SEVEN_CALLS_APRIL_1_TO_7)  # 07:59 EDT

    assert decision.outcome is Outcome.DEFER
    assert rules_of(decision) == [QUIET_HOURS]
    assert decision.not_before == utc(2026, 4, 8, 12, 0)


@pytest.mark.parametrize("result", ["placed", "unanswered", "voicemail"])
def test_every_placed_call_result_counts_toward_seven_in_seven(policies: PolicySet, result: str) -> None:
    history = [call(utc(2026, 4, day, 15, 0), result=result) for day in range(1, 8)]

    decision = decide(policies, voice(), utc(2026, 4, 7, 20, 0), history)

    assert decision.outcome is Outcome.DEFER
    assert FREQUENCY in rules_of(decision)


def test_not_connected_call_does_not_add_to_seven_placed_calls(policies: PolicySet) -> None:
    history = [*SEVEN_CALLS_APRIL_1_TO_7, call(utc(2026, 4, 2, 16, 0), result="not_connected")]

    on_day_seven = decide(policies, voice(), utc(2026, 4, 7, 20, 0), history)
    on_day_eight = decide(policies, voice(), utc(2026, 4, 8, 15, 0), history)

    # Deferred because of the seven placed calls alone: same instant, same count as without it.
    assert on_day_seven.outcome is Outcome.DEFER
    assert rules_of(on_day_seven) == [FREQUENCY]
    assert on_day_seven.not_before == utc(2026, 4, 8, 12, 0)
    assert on_day_seven.inputs["rules"][FREQUENCY] == {"America/New_York": 7}
    # On 8 April the window 2-8 April holds six placed calls plus the not_connected one: allowed.
    assert on_day_eight.outcome is Outcome.ALLOW


def test_six_placed_calls_and_several_not_connected_allow_another_call(policies: PolicySet) -> None:
    history = [
        *(call(utc(2026, 4, day, 15, 0)) for day in range(2, 8)),
        *(call(utc(2026, 4, day, 17, 0), result="not_connected") for day in (1, 3, 5, 7, 7)),
    ]

    decision = decide(policies, voice(), utc(2026, 4, 7, 20, 0), history)

    assert decision.outcome is Outcome.ALLOW
    assert decision.inputs["rules"][FREQUENCY] == {"America/New_York": 6}


def test_seven_in_seven_counts_local_calendar_days_not_utc_days(policies: PolicySet) -> None:
    # 00:30 UTC on 2..8 April is 20:30 EDT on 1..7 April: seven calls on local days 1-7 April.
    history = [call(utc(2026, 4, day, 0, 30)) for day in range(2, 9)]

    day_seven = decide(policies, voice(), utc(2026, 4, 8, 0, 45), history)  # 20:45 EDT 7 April
    day_eight = decide(policies, voice(), utc(2026, 4, 8, 13, 0), history)  # 09:00 EDT 8 April

    assert rules_of(day_seven) == [FREQUENCY]
    assert day_seven.not_before == utc(2026, 4, 8, 12, 0)
    # In UTC days the 2-8 April window would hold 7 calls; in local days it holds 6.
    assert day_eight.outcome is Outcome.ALLOW


def test_seven_in_seven_is_a_rolling_window_not_a_calendar_week(policies: PolicySet) -> None:
    # Four calls on Wed 1 April and three on Tue 7 April: seven in the window 1-7 April.
    history = [
        *(call(utc(2026, 4, 1, 14 + n, 0)) for n in range(4)),
        *(call(utc(2026, 4, 7, 14 + n, 0)) for n in range(3)),
    ]

    day_seven = decide(policies, voice(), utc(2026, 4, 7, 20, 0), history)
    day_eight = decide(policies, voice(), utc(2026, 4, 8, 12, 0), history)

    assert day_seven.outcome is Outcome.DEFER
    assert day_seven.not_before == utc(2026, 4, 8, 12, 0)
    assert day_eight.outcome is Outcome.ALLOW


def test_sms_history_does_not_count_toward_call_frequency(policies: PolicySet) -> None:
    history = [call(utc(2026, 4, day, 15, 0), channel="sms", result="sent") for day in range(1, 8)]

    decision = decide(policies, voice(), utc(2026, 4, 7, 20, 0), history)

    assert decision.outcome is Outcome.ALLOW


def test_seven_calls_about_one_debt_do_not_block_a_call_about_another(policies: PolicySet) -> None:
    now = utc(2026, 4, 7, 20, 0)

    other_debt = decide(policies, voice(account_id="a-2"), now, SEVEN_CALLS_APRIL_1_TO_7)
    same_debt = decide(policies, voice(account_id="a-1"), now, SEVEN_CALLS_APRIL_1_TO_7)

    assert other_debt.outcome is Outcome.ALLOW
    assert same_debt.outcome is Outcome.DEFER


def test_frequency_is_not_applied_to_sms(policies: PolicySet) -> None:
    decision = decide(policies, make_request(channel="sms"), utc(2026, 4, 7, 20, 0), SEVEN_CALLS_APRIL_1_TO_7)

    assert decision.outcome is Outcome.ALLOW


# --- comment 14(b)(2)(i)-1.ii: 7 days after a telephone conversation ------------------------------

CONVERSATION_AUG_14 = call(utc(2026, 8, 14, 15, 0), result="conversation")  # 11:00 EDT, Fri 14 Aug
AUG_21_8AM_EDT = utc(2026, 8, 21, 12, 0)


@pytest.mark.parametrize(
    "now",
    [
        utc(2026, 8, 14, 16, 0),  # same day, an hour later (day 1)
        utc(2026, 8, 17, 18, 0),  # day 4
        utc(2026, 8, 20, 20, 0),  # 16:00 EDT on day 7
    ],
)
def test_conversation_locks_calls_until_8am_local_on_day_eight(policies: PolicySet, now: datetime) -> None:
    decision = decide(policies, voice(), now, [CONVERSATION_AUG_14])

    assert decision.outcome is Outcome.DEFER
    assert decision.not_before == AUG_21_8AM_EDT
    assert rules_of(decision) == [LOCKOUT]
    assert decision.reasons[0].message.endswith("(locked after 2026-08-14 until 2026-08-21 in America/New_York)")


def test_lockout_ends_at_local_midnight_then_quiet_hours_hold_until_8am(policies: PolicySet) -> None:
    midnight = decide(policies, voice(), utc(2026, 8, 21, 4, 0), [CONVERSATION_AUG_14])  # 00:00 EDT 21 Aug
    last_minute_of_day_7 = decide(policies, voice(), utc(2026, 8, 21, 3, 59), [CONVERSATION_AUG_14])

    assert rules_of(midnight) == [QUIET_HOURS]
    assert midnight.not_before == AUG_21_8AM_EDT
    assert set(rules_of(last_minute_of_day_7)) == {QUIET_HOURS, LOCKOUT}
    assert last_minute_of_day_7.not_before == AUG_21_8AM_EDT


def test_call_allowed_at_8am_local_on_day_eight_after_conversation(policies: PolicySet) -> None:
    decision = decide(policies, voice(), AUG_21_8AM_EDT, [CONVERSATION_AUG_14])

    assert decision.outcome is Outcome.ALLOW


def test_inbound_conversation_also_locks_calls(policies: PolicySet) -> None:
    inbound = call(utc(2026, 8, 14, 15, 0), result="conversation", direction="inbound")

    decision = decide(policies, voice(), utc(2026, 8, 15, 15, 0), [inbound])

    assert decision.outcome is Outcome.DEFER
    assert rules_of(decision) == [LOCKOUT]
    assert decision.not_before == AUG_21_8AM_EDT


def test_conversation_lockout_does_not_block_sms(policies: PolicySet) -> None:
    decision = decide(policies, make_request(channel="sms"), utc(2026, 8, 15, 15, 0), [CONVERSATION_AUG_14])

    assert decision.outcome is Outcome.ALLOW


def test_conversation_about_one_debt_does_not_lock_calls_about_another(policies: PolicySet) -> None:
    decision = decide(policies, voice(account_id="a-2"), utc(2026, 8, 15, 15, 0), [CONVERSATION_AUG_14])

    assert decision.outcome is Outcome.ALLOW


def test_voicemail_does_not_start_a_lockout(policies: PolicySet) -> None:
    voicemail = call(utc(2026, 8, 14, 15, 0), result="voicemail")

    decision = decide(policies, voice(), utc(2026, 8, 15, 15, 0), [voicemail])

    assert decision.outcome is Outcome.ALLOW


def test_conversation_day_is_the_local_date_not_the_utc_date(policies: PolicySet) -> None:
    # 02:00 UTC 15 Aug is 22:00 EDT 14 Aug (an inbound call late in the evening): day 1 is 14 Aug.
    late_inbound = call(utc(2026, 8, 15, 2, 0), result="conversation", direction="inbound")

    decision = decide(policies, voice(), utc(2026, 8, 20, 20, 0), [late_inbound])

    assert decision.not_before == AUG_21_8AM_EDT


# --- 1006.6(b)(1)(i): quiet hours hold on every channel ------------------------------------------

CHANNEL_REQUESTS = {
    "sms": lambda: make_request(channel="sms"),
    "voice": lambda: voice(),
    "email": lambda: make_request(
        channel="email",
        to="debtor@example.com",
        location={"country": "US", "subdivision": "GA"},
        message={"subject": "Your account", "body": "Your payment is overdue. To opt out of email, reply STOP."},
    ),
}


@pytest.mark.parametrize("channel", sorted(CHANNEL_REQUESTS))
def test_defers_contact_before_8am_local_on_every_channel(policies: PolicySet, channel: str) -> None:
    decision = decide(policies, CHANNEL_REQUESTS[channel](), utc(2026, 3, 16, 11, 59))  # 07:59 EDT

    assert decision.outcome is Outcome.DEFER
    assert decision.not_before == utc(2026, 3, 16, 12, 0)  # 08:00 EDT
    assert rules_of(decision) == [QUIET_HOURS]


@pytest.mark.parametrize("channel", sorted(CHANNEL_REQUESTS))
def test_defers_contact_at_9pm_local_until_8am_next_day_on_every_channel(policies: PolicySet, channel: str) -> None:
    decision = decide(policies, CHANNEL_REQUESTS[channel](), utc(2026, 3, 17, 1, 0))  # 21:00 EDT

    assert decision.outcome is Outcome.DEFER
    assert decision.not_before == utc(2026, 3, 17, 12, 0)


@pytest.mark.parametrize("channel", sorted(CHANNEL_REQUESTS))
def test_allows_contact_inside_local_hours_on_every_channel(policies: PolicySet, channel: str) -> None:
    assert decide(policies, CHANNEL_REQUESTS[channel](), utc(2026, 3, 16, 12, 0)).outcome is Outcome.ALLOW
    assert decide(policies, CHANNEL_REQUESTS[channel](), utc(2026, 3, 17, 0, 59)).outcome is Outcome.ALLOW


def test_email_zone_comes_from_the_address_location_not_the_email_address(policies: PolicySet) -> None:
    decision = decide(policies, CHANNEL_REQUESTS["email"](), utc(2026, 3, 16, 11, 59))

    assert decision.inputs["zones"] == ["America/New_York"]
    assert decision.inputs["zone_sources"] == {"America/New_York": ["location.subdivision"]}


def test_sms_in_winter_defers_until_8am_eastern_standard_time(policies: PolicySet) -> None:
    decision = decide(policies, make_request(channel="sms"), utc(2026, 1, 15, 12, 59))  # 07:59 EST

    assert decision.not_before == utc(2026, 1, 15, 13, 0)


def test_defers_sms_until_8am_in_every_candidate_zone(policies: PolicySet) -> None:
    request = make_request(channel="sms", **EASTERN_MOBILE_PACIFIC_ADDRESS)

    decision = decide(policies, request, utc(2026, 3, 16, 14, 0))  # 10:00 EDT / 07:00 PDT

    assert decision.not_before == utc(2026, 3, 16, 15, 0)


# --- fail closed ----------------------------------------------------------------------------------


def test_denies_email_without_any_location_for_lack_of_a_time_zone(policies: PolicySet) -> None:
    request = make_request(channel="email", to="debtor@example.com", location={})

    decision = decide(policies, request, utc(2026, 3, 16, 16, 0))

    assert decision.outcome is Outcome.DENY
    assert rules_of(decision) == ["gateway/no-time-zone"]
    assert decision.not_before is None


def test_denies_when_one_candidate_zone_is_unknown(policies: PolicySet) -> None:
    request = make_request(location={"country": "US", "subdivision": "GA", "timezone": "Mars/Olympus_Mons"})

    decision = decide(policies, request, utc(2026, 3, 16, 16, 0))

    assert decision.outcome is Outcome.DENY
    assert rules_of(decision) == ["gateway/no-time-zone"]


def test_denies_recipient_outside_every_pack_jurisdiction(policies: PolicySet) -> None:
    request = make_request(to="+493012345678", location={"country": "DE"})  # Germany: no pack

    decision = decide(policies, request, utc(2026, 3, 16, 12, 0))  # 13:00 in Berlin

    assert decision.outcome is Outcome.DENY
    assert rules_of(decision) == ["gateway/no-policy"]
    assert [p for p in decision.inputs["packs"] if p != "house-tiered"] == []  # only the house pack applies
    assert decision.not_before is None


def test_decision_carries_the_policy_version(policies: PolicySet) -> None:
    decision = decide(policies, voice(), utc(2026, 3, 16, 16, 0))

    assert decision.policy_version == policies.version
    assert decision.inputs["packs"] == ["us-federal"]
