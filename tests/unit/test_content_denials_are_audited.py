"""A message that breaks a content rule is never sent; the refusal is audited with the rule, its citation
and the words masked, never in full."""

from __future__ import annotations

import json

from chalicelib.services.contacts import submit_contact
from tests.support import TENANT, make_request, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


def test_a_threat_is_refused_unsent_and_audited_with_the_span_masked(deps):
    threat = make_request(message={"body": "Pay now or go to JAIL tonight. Reply STOP to opt out."})
    result = submit_contact(threat, deps, NOON_ATLANTA)
    assert result.status != "sent" and deps.sms.sent == []
    events = deps.ledgers.get(TENANT, "d-1").outbox + tuple(deps.audit.for_person(TENANT, "d-1"))
    decided = [e for e in events if e["type"] == "decided"]
    assert decided
    text = json.dumps(decided, ensure_ascii=False)
    assert "us-federal/no-threat-of-arrest" in text and "1692e(4)" in text and "«J***»" in text
    assert "JAIL" not in text


def test_words_deny_even_when_the_hour_alone_would_defer(deps):
    # 22:00 in Atlanta, on_blocked=defer: waiting cannot fix the words, so nothing is scheduled
    night = utc(2026, 3, 3, 3, 0)
    threat = make_request(message={"body": "We will tell your employer. Reply STOP to opt out."})
    result = submit_contact(threat, deps, night)
    assert result.decision.outcome.value == "deny" and result.decision.not_before is None
    assert deps.sms.sent == []
    assert "us-federal/no-disclosure-threats" in {r.rule for r in result.decision.reasons}
