"""The policy engine: a pure function from request, history, policies and ``now`` to a decision.

What does not depend on the history or the instant is worked out once per process and kept: where a
number and an address place the person (``_candidates``), and which packs and rules apply to a kind of
request in those places (``_plan``). Decisions themselves are never kept: each one reads its history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain import zones as zone_resolution
from chalicelib.domain.model import Channel, ContactRecord, ContactRequest, Decision, Outcome, Reason
from chalicelib.domain.policy import Pack, PolicySet
from chalicelib.domain.preferences import Preferences
from chalicelib.domain.rules import BaseRule, Context

HORIZON = timedelta(days=35)

NO_ZONE = Reason(
    rule="gateway/no-time-zone",
    citation="12 CFR 1006.6(b)(1)(i); house rule: fail closed",
    message="no known time zone for the recipient: local time cannot be established",
)
NO_POLICY = Reason(
    rule="gateway/no-policy",
    citation="house rule: fail closed",
    message="no policy pack covers the recipient's jurisdiction",
)
NO_TIME = Reason(
    rule="gateway/no-allowed-time",
    citation="house rule: bounded search",
    message=f"no instant within {HORIZON.days} days satisfies every rule",
)
ADDRESS_CITATION = "12 CFR 1006.6(b)(1)(i), comment 6(b)(1)(i)-2; house rule: the looser field is never trusted"
POLICY_FAULT = Reason(
    rule="gateway/policy-error",
    citation="house rule: fail closed",
    message="a rule could not be evaluated; nothing is sent on a broken policy",
)


def _address_reasons(candidates: zone_resolution.Candidates) -> list[Reason]:
    """Why the address gave more zones than its finest field (a contradiction, an unusable postal code)."""
    notes = candidates.address.notes
    if not notes:
        return []
    return [Reason(rule="gateway/address", citation=ADDRESS_CITATION, message="; ".join(notes))]


def _reason(rule: BaseRule, detail: str) -> Reason:
    return Reason(rule=rule.id, citation=rule.citation, message=f"{rule.message} ({detail})")


def _checks(pack: Pack, base: Context, rules: Sequence[BaseRule] | None = None) -> list[tuple[BaseRule, Context]]:
    """Each rule of ``pack`` that applies to the request, with the context it judges it in; ``rules``: the
    pack's rules that apply, when already known."""
    holidays = pack.holidays or {}
    ctx = Context(
        request=base.request,
        zones=tuple(ZoneInfo(z) for z in pack.zones) if pack.zones else base.zones,
        history=base.history,
        preferences=base.preferences,
        country=holidays.get("country"),
        subdivision=holidays.get("subdivision"),
        memo=base.memo,  # keyed by rule id and zone: the packs' contexts share what they match
    )
    if rules is None:
        rules = [rule for rule in pack.active_rules() if rule.applies(base.request)]
    return [(rule, ctx) for rule in rules]


_NO_PREFERENCES = Preferences()  # immutable: one serves every request without stated preferences

_CACHED = 4096  # entries of each per-process table below; cleared whole when full


@dataclass(frozen=True)
class _Placed:
    """Where a request's number and address place the person: pure in (channel, number, address)."""

    candidates: zone_resolution.Candidates
    known: tuple[ZoneInfo, ...]


_PLACED: dict[tuple[Any, ...], _Placed] = {}


def _candidates(request: ContactRequest) -> _Placed:
    key = (request.channel, request.to, request.location)
    found = _PLACED.get(key)
    if found is None:
        candidates = zone_resolution.resolve(request)
        known = tuple(ZoneInfo(z) for z in candidates.zones if zone_resolution.is_known_zone(z))
        if len(_PLACED) >= _CACHED:
            _PLACED.clear()
        found = _PLACED[key] = _Placed(candidates, known)
    return found


@dataclass(frozen=True)
class _Plan:
    """The packs that apply to a kind of request in some places, and whether they cover every country."""

    policy_set: PolicySet  # held so that the key's id() names this set while the entry lives
    packs: tuple[Pack, ...]
    covered: bool
    rules: tuple[tuple[BaseRule, ...], ...]  # per pack, the rules that apply to the request


def _recorded(candidates: zone_resolution.Candidates) -> _Placed:
    """Where a recorded decision placed the person (a replay): its zones, as the engine reads them."""
    return _Placed(candidates, tuple(ZoneInfo(z) for z in candidates.zones if zone_resolution.is_known_zone(z)))


_PLANS: dict[tuple[Any, ...], _Plan] = {}


def _plan(policy_set: PolicySet, candidates: zone_resolution.Candidates, request: ContactRequest) -> _Plan:
    """What ``Pack.applies`` and ``BaseRule.applies`` answer: the places, the tenant and the request's
    channel, purpose, days past due, recipient role and whether an agency sends it decide it. A field a
    rule kind's ``applies`` reads must be in the key (``test_rule_plans_match_the_rules_own_answers``)."""
    tenant = request.tenant
    key: tuple[Any, ...] = (id(policy_set), candidates.countries, candidates.subdivisions, tenant)
    key += (request.channel, request.purpose, request.days_past_due, request.recipient_role, request.agency is None)
    found = _PLANS.get(key)
    if found is None or found.policy_set is not policy_set:
        packs = policy_set.applicable(candidates.countries, candidates.subdivisions, tenant)
        covered = {c for p in packs if p.kind == "jurisdiction" for c in p.applies_to.countries}
        ok = bool(covered) and not set(candidates.countries) - covered  # every place the person may be
        if len(_PLANS) >= _CACHED:
            _PLANS.clear()
        rules = tuple(tuple(r for r in p.active_rules() if r.applies(request)) for p in packs)
        found = _PLANS[key] = _Plan(policy_set, packs, ok, rules)
    return found


def violations(checks: Sequence[tuple[BaseRule, Context]], at: datetime) -> list[tuple[BaseRule, str]]:
    found = []
    for rule, ctx in checks:
        detail = rule.violation(ctx, at)
        if detail is not None:
            found.append((rule, detail))
    return found


def rule_checks(
    request: ContactRequest,
    history: Sequence[ContactRecord],
    policy_set: PolicySet,
    preferences: Preferences | None = None,
) -> list[tuple[BaseRule, Context]] | None:
    """The rules ``evaluate`` judges the request by, each with its context; None where it denies before any
    rule (no known zone, no pack for a place)."""
    placed = _candidates(request)
    if not placed.known or len(placed.known) != len(placed.candidates.zones):
        return None
    plan = _plan(policy_set, placed.candidates, request)
    if not plan.covered:
        return None
    base = Context(
        request=request, zones=placed.known, history=tuple(history), preferences=preferences or _NO_PREFERENCES
    )
    return [check for pack, rules in zip(plan.packs, plan.rules, strict=True) for check in _checks(pack, base, rules)]


MAX_ROUNDS = 1000  # rounds of the fixed point before the boundary scan takes over (a few are the rule)


def next_allowed(
    checks: Sequence[tuple[BaseRule, Context]], now: datetime, blocked: Sequence[BaseRule] | None = None
) -> datetime | None:
    """Earliest instant after ``now`` where every rule passes, within the horizon: the same answer as
    ``next_allowed_reference``, found by ``fixed_point``.

    Called when some rule blocks ``now`` (``blocked``: those rules, when the caller has judged them).
    Should the rules allow ``now`` itself, or a rule's arithmetic not agree with its own verdict, the
    boundary scan answers instead."""
    settled, at = fixed_point(checks, now, blocked)
    return at if settled else next_allowed_reference(checks, now)


def fixed_point(
    checks: Sequence[tuple[BaseRule, Context]], now: datetime, blocked: Sequence[BaseRule] | None = None
) -> tuple[bool, datetime | None]:
    """Ask each rule for the earliest instant from ``at`` on it allows and move ``at`` on to its answer,
    until every rule allows the same instant: each answer is a lower bound of the instant all allow, so
    the first one they agree on is the earliest. Rules whose verdict holds at every instant are asked once;
    given the rules that block ``now`` (``blocked``), they are not judged again, and the first round asks
    only those (the others answer ``now`` itself).

    Returns whether it settled (an instant, or None: none within the horizon), or not (the rules allow
    ``now``, an answer was not allowed after all, or too many rounds)."""
    moving = [(rule, ctx) for rule, ctx in checks if not rule.timeless]
    if blocked is None:
        if len(moving) < len(checks) and violations([c for c in checks if c[0].timeless], now):
            return True, None  # no waiting changes a verdict that holds at every instant
        asked = moving
    else:
        if any(rule.timeless for rule in blocked):
            return True, None
        named = {id(rule) for rule in blocked}
        asked = [(rule, ctx) for rule, ctx in moving if id(rule) in named]
    limit, at = now + HORIZON, now
    for _ in range(MAX_ROUNDS):
        moved = False
        for rule, ctx in asked:
            found = rule.next_allowed(ctx, at, limit)
            if found is None or found > limit:
                return True, None
            if found != at:
                at, moved = found, True
        if not moved:
            break
        asked = moving
    else:
        return False, None
    return (at != now and not violations(moving, at)), at


def next_allowed_reference(checks: Sequence[tuple[BaseRule, Context]], now: datetime) -> datetime | None:
    """Earliest boundary after ``now`` where every rule passes; verdicts only change at boundaries.

    Boundaries are gathered a day at a time: most answers lie within a few days. Every boundary of every
    rule is tested against every rule: slow, and the reference ``next_allowed`` is checked against.
    """
    start, end = now, now + HORIZON
    while start < end:
        stop = min(start + timedelta(days=1), end)
        instants = sorted({b for rule, ctx in checks for b in rule.boundaries(ctx, start, stop) if start < b <= stop})
        for at in instants:
            if all(rule.violation(ctx, at) is None for rule, ctx in checks):  # stops at the first failure
                return at
        start = stop
    return None


def permit_end(checks: Sequence[tuple[BaseRule, Context]], now: datetime, length: timedelta) -> datetime:
    """When a permit given at ``now`` lapses: after ``length``, and never past the first instant at which
    any rule's verdict may change (a window's edge in any candidate zone, a local midnight, a consent's
    end). Between boundaries every verdict holds, so the whole permit is as allowed as ``now`` was."""
    end = now + length
    edges = (b for rule, ctx in checks for b in rule.boundaries(ctx, now, end) if now < b <= end)
    return min(edges, default=end)


def _inputs(checks: Sequence[tuple[BaseRule, Context]], now: datetime) -> dict[str, object]:
    found = {rule.id: rule.inputs(ctx, now) for rule, ctx in checks}
    return {rule_id: values for rule_id, values in found.items() if values}


def evaluate(
    request: ContactRequest,
    history: Sequence[ContactRecord],
    policy_set: PolicySet,
    now: datetime,
    preferences: Preferences | None = None,
    permit_for: timedelta | None = None,
    *,
    candidates: zone_resolution.Candidates | None = None,
) -> Decision:
    """Decide ``allow``, ``defer`` (with the exact earliest instant) or ``deny``, with reasons.

    ``permit_for``: an allowed call's permit lasts this long at most (``Decision.valid_until``).
    ``candidates``: where the recipient may be, as a decision recorded them (a replay); None: resolved
    from the request's address."""
    placed = _candidates(request) if candidates is None else _recorded(candidates)
    candidates, known = placed.candidates, placed.known
    inputs: dict[str, object] = {**candidates.as_inputs(), "evaluated_at": now.isoformat()}

    def decide(
        outcome: Outcome,
        reasons: Sequence[Reason],
        not_before: datetime | None = None,
        valid_until: datetime | None = None,
    ) -> Decision:
        # An allowed decision has no reasons; one the rules blocked also says why the address counted as it did.
        ruled = outcome is not Outcome.ALLOW and not any(r is NO_ZONE or r is NO_POLICY for r in reasons)
        notes = _address_reasons(candidates) if ruled else []
        return Decision(
            outcome=outcome,
            not_before=not_before,
            valid_until=valid_until,
            reasons=(*reasons, *notes),
            policy_version=policy_set.version,
            inputs=inputs,
        )

    if not known or len(known) != len(candidates.zones):
        return decide(Outcome.DENY, [NO_ZONE])
    plan = _plan(policy_set, candidates, request)
    packs = plan.packs
    inputs["packs"] = [p.id for p in packs]
    if not plan.covered:
        return decide(Outcome.DENY, [NO_POLICY])  # every place the person may be needs its rules
    base = Context(request=request, zones=known, history=tuple(history), preferences=preferences or _NO_PREFERENCES)
    checks = [check for pack, rules in zip(packs, plan.rules, strict=True) for check in _checks(pack, base, rules)]
    try:
        found = violations(checks, now)
        inputs["rules"] = _inputs(checks, now)
        if not found:
            voice = permit_for is not None and request.channel is Channel.VOICE
            until = permit_end(checks, now, permit_for) if voice and permit_for is not None else None
            return decide(Outcome.ALLOW, [], valid_until=until)
        reasons = [_reason(rule, detail) for rule, detail in found]
        if any(rule.is_permanent for rule, _ in found):
            return decide(Outcome.DENY, reasons)
        at = next_allowed(checks, now, [rule for rule, _ in found])
    except Exception:  # noqa: BLE001 - any fault in a rule must deny, never allow
        return decide(Outcome.DENY, [POLICY_FAULT])
    if at is None:
        return decide(Outcome.DENY, [*reasons, NO_TIME])
    return decide(Outcome.DEFER, reasons, not_before=at)
