"""Policy impact: recorded decisions decided again under the current policy set and a proposed one.

Each decision is decided again at its own instant, with the preferences the engine saw then
(``replay.Case``), under both sets. Mode ``recorded``: against the history as it happened, so a contact the
proposed set would have blocked stays in the history of later decisions. Mode ``counterfactual``: each set's
decisions are judged against the history that set would have produced (``counterfactual.Histories``), so a
contact the proposed set blocks leaves the history of its later decisions. The engine is the gateway's own
(``engine.evaluate``); a decision's place comes from its record, so nothing here needs an address.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from chalicelib.domain import counterfactual, engine
from chalicelib.domain.model import Decision, Outcome
from chalicelib.domain.policy import Pack, PolicySet
from chalicelib.domain.replay import CONTENT_KEY, Case, Unreplayable, content_key
from chalicelib.domain.rules import ContentRule, Context
from chalicelib.domain.rules.base import BaseRule
from chalicelib.domain.rules.content import _communicated_before as communicated_before  # the rule's own test


class Mode(StrEnum):
    """Which history each set's decisions are judged against (decision 0039)."""

    RECORDED = "recorded"  # as it happened
    COUNTERFACTUAL = "counterfactual"  # as the proposed set would have made it


MAX_LISTED = 100  # contacts listed per group in a report (every count stays whole): a job holds it


class RecordedContentRule(ContentRule):
    """A content rule judged by the verdict recorded for its content: replay keeps no message text. Whether
    it judges at all (an initial communication only) is decided again on the recorded history."""

    def violation(self, ctx: Context, at: datetime) -> str | None:
        if self.communications == "initial" and communicated_before(ctx):
            return None
        verdicts: Mapping[str, str | None] = ctx.request.metadata.get(CONTENT_KEY, {})
        return verdicts.get(content_key(self))


def _replayable(rule: BaseRule) -> BaseRule:
    return RecordedContentRule(**rule.model_dump()) if isinstance(rule, ContentRule) else rule


def for_replay(policies: PolicySet) -> PolicySet:
    """The same set (and version), its content rules judged on recorded matches."""
    packs = tuple(p.model_copy(update={"rules": tuple(_replayable(r) for r in p.rules)}) for p in policies.packs)
    return policies.model_copy(update={"packs": packs})


def overlay(current: PolicySet, proposed: Iterable[Pack], version: str) -> PolicySet:
    """The current set with each proposed pack in place of the pack of its id (or added)."""
    packs = {p.id: p for p in current.packs} | {p.id: p for p in proposed}
    return PolicySet(packs=tuple(packs[i] for i in sorted(packs)), version=version)


def _unchecked(case: Case, packs: Iterable[Pack]) -> str | None:
    """A content pattern of these packs that the decision's record did not check: it cannot be judged."""
    for pack in packs:
        for rule in pack.active_rules():
            if isinstance(rule, ContentRule) and rule.applies(case.request):
                if content_key(rule) not in case.content:
                    return f"{rule.id}: content no recorded decision judged (the message text is not kept)"
    return None


@dataclass
class _Group:
    count: int = 0
    contact_ids: list[str] = field(default_factory=list)

    def add(self, contact_id: str) -> None:
        self.count += 1
        if len(self.contact_ids) < MAX_LISTED:
            self.contact_ids.append(contact_id)

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "contact_ids": self.contact_ids}


def _instant(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None


def _rules(decision: Decision) -> set[str]:
    return {r.rule for r in decision.reasons if r.rule != "gateway/address"}


def _moved(case: Case, before: Decision, after: Decision) -> float | None:
    """How far ``not_before`` moves: from the current one, or from the decision's instant when it had none."""
    if after.not_before is None:
        return None
    return (after.not_before - (before.not_before or case.at)).total_seconds()


@dataclass
class Report:
    """The replay's tallies; ``to_json`` is what the CLI prints and the job holds."""

    proposed_ids: tuple[str, ...]
    mode: Mode = Mode.RECORDED
    history: counterfactual.Histories | None = None  # the counterfactual mode's
    decisions: int = 0
    totals: dict[str, dict[str, int]] = field(
        default_factory=lambda: {s: {o.value: 0 for o in Outcome} for s in ("current", "proposed")}
    )
    unreplayable: dict[str, int] = field(default_factory=dict)
    unreplayable_ids: _Group = field(default_factory=_Group)
    changes: list[dict[str, Any]] = field(default_factory=list)
    changed: int = 0
    by_rule: dict[str, _Group] = field(default_factory=dict)
    by_jurisdiction: dict[str, _Group] = field(default_factory=dict)
    deferrals: list[dict[str, Any]] = field(default_factory=list)
    moves: list[float] = field(default_factory=list)
    fired: set[str] = field(default_factory=set)
    recorded: dict[str, int] = field(default_factory=lambda: {"compared": 0, "agree": 0})
    recorded_differs: _Group = field(default_factory=_Group)

    def skip(self, contact_id: str, reason: str) -> None:
        self.unreplayable[reason] = self.unreplayable.get(reason, 0) + 1
        self.unreplayable_ids.add(contact_id)

    def add(self, case: Case, before: Decision, after: Decision) -> None:
        self.decisions += 1
        self.totals["current"][before.outcome.value] += 1
        self.totals["proposed"][after.outcome.value] += 1
        self.fired |= _rules(after)
        moved = _moved(case, before, after)
        entry: dict[str, Any] = {
            "contact_id": case.contact_id,
            "at": _instant(case.at),
            "jurisdiction": case.place,
            "current": {"outcome": before.outcome.value, "not_before": _instant(before.not_before)},
            "proposed": {"outcome": after.outcome.value, "not_before": _instant(after.not_before)},
            "rules": sorted((_rules(after) ^ _rules(before)) or (_rules(after) | _rules(before))),
        }
        if moved is not None:
            entry["not_before_moved_seconds"] = moved
        if before.outcome is not after.outcome:
            self._changed(case, entry)
        elif after.outcome is Outcome.DEFER and moved:
            self.moves.append(moved)
            if len(self.deferrals) < MAX_LISTED:
                self.deferrals.append(entry)

    def _changed(self, case: Case, entry: dict[str, Any]) -> None:
        self.changed += 1
        if len(self.changes) < MAX_LISTED:
            self.changes.append(entry)
        for rule in entry["rules"]:
            self.by_rule.setdefault(rule, _Group()).add(case.contact_id)
        self.by_jurisdiction.setdefault(case.place, _Group()).add(case.contact_id)

    def compare_recorded(self, case: Case, before: Decision) -> None:
        """A decision recorded under the current set's own version should come out the same again."""
        if case.recorded_version != before.policy_version or case.recorded_outcome is None:
            return
        self.recorded["compared"] += 1
        if case.recorded_outcome == before.outcome.value:
            self.recorded["agree"] += 1
        else:
            self.recorded_differs.add(case.contact_id)

    def to_json(self, proposed: PolicySet) -> dict[str, Any]:
        moves = sorted(self.moves)
        rules = [r.id for p in proposed.packs if p.id in self.proposed_ids for r in p.active_rules()]
        return {
            "mode": self.mode.value,
            "decisions": self.decisions,
            "totals": self.totals,
            "not_replayable": {
                "count": sum(self.unreplayable.values()),
                "reasons": self.unreplayable,
                "contact_ids": self.unreplayable_ids.contact_ids,
            },
            "changed": {"count": self.changed, "contacts": self.changes},
            "by_rule": {k: g.to_json() for k, g in sorted(self.by_rule.items())},
            "by_jurisdiction": {k: g.to_json() for k, g in sorted(self.by_jurisdiction.items())},
            "deferrals_moved": {
                "count": len(moves),
                "later": sum(1 for m in moves if m > 0),
                "earlier": sum(1 for m in moves if m < 0),
                "max_seconds": max(moves, default=None, key=abs),
                "median_seconds": moves[len(moves) // 2] if moves else None,
                "contacts": self.deferrals,
            },
            "dead_rules": [r for r in rules if r not in self.fired],
            "recorded": {**self.recorded, "differ": self.recorded_differs.to_json()},
            "listed_at_most": MAX_LISTED,
        } | ({"history": self.history.to_json()} if self.history else {})


def _decide(case: Case, policies: PolicySet) -> Decision:
    return engine.evaluate(case.request, case.history, policies, case.at, case.preferences, candidates=case.candidates)


def _applying(pack: Pack, case: Case) -> tuple[Pack, list[BaseRule]]:
    return pack.model_copy(update={"rules": ()}), [r for r in pack.active_rules() if r.applies(case.request)]


def _same_rules(case: Case, now: tuple[Pack, ...], new: tuple[Pack, ...], changed: frozenset[str]) -> bool:
    """Whether both sets give this decision the same packs, and each changed pack the same rules that
    apply to its request (a changed voice cap does not change a text's decision) and the same calendar."""
    if [p.id for p in now] != [p.id for p in new]:
        return False
    return all(_applying(a, case) == _applying(b, case) for a, b in zip(now, new, strict=True) if a.id in changed)


@dataclass(frozen=True)
class _Plan:
    """How a kind of decision replays: why it cannot, or whether both sets decide it alike."""

    unreplayable: str | None
    same: bool


class _Planner:
    """Plans by what they depend on: the places, the tenant, what rules apply by (channel, purpose, days
    past due) and which content patterns the decision checked. A month holds few such kinds."""

    def __init__(self, current: PolicySet, proposed: PolicySet, changed: frozenset[str]) -> None:
        self.current, self.proposed, self.changed = current, proposed, changed
        self.plans: dict[tuple[object, ...], _Plan] = {}

    def plan(self, case: Case) -> _Plan:
        request, where = case.request, case.candidates
        key: tuple[object, ...] = (where.countries, where.subdivisions, request.tenant, request.channel)
        key += (request.purpose, request.days_past_due, tuple(case.content))
        key += (request.recipient_role, request.agency is None)  # what a content rule's ``applies`` reads too
        found = self.plans.get(key)
        if found is None:
            found = self.plans[key] = self._plan(case)
        return found

    def _plan(self, case: Case) -> _Plan:
        args = (case.candidates.countries, case.candidates.subdivisions, case.request.tenant)
        now, new = self.current.applicable(*args), self.proposed.applicable(*args)
        why = _unchecked(case, now) or _unchecked(case, new)
        return _Plan(why, why is None and _same_rules(case, now, new, self.changed))


def replay(
    items: Iterable[Case | Unreplayable],
    current: PolicySet,
    proposed: PolicySet,
    proposed_ids: Iterable[str],
    mode: Mode = Mode.RECORDED,
) -> Report:
    """Decide every case again under both sets and tally what would change (``Report.to_json``).

    A decision that both sets give the same rules (``_same_rules``) and the same history is decided once:
    the engine is a pure function of them, so its second answer would be the same. ``items`` come in the
    order of their instants (the counterfactual histories are built in it)."""
    ids = tuple(proposed_ids)
    report = Report(proposed_ids=ids, mode=mode, history=_histories(mode, current, proposed))
    now_set, new_set = for_replay(current), for_replay(proposed)
    planner = _Planner(current, proposed, frozenset(i for i in ids if _pack(current, i) != _pack(proposed, i)))
    for item in items:
        if isinstance(item, Unreplayable):
            report.skip(item.contact_id, item.reason)
            continue
        plan = planner.plan(item)
        if plan.unreplayable is not None:
            report.skip(item.contact_id, plan.unreplayable)
            continue
        if report.history is None:
            before = as_recorded = _decide(item, now_set)
            after = before if plan.same else _decide(item, new_set)
        else:
            before, after, as_recorded = _counterfactual(item, (now_set, new_set), plan.same, report.history)
        report.add(item, before, after)
        report.compare_recorded(item, as_recorded)
    return report


def _histories(mode: Mode, current: PolicySet, proposed: PolicySet) -> counterfactual.Histories | None:
    if mode is Mode.RECORDED:
        return None
    days = max(current.longest_window_days, proposed.longest_window_days) + 2  # as long as the ledger keeps
    return counterfactual.Histories(timedelta(days=days))


def _counterfactual(
    case: Case, sets: tuple[PolicySet, PolicySet], same: bool, histories: counterfactual.Histories
) -> tuple[Decision, Decision, Decision]:
    """Each set's decision on the history it would have produced, which the decision then extends; and the
    current set's on the recorded history (``Report.compare_recorded``), decided again only where the
    current set's history is not the recorded one: where the trail was not decided under it."""
    now, new = histories.current.of(case), histories.proposed.of(case)
    before = _decide(case if now is case.history else replace(case, history=now), sets[0])
    after = before if same and new == now else _decide(replace(case, history=new), sets[1])
    as_recorded = before if now is case.history else _decide(case, sets[0])
    histories.current.decided(case, before)
    histories.proposed.decided(case, after)
    return before, after, as_recorded


def _pack(policies: PolicySet, pack_id: str) -> Pack | None:
    try:
        return policies.pack(pack_id)
    except KeyError:
        return None
