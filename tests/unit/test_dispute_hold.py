"""A debt under an open dispute is held until a compliance officer resolves the dispute (15 U.S.C. 1692g(b))."""

from __future__ import annotations

from chalicelib.domain.engine import evaluate
from chalicelib.domain.model import Outcome
from chalicelib.domain.policy import PolicySet, build_policy_set
from chalicelib.domain.preferences import OpenDispute, Preferences
from tests.support import make_request, pack_with, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
OPENED = utc(2026, 3, 1, 15, 30)
RULE = "us-federal/dispute-hold"
OPEN = Preferences(disputes=(OpenDispute(dispute_id="dp_1", account_id="a-1", opened_at=OPENED),))


def test_an_open_dispute_denies_a_text_about_that_debt_naming_the_dispute_and_since_when(policies):
    decision = evaluate(make_request(), [], policies, NOON_ATLANTA, OPEN)
    assert decision.outcome is Outcome.DENY and decision.not_before is None  # no waiting lifts it
    (reason,) = [r for r in decision.reasons if r.rule == RULE]
    assert "dp_1" in reason.message and "2026-03-01T15:30:00Z" in reason.message
    assert "1692g(b)" in reason.citation


def test_an_open_dispute_holds_every_channel_of_that_debt(policies):
    for fields in ({"channel": "voice", "message": None}, {"channel": "email", "to": "d@example.com"}):
        decision = evaluate(make_request(**fields), [], policies, NOON_ATLANTA, OPEN)
        assert decision.outcome is Outcome.DENY and RULE in [r.rule for r in decision.reasons], fields


def test_an_open_dispute_does_not_hold_another_debt_of_the_person(policies):
    decision = evaluate(make_request(account_id="a-2"), [], policies, NOON_ATLANTA, OPEN)
    assert decision.outcome is Outcome.ALLOW


def test_a_legal_notice_passes_an_open_dispute_and_the_override_is_recorded(policies):
    for purpose in ("legal_notice", "required_by_law"):
        decision = evaluate(make_request(purpose=purpose), [], policies, NOON_ATLANTA, OPEN)
        assert decision.outcome is Outcome.ALLOW, purpose
        override = decision.inputs["rules"][RULE]
        assert override["overridden_by_purpose"] == purpose and "dp_1" in override["would_block"]


def test_a_reminder_or_negotiation_is_not_exempt(policies):
    for purpose in ("reminder", "negotiation", "repayment_plan", "cease_acknowledgement"):
        assert evaluate(make_request(purpose=purpose), [], policies, NOON_ATLANTA, OPEN).outcome is Outcome.DENY


def test_the_text_is_allowed_once_the_dispute_is_resolved(policies):
    resolved = OPEN.without_dispute("dp_1")
    assert resolved.disputes == ()
    assert evaluate(make_request(), [], policies, NOON_ATLANTA, resolved).outcome is Outcome.ALLOW


def test_a_dispute_whose_account_is_unknown_holds_every_debt(policies):
    every = Preferences(disputes=(OpenDispute(dispute_id="dp_2", opened_at=OPENED),))
    decision = evaluate(make_request(account_id="a-9"), [], policies, NOON_ATLANTA, every)
    assert decision.outcome is Outcome.DENY


def _hold_only() -> PolicySet:
    rule = {"id": "xx/hold", "kind": "consent", "check": "dispute", "exempt_purposes": ["legal_notice"]}
    return build_policy_set({"xx.yaml": pack_with(rule)})


def test_the_dispute_check_is_permanent_in_any_pack_and_inert_without_a_dispute():
    policy_set = _hold_only()
    held = evaluate(make_request(), [], policy_set, NOON_ATLANTA, OPEN)
    assert held.outcome is Outcome.DENY and [r.rule for r in held.reasons] == ["xx/hold"]
    assert evaluate(make_request(), [], policy_set, NOON_ATLANTA).outcome is Outcome.ALLOW


def test_opening_the_same_dispute_twice_keeps_one_and_old_ledgers_read_without_disputes():
    again = OPEN.with_dispute(OPEN.disputes[0])
    assert again.disputes == OPEN.disputes
    assert Preferences.model_validate_json('{"cease": []}').disputes == ()
