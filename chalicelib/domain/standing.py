"""A person's standing under each rule that applies to one kind of contact: what the engine decides from.

For a probe request (a channel, a debt, an address), from the ledger's history and preferences at ``now``:
each frequency cap's budget (used, limit, window, when the next unit frees), each active lockout and its
end, each quiet-hours window now and later today in every candidate zone, in local time. Every figure is
the engine's own: the rules' ``inputs`` and ``violation``, and ``engine.next_allowed`` over one rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain import engine
from chalicelib.domain import zones as zone_resolution
from chalicelib.domain.model import ContactRecord, ContactRequest, Reason
from chalicelib.domain.policy import PolicySet
from chalicelib.domain.preferences import Preferences
from chalicelib.domain.rules import BaseRule, ContentRule, Context, FrequencyRule, LockoutRule, QuietHoursRule

Check = tuple[BaseRule, Context]


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def checks(
    request: ContactRequest, history: Sequence[ContactRecord], policy_set: PolicySet, preferences: Preferences
) -> tuple[list[Check], Reason | None]:
    """The rules that apply to ``request`` with the context the engine judges each in; or none, and the
    reason the engine denies without judging any (no known zone, no pack). A message's own wording
    (content rules) is no part of a person's standing: those are left out."""
    candidates = zone_resolution.resolve(request)
    known = tuple(ZoneInfo(z) for z in candidates.zones if zone_resolution.is_known_zone(z))
    if not known or len(known) != len(candidates.zones):
        return [], engine.NO_ZONE
    packs = policy_set.applicable(candidates.countries, candidates.subdivisions, request.tenant)
    covered = {c for p in packs if p.kind == "jurisdiction" for c in p.applies_to.countries}
    if not covered or set(candidates.countries) - covered:
        return [], engine.NO_POLICY
    base = Context(request=request, zones=known, history=tuple(history), preferences=preferences)
    found = [check for pack in packs for check in engine._checks(pack, base)]
    return [(rule, ctx) for rule, ctx in found if not isinstance(rule, ContentRule)], None


def _frees(rule: BaseRule, ctx: Context, now: datetime) -> datetime | None:
    """When this rule alone next lets a contact through: now, a later instant, or None (past the horizon)."""
    return now if rule.violation(ctx, now) is None else engine.next_allowed([(rule, ctx)], now)


def budget(rule: FrequencyRule, ctx: Context, now: datetime) -> dict[str, Any]:
    counted = rule.inputs(ctx, now)  # per zone: counted contacts in the fullest window holding now
    used = max((int(v) for v in counted.values() if isinstance(v, int)), default=0)
    return {
        "rule": rule.id,
        "citation": rule.citation,
        "key": rule.key,
        "used": used,
        "limit": rule.limit,
        "window": {"period": rule.period, "days": rule.days},
        "used_by_zone": counted,
        "blocks_now": rule.violation(ctx, now),
        "next_free_at": _iso(_frees(rule, ctx, now)),
    }


def lockout(rule: LockoutRule, ctx: Context, now: datetime) -> dict[str, Any] | None:
    detail = rule.violation(ctx, now)
    if detail is None:
        return None
    return {"rule": rule.id, "citation": rule.citation, "detail": detail, "until": _iso(_frees(rule, ctx, now))}


def _clock(value: time) -> str:
    return "24:00" if value == time.max else value.strftime("%H:%M")


def windows(rule: QuietHoursRule, ctx: Context, now: datetime) -> list[dict[str, Any]]:
    """Per candidate zone: the local time now, today's allowed windows, whether one is open now, and what is
    left of today's windows after now."""
    found = []
    for zone in ctx.zones:
        local = now.astimezone(zone)
        clock = local.time().replace(tzinfo=None)
        today = rule.windows_on(ctx, local.date())
        found.append(
            {
                "rule": rule.id,
                "zone": zone.key,
                "local_now": local.isoformat(timespec="minutes"),
                "today": [f"{_clock(s)}-{_clock(e)}" for s, e in today],
                "open_now": any(s <= clock < e for s, e in today),
                "later_today": [f"{_clock(max(s, clock))}-{_clock(e)}" for s, e in today if e > clock],
            }
        )
    return found


def _decision(found: list[Check], problem: Reason | None, now: datetime) -> dict[str, Any]:
    """The engine's verdict on the person's standing alone: allowed now, or from when, and why not."""
    if problem is not None:
        return {"allowed_now": False, "next_allowed_at": None, "reasons": [problem.model_dump()]}
    blocking = engine.violations(found, now)
    reasons = [{"rule": r.id, "citation": r.citation, "message": f"{r.message} ({d})"} for r, d in blocking]
    if not blocking or any(r.is_permanent for r, _ in blocking):
        return {"allowed_now": not blocking, "next_allowed_at": _iso(now) if not blocking else None, "reasons": reasons}
    return {"allowed_now": False, "next_allowed_at": _iso(engine.next_allowed(found, now)), "reasons": reasons}


def standing(
    request: ContactRequest,
    history: Sequence[ContactRecord],
    policy_set: PolicySet,
    now: datetime,
    preferences: Preferences,
) -> dict[str, Any]:
    """The verdict on the probe now, and each applying rule's standing behind it."""
    found, problem = checks(request, history, policy_set, preferences)
    return {
        "zones": sorted({z.key for _, ctx in found for z in ctx.zones}),
        "decision": _decision(found, problem, now),
        "budgets": [budget(r, c, now) for r, c in found if isinstance(r, FrequencyRule)],
        "lockouts": [x for r, c in found if isinstance(r, LockoutRule) and (x := lockout(r, c, now))],
        "windows": [w for r, c in found if isinstance(r, QuietHoursRule) for w in windows(r, c, now)],
        "other_rules_blocking": [
            {"rule": r.id, "detail": d}
            for r, c in found
            if not isinstance(r, FrequencyRule | LockoutRule | QuietHoursRule) and (d := r.violation(c, now))
        ],
    }
