"""The deferral search finds what the reference search finds: the same instant, or none, on every case.

``engine.next_allowed`` asks each rule for the earliest instant it allows and iterates to a fixed point;
``engine.next_allowed_reference`` tests every boundary of every rule. Cases come from every pack
(bench/engine_cases.py): voice, texts and emails, histories of any result, direction, debt and agency,
inconvenient times and consents, instants around DST changes.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import engine_cases
from chalicelib.domain import engine
from chalicelib.domain.model import Outcome
from chalicelib.domain.policy import PolicySet

POLICIES = engine_cases.every_pack_policies()


def _compare(case: engine_cases.Case, policies: PolicySet) -> str:
    """Check one case; say what kind it was (for the coverage check)."""
    decision = engine.evaluate(case.request, case.history, policies, case.now, case.preferences)
    checks = engine.rule_checks(case.request, case.history, policies, case.preferences)
    if checks is None or not engine.violations(checks, case.now):
        return decision.outcome.value
    reference = engine.next_allowed_reference(checks, case.now)
    if any(rule.is_permanent for rule, _ in engine.violations(checks, case.now)):
        assert decision.outcome is Outcome.DENY
        return "permanent"
    assert engine.fixed_point(checks, case.now) == (True, reference)  # settled, without the scan's help
    if reference is None:
        assert decision.outcome is Outcome.DENY
        assert decision.reasons[-1] == engine.NO_TIME or engine.NO_TIME in decision.reasons
        return "no-time"
    assert decision.outcome is Outcome.DEFER
    assert decision.not_before == reference
    blocked = {rule.id for rule, _ in engine.violations(checks, case.now)}
    assert {r.rule for r in decision.reasons} - {"gateway/address"} == blocked
    return "defer"


def test_a_thousand_cases_across_every_pack_defer_to_the_same_instant() -> None:
    kinds = Counter(_compare(case, POLICIES) for case in engine_cases.cases(1000, seed=7))
    # the sweep reaches the search many times, and every pack applies somewhere
    assert kinds["defer"] >= 200, kinds
    assert kinds["allow"] >= 50, kinds
    packs = {
        p
        for case in engine_cases.cases(1000, seed=7)
        for p in engine.evaluate(case.request, case.history, POLICIES, case.now).inputs.get("packs", [])
    }
    assert packs == {p.id for p in POLICIES.packs}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.integers(0, 10_000))
def test_generated_cases_defer_to_the_same_instant(rng: random.Random, n: int) -> None:
    _compare(engine_cases.case(rng, n), POLICIES)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_crowded_histories_defer_to_the_same_instant(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(50):
        case = engine_cases.case(rng)
        crowded = engine_cases.history(rng, case.request, case.now, 60)
        _compare(engine_cases.Case(case.request, crowded, case.preferences, case.now), POLICIES)
