"""A policy impact replay's report: what both sets decided, tallied (``Report.to_json`` is what the CLI prints
and a job holds), and the replay's modes (docs/decisions/0035, 0039)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain import counterfactual
from chalicelib.domain.impact_spec import Mode as Mode  # named here too, with the report
from chalicelib.domain.model import Decision, Outcome
from chalicelib.domain.policy import PolicySet
from chalicelib.domain.replay import Case

MAX_LISTED = 100  # contacts listed per group in a report (every count stays whole): a job holds it


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
