"""Results not yet known count as the worst they can turn out to be, for every rule, in the engine.

A permitted call whose outcome is not reported may have been a conversation (Reg F's lockout, Australia's
actual contacts); a message the provider has not answered for may have been delivered. Encoded once in
the engine's counting (``chalicelib.domain.model.possible_results``), so no pack can forget it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.engine import evaluate
from chalicelib.domain.model import ContactRecord, Outcome, Result, possible_results
from chalicelib.domain.policy import PolicySet, build_policy_set
from tests.support import make_request, pack_with, utc

LOCKOUT = "us-federal/call-after-conversation"
AU_WEEK = "au/contacts-per-week"
NOON_ATLANTA = utc(2026, 3, 16, 16, 2)  # 12:02 EDT, a Monday
SYDNEY_LANDLINE = "+61293744000"
NOON_SYDNEY = utc(2026, 3, 16, 1, 0)  # 12:00 AEDT, a Monday


def record(at: datetime, result: str, channel: str = "voice", to: str = "+14045550100", **extra: Any) -> ContactRecord:
    fields = {"contact_id": f"c-{channel}-{at.isoformat()}", "at": at, "channel": channel, "account_id": "a-1"}
    return ContactRecord(**{**fields, "to": to, "result": result, **extra})


def voice(**overrides: Any) -> Any:
    return make_request(channel="voice", message=None, **overrides)


def rules_of(decision: Any) -> list[str]:
    return [reason.rule for reason in decision.reasons]


def test_a_call_without_a_reported_outcome_locks_the_debt_like_a_conversation(policies: PolicySet) -> None:
    permitted = record(NOON_ATLANTA, "placed")
    decision = evaluate(voice(), [permitted], policies, NOON_ATLANTA + timedelta(minutes=3))

    assert decision.outcome is Outcome.DEFER
    assert LOCKOUT in rules_of(decision)
    message = next(r.message for r in decision.reasons if r.rule == LOCKOUT)
    assert "a call permitted at 12:02 (America/New_York) has no reported outcome" in message


def test_an_outcome_lifts_what_the_pending_call_no_longer_justifies(policies: PolicySet) -> None:
    unanswered = record(NOON_ATLANTA, "unanswered")
    decision = evaluate(voice(), [unanswered], policies, NOON_ATLANTA + timedelta(minutes=3))
    assert decision.outcome is Outcome.ALLOW


def test_a_call_settled_as_unknown_keeps_counting_as_a_conversation(policies: PolicySet) -> None:
    settled = record(NOON_ATLANTA, "unknown")
    decision = evaluate(voice(), [settled], policies, NOON_ATLANTA + timedelta(hours=2))
    assert decision.outcome is Outcome.DEFER and LOCKOUT in rules_of(decision)


def test_another_debt_is_not_locked_by_a_pending_call(policies: PolicySet) -> None:
    permitted = record(NOON_ATLANTA, "placed")
    decision = evaluate(voice(account_id="a-2"), [permitted], policies, NOON_ATLANTA + timedelta(minutes=3))
    assert decision.outcome is Outcome.ALLOW


def test_a_pending_call_counts_as_an_actual_contact_in_australia(policies: PolicySet) -> None:
    sydney = {"to": SYDNEY_LANDLINE, "location": {"country": "AU", "subdivision": "NSW"}}
    texts = [record(NOON_SYDNEY - timedelta(days=d), "sent", "sms", SYDNEY_LANDLINE) for d in (1, 2)]
    call = record(NOON_SYDNEY - timedelta(minutes=30), "placed", "voice", SYDNEY_LANDLINE)

    without_call = evaluate(make_request(**sydney), texts, policies, NOON_SYDNEY)
    assert without_call.outcome is Outcome.ALLOW
    decision = evaluate(make_request(**sydney), [*texts, call], policies, NOON_SYDNEY)
    assert decision.outcome is Outcome.DEFER and AU_WEEK in rules_of(decision)
    message = next(r.message for r in decision.reasons if r.rule == AU_WEEK)
    assert "1 of them has no reported outcome" in message


def test_a_message_the_provider_has_not_answered_for_counts_as_sent() -> None:
    rule = {"id": "xx/one-text", "kind": "frequency", "channels": ["sms"], "key": "person"}
    policy_set = build_policy_set({"xx": pack_with({**rule, "counts": ["sent"], "limit": 1, "period": "calendar_day"})})
    for result in ("pending", "unknown"):
        earlier = record(NOON_ATLANTA - timedelta(hours=1), result, "sms")
        decision = evaluate(make_request(), [earlier], policy_set, NOON_ATLANTA)
        assert decision.outcome is Outcome.DEFER, result
    failed = record(NOON_ATLANTA - timedelta(hours=1), "failed", "sms")
    assert evaluate(make_request(), [failed], policy_set, NOON_ATLANTA).outcome is Outcome.ALLOW


def test_every_unresolved_result_may_become_each_final_result_of_its_channel() -> None:
    assert Result.CONVERSATION in possible_results(record(NOON_ATLANTA, "placed"))
    assert Result.VOICEMAIL in possible_results(record(NOON_ATLANTA, "unknown"))
    assert Result.DELIVERED in possible_results(record(NOON_ATLANTA, "pending", "sms"))
    assert possible_results(record(NOON_ATLANTA, "unanswered")) == {Result.UNANSWERED}
    assert Result.CONVERSATION not in possible_results(record(NOON_ATLANTA, "pending", "sms"))


# --- permits expire: never past the edge of any window or any rule's boundary -----------------------


def test_a_permit_is_valid_for_the_permit_length_inside_the_window(policies: PolicySet) -> None:
    decision = evaluate(voice(), [], policies, NOON_ATLANTA, permit_for=timedelta(seconds=300))
    assert decision.outcome is Outcome.ALLOW
    assert decision.valid_until == NOON_ATLANTA + timedelta(seconds=300)


def test_a_permit_at_20_59_30_eastern_ends_at_21_00_eastern(policies: PolicySet) -> None:
    late = utc(2026, 3, 17, 0, 59, 30)  # 20:59:30 EDT on Monday, March 16
    decision = evaluate(voice(), [], policies, late, permit_for=timedelta(seconds=300))
    assert decision.outcome is Outcome.ALLOW
    assert decision.valid_until == utc(2026, 3, 17, 1, 0)  # 21:00:00 EDT


def test_a_permit_ends_at_the_earliest_edge_of_every_candidate_zone(policies: PolicySet) -> None:
    pacific_address = {"location": {"country": "US", "subdivision": "CA"}}  # Eastern mobile, Pacific address
    at = utc(2026, 3, 16, 15, 0, 10)  # 11:00:10 EDT, 08:00:10 PDT
    decision = evaluate(voice(**pacific_address), [], policies, at, permit_for=timedelta(hours=1))
    assert decision.valid_until == at + timedelta(hours=1)
    evening = utc(2026, 3, 17, 0, 58)  # 20:58 EDT, 17:58 PDT
    closing = evaluate(voice(**pacific_address), [], policies, evening, permit_for=timedelta(hours=1))
    assert closing.valid_until == utc(2026, 3, 17, 1, 0)  # 21:00 EDT closes first


def test_messages_and_refusals_carry_no_permit(policies: PolicySet) -> None:
    assert evaluate(make_request(), [], policies, NOON_ATLANTA, permit_for=timedelta(minutes=5)).valid_until is None
    night = utc(2026, 3, 17, 3, 0)
    assert evaluate(voice(), [], policies, night, permit_for=timedelta(minutes=5)).valid_until is None
