"""The engine's per-process plans (which rules of which packs apply to a kind of request) answer what the
rules' own ``applies`` answers, whatever request warmed them.

A plan is cached under the request fields ``applies`` reads. A field missing from that key hands a request
the rules of another kind of request: an agency's first text judged without the collector disclosure, a
third party's without the rules that protect it. Every request here is judged after requests that differ
from it in one field each, so a missing field shows.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from chalicelib.domain import engine, zones
from chalicelib.domain.model import Channel, Purpose, RecipientRole
from chalicelib.policy_store import load_sources
from tests.support import make_request

VARIANTS: dict[str, list[Any]] = {
    "channel": [Channel.SMS, Channel.EMAIL, Channel.VOICE],
    "purpose": [Purpose.REMINDER, Purpose.LOCATION_INFORMATION, Purpose.LEGAL_NOTICE],
    "days_past_due": [None, 5, 200],
    "recipient_role": [RecipientRole.DEBTOR, RecipientRole.THIRD_PARTY],
    "agency": [None, "delta"],
}
PLACES = [
    ("+14045550100", {"country": "US", "subdivision": "GA"}),
    ("+8613800138000", {"country": "CN"}),
]


def _request(to: str, location: dict[str, str], fields: dict[str, object]):
    extra = {"to": "debtor@example.com"} if fields["channel"] == Channel.EMAIL else {"to": to}
    message = None if fields["channel"] == Channel.VOICE else {"body": "Your payment is overdue. Reply STOP."}
    return make_request(location=location, message=message, **{**fields, **extra})


def _uncached(policy_set, request) -> list[tuple[str, tuple[str, ...]]]:
    placed = zones.resolve(request)
    packs = policy_set.applicable(placed.countries, placed.subdivisions, request.tenant)
    return [(p.id, tuple(r.id for r in p.active_rules() if r.applies(request))) for p in packs]


@pytest.mark.parametrize(("to", "location"), PLACES)
def test_rule_plans_match_the_rules_own_answers(to: str, location: dict[str, str]) -> None:
    policy_set = load_sources()
    combos = [dict(zip(VARIANTS, values, strict=True)) for values in itertools.product(*VARIANTS.values())]
    random.Random(7).shuffle(combos)
    engine._PLANS.clear()
    wrong = []
    for fields in combos:
        request = _request(to, location, fields)
        placed = engine._candidates(request)
        plan = engine._plan(policy_set, placed.candidates, request)
        cached = [(p.id, tuple(r.id for r in rules)) for p, rules in zip(plan.packs, plan.rules, strict=True)]
        if cached != _uncached(policy_set, request):
            wrong.append(fields)
    assert not wrong, wrong[:3]
    assert any(r for _, rules in _uncached(policy_set, _request(to, location, combos[0])) for r in rules)
