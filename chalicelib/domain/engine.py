"""The policy engine: a pure function from request, history, policies and ``now`` to a decision."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
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


def _checks(pack: Pack, base: Context) -> list[tuple[BaseRule, Context]]:
    holidays = pack.holidays or {}
    ctx = Context(
        request=base.request,
        zones=tuple(ZoneInfo(z) for z in pack.zones) if pack.zones else base.zones,
        history=base.history,
        preferences=base.preferences,
        country=holidays.get("country"),
        subdivision=holidays.get("subdivision"),
    )
    return [(rule, ctx) for rule in pack.active_rules() if rule.applies(base.request)]


def violations(checks: Sequence[tuple[BaseRule, Context]], at: datetime) -> list[tuple[BaseRule, str]]:
    found = []
    for rule, ctx in checks:
        detail = rule.violation(ctx, at)
        if detail is not None:
            found.append((rule, detail))
    return found


def next_allowed(checks: Sequence[tuple[BaseRule, Context]], now: datetime) -> datetime | None:
    """Earliest boundary after ``now`` where every rule passes; verdicts only change at boundaries.

    Boundaries are gathered a day at a time: most answers lie within a few days.
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
    candidates = candidates or zone_resolution.resolve(request)
    known = tuple(ZoneInfo(z) for z in candidates.zones if zone_resolution.is_known_zone(z))
    inputs: dict[str, object] = {**candidates.as_inputs(), "evaluated_at": now.isoformat()}

    def decide(
        outcome: Outcome,
        reasons: Sequence[Reason],
        not_before: datetime | None = None,
        valid_until: datetime | None = None,
    ) -> Decision:
        # An allowed decision has no reasons; one the rules blocked also says why the address counted as it did.
        ruled = outcome is not Outcome.ALLOW and not {NO_ZONE, NO_POLICY} & set(reasons)
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
    packs = policy_set.applicable(candidates.countries, candidates.subdivisions, request.tenant)
    inputs["packs"] = [p.id for p in packs]
    covered = {c for p in packs if p.kind == "jurisdiction" for c in p.applies_to.countries}
    if not covered or set(candidates.countries) - covered:
        return decide(Outcome.DENY, [NO_POLICY])  # every place the person may be needs its rules
    base = Context(request=request, zones=known, history=tuple(history), preferences=preferences or Preferences())
    checks = [check for pack in packs for check in _checks(pack, base)]
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
        at = next_allowed(checks, now)
    except Exception:  # noqa: BLE001 - any fault in a rule must deny, never allow
        return decide(Outcome.DENY, [POLICY_FAULT])
    if at is None:
        return decide(Outcome.DENY, [*reasons, NO_TIME])
    return decide(Outcome.DEFER, reasons, not_before=at)
