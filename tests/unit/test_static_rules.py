"""Recipient and content rules: who may be contacted and what a message must (not) say."""

from __future__ import annotations

from chalicelib.domain.engine import evaluate
from chalicelib.domain.model import ContactRecord, Outcome
from chalicelib.domain.policy import build_policy_set
from tests.support import make_request, pack_with, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


def test_a_third_party_may_be_asked_once_for_location_information(policies):
    ask = make_request(
        channel="voice", message=None, to="+14045550199", recipient_role="third_party", purpose="location_information"
    )
    assert evaluate(ask, [], policies, NOON_ATLANTA).outcome is Outcome.ALLOW
    earlier = ContactRecord(
        contact_id="c-0",
        at=utc(2026, 2, 1, 17, 0),
        channel="voice",
        account_id="a-1",
        to="+14045550199",
        result="conversation",
        recipient_role="third_party",
    )
    again = evaluate(ask, [earlier], policies, NOON_ATLANTA)
    assert again.outcome is Outcome.DENY and again.not_before is None
    other_reference = ask.model_copy(update={"to": "+14045550188"})
    assert evaluate(other_reference, [earlier], policies, NOON_ATLANTA).outcome is Outcome.ALLOW


def test_the_debtor_is_not_limited_by_the_third_party_rule(policies):
    earlier = ContactRecord(
        contact_id="c-0",
        at=utc(2026, 2, 1, 17, 0),
        channel="voice",
        account_id="a-1",
        to="+14045550100",
        result="conversation",
    )
    call = make_request(channel="voice", message=None)
    assert evaluate(call, [earlier], policies, NOON_ATLANTA).outcome is Outcome.ALLOW


def test_content_rule_denies_forbidden_wording_and_needs_required_text():
    words = {
        "id": "xx/words",
        "kind": "content",
        "required_any": [r"\bstop\b"],
        "forbidden": [r"\barrest(ed)?\b", "jail"],
    }
    pack = pack_with(words)
    policy_set = build_policy_set({"xx.yaml": pack})
    fine = make_request(message={"body": "Payment due. Reply STOP to opt out."})
    threat = make_request(message={"body": "Pay or you will be ARRESTED. Reply STOP to opt out."})
    silent = make_request(message={"body": "Payment due."})
    assert evaluate(fine, [], policy_set, NOON_ATLANTA).outcome is Outcome.ALLOW
    for request in (threat, silent):
        decision = evaluate(request, [], policy_set, NOON_ATLANTA)
        assert decision.outcome is Outcome.DENY
        assert decision.reasons[0].rule == "xx/words"
    call = make_request(channel="voice", message=None)
    assert evaluate(call, [], policy_set, NOON_ATLANTA).outcome is Outcome.ALLOW  # no text to judge


def test_a_message_required_by_law_passes_a_prohibited_medium_and_the_override_is_recorded(policies):
    from chalicelib.domain.preferences import OptOut, Preferences

    prefs = Preferences(opt_outs=(OptOut(channel="sms"),))
    reminder = make_request()
    assert evaluate(reminder, [], policies, NOON_ATLANTA, prefs).outcome is Outcome.DENY
    notice = make_request(purpose="required_by_law")
    decision = evaluate(notice, [], policies, NOON_ATLANTA, prefs)
    assert decision.outcome is Outcome.ALLOW
    override = decision.inputs["rules"]["us-federal/opt-out-and-prohibited-media"]
    assert override["overridden_by_purpose"] == "required_by_law"
    assert "opted out" in override["would_block"]
