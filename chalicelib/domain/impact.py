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
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from chalicelib.domain import counterfactual, engine
from chalicelib.domain.impact_report import Mode, Report
from chalicelib.domain.model import Decision
from chalicelib.domain.policy import Pack, PolicySet
from chalicelib.domain.replay import CONTENT_KEY, Case, Unreplayable, content_key
from chalicelib.domain.rules import ContentRule, Context
from chalicelib.domain.rules.base import BaseRule
from chalicelib.domain.rules.content import _communicated_before as communicated_before  # the rule's own test


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
