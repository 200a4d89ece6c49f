"""Counterfactual replay: a contact the proposed set blocks leaves the history later decisions are judged on.

The month, in Boston (Massachusetts: at most 2 texts per debt in 7 days; communications 08:00-21:00):
texts on Monday 2 February 2026 at noon, Wednesday 4 at 20:30 and Friday 6 at noon. Under the current
packs Monday's and Wednesday's are sent and Friday's is deferred by the cap to Monday 9, 08:00 (13:00 UTC).
The proposed Massachusetts pack ends the day at 20:00 and denies outside it (``permanent``). Checked by hand:
- as recorded, Wednesday's text becomes a denial, and Friday's stays deferred to Monday 9: Wednesday's
  text did happen, so the cap still counts it;
- counterfactually, Wednesday's text is never sent, so on Friday the cap counts Monday's alone: allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.support import make_request
from chalicelib import policy_store
from chalicelib.domain import impact, replay
from chalicelib.domain.policy import Pack, PolicySet
from chalicelib.services import dispatch
from chalicelib.services.contacts import submit_contact
from tests.fakes import unit_of_work
from tests.support import utc

MONDAY_NOON_BOSTON = utc(2026, 2, 2, 17)
WEDNESDAY_EVENING_BOSTON = utc(2026, 2, 5, 1, 30)  # 20:30 on Wednesday 4 in Boston
FRIDAY_NOON_BOSTON = utc(2026, 2, 6, 17)
BOSTON = {"debtor_id": "d-1", "to": "+16175550100", "location": {"country": "US", "subdivision": "MA"}}
CAP, QUIET = "us-ma/phone-and-text-frequency", "us-ma/quiet-hours"


def us_ma(**quiet_hours: Any) -> dict[str, Any]:
    document = yaml.safe_load(Path(policy_store.SOURCE_DIR, "us-ma.yaml").read_text("utf-8"))
    document["rules"][0].update(quiet_hours)  # us-ma/quiet-hours
    return dict(document)


STRICTER = {"allowed": {"default": ["08:00-20:00"]}, "permanent": True}


@pytest.fixture
def month(policies: PolicySet) -> list[dict[str, Any]]:
    deps = unit_of_work(policies)
    for at in (MONDAY_NOON_BOSTON, WEDNESDAY_EVENING_BOSTON, FRIDAY_NOON_BOSTON):
        submit_contact(make_request(**BOSTON, on_blocked="reject"), deps, at)
    return [dict(e) for e in deps.audit.for_person("local", "d-1")]


def run(events: list[dict[str, Any]], policies: PolicySet, pack: dict[str, Any], mode: str) -> Any:
    proposed = impact.overlay(policies, [Pack.model_validate(pack)], "ps-proposed")
    report = impact.replay(replay.cases(events, "local"), policies, proposed, [pack["id"]], mode=impact.Mode(mode))
    return report.to_json(proposed)


def ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["contact_id"] for e in events if e["type"] == "decided"]


def test_the_month_is_recorded_as_the_header_says(month):
    outcomes = [e["data"]["outcome"] for e in month if e["type"] == "decided"]
    assert outcomes == ["allow", "allow", "defer"]


def test_as_recorded_the_denied_text_still_counts_and_fridays_stays_deferred(month, policies):
    _monday, wednesday, _friday = ids(month)
    report = run(month, policies, us_ma(**STRICTER), "recorded")
    assert report["mode"] == "recorded"
    assert report["totals"] == {
        "current": {"allow": 2, "defer": 1, "deny": 0},
        "proposed": {"allow": 1, "defer": 1, "deny": 1},
    }
    assert report["changed"] == {
        "count": 1,
        "contacts": [
            {
                "contact_id": wednesday,
                "at": "2026-02-05T01:30:00Z",
                "jurisdiction": "US-MA",
                "current": {"outcome": "allow", "not_before": None},
                "proposed": {"outcome": "deny", "not_before": None},
                "rules": [QUIET],
            }
        ],
    }
    assert report["by_rule"] == {QUIET: {"count": 1, "contact_ids": [wednesday]}}
    assert report["deferrals_moved"]["count"] == 0


def test_counterfactually_the_denied_text_leaves_the_history_and_fridays_is_allowed(month, policies):
    _monday, wednesday, friday = ids(month)
    report = run(month, policies, us_ma(**STRICTER), "counterfactual")
    assert report["mode"] == "counterfactual"
    assert report["totals"] == {
        "current": {"allow": 2, "defer": 1, "deny": 0},
        "proposed": {"allow": 2, "defer": 0, "deny": 1},
    }
    assert report["changed"] == {
        "count": 2,
        "contacts": [
            {
                "contact_id": wednesday,
                "at": "2026-02-05T01:30:00Z",
                "jurisdiction": "US-MA",
                "current": {"outcome": "allow", "not_before": None},
                "proposed": {"outcome": "deny", "not_before": None},
                "rules": [QUIET],
            },
            {
                "contact_id": friday,
                "at": "2026-02-06T17:00:00Z",
                "jurisdiction": "US-MA",
                "current": {"outcome": "defer", "not_before": "2026-02-09T13:00:00Z"},
                "proposed": {"outcome": "allow", "not_before": None},
                "rules": [CAP],
            },
        ],
    }
    assert report["by_rule"] == {
        CAP: {"count": 1, "contact_ids": [friday]},
        QUIET: {"count": 1, "contact_ids": [wednesday]},
    }
    assert report["by_jurisdiction"] == {"US-MA": {"count": 2, "contact_ids": [wednesday, friday]}}
    assert report["history"] == {"current": {"left": 0, "entered": 0}, "proposed": {"left": 1, "entered": 1}}
    assert report["recorded"]["agree"] == 3


@pytest.mark.parametrize("mode", ["recorded", "counterfactual"])
def test_a_proposed_set_equal_to_the_current_one_changes_nothing_in_either_mode(month, policies, mode):
    report = run(month, policies, us_ma(), mode)
    assert report["mode"] == mode
    assert report["changed"] == {"count": 0, "contacts": []}
    assert report["by_rule"] == {} and report["by_jurisdiction"] == {}
    assert report["deferrals_moved"]["count"] == 0
    assert report["totals"]["current"] == report["totals"]["proposed"] == {"allow": 2, "defer": 1, "deny": 0}


@pytest.fixture
def strict(policies: PolicySet) -> PolicySet:
    return impact.overlay(policies, [Pack.model_validate(us_ma(**STRICTER))], "ps-strict")


@pytest.fixture
def strict_month(strict: PolicySet) -> list[dict[str, Any]]:
    """The month decided under the stricter pack: Wednesday's text denied, so Friday's was sent."""
    deps = unit_of_work(strict)
    for at in (MONDAY_NOON_BOSTON, WEDNESDAY_EVENING_BOSTON, FRIDAY_NOON_BOSTON):
        submit_contact(make_request(**BOSTON, on_blocked="reject"), deps, at)
    return [dict(e) for e in deps.audit.for_person("local", "d-1")]


def test_a_contact_the_proposed_set_allows_enters_the_history_of_later_decisions(strict, strict_month, policies):
    """Reversed: the current set is the stricter one. A proposed set that allows Wednesday's text makes
    Friday's the third text in 7 days: deferred."""
    events = strict_month
    _monday, wednesday, friday = ids(events)
    proposed = impact.overlay(policies, [Pack.model_validate(us_ma())], "ps-proposed")
    cases = replay.cases(events, "local")
    report = impact.replay(cases, strict, proposed, ["us-ma"], mode=impact.Mode.COUNTERFACTUAL).to_json(proposed)
    changes = {
        c["contact_id"]: (c["current"]["outcome"], c["proposed"]["outcome"]) for c in report["changed"]["contacts"]
    }
    assert changes == {wednesday: ("deny", "allow"), friday: ("allow", "defer")}
    assert report["history"] == {"current": {"left": 0, "entered": 0}, "proposed": {"left": 1, "entered": 1}}


def test_equal_sets_change_nothing_counterfactually_even_on_a_trail_decided_under_another(strict_month, policies):
    """Each set is judged on its own history: the trail's set (the stricter pack) is neither of them."""
    report = run(strict_month, policies, us_ma(), "counterfactual")
    assert report["changed"] == {"count": 0, "contacts": []}
    assert report["totals"]["current"] == report["totals"]["proposed"] == {"allow": 2, "defer": 1, "deny": 0}
    assert report["history"]["current"] == report["history"]["proposed"] == {"left": 1, "entered": 1}


def test_a_deferred_contact_leaves_its_place_and_a_contact_sent_earlier_ignores_its_re_decision(policies):
    """The proposed quiet hours end at 20:00 and defer. Friday's text, deferred by the cap, was scheduled and
    sent by the dispatcher on Monday 9 at 08:00. Counterfactually Wednesday's text is deferred to Thursday:
    it leaves its place, and the trail holds no later decision of it, so it is counted nowhere; Friday's is
    then allowed at once, and its re-decision on Monday 9 moves nothing."""
    deps = unit_of_work(policies)
    for at in (MONDAY_NOON_BOSTON, WEDNESDAY_EVENING_BOSTON, FRIDAY_NOON_BOSTON):
        submit_contact(make_request(**BOSTON), deps, at)
    dispatch.run_dispatcher(deps, utc(2026, 2, 9, 13))
    events: list[dict[str, Any]] = [dict(e) for e in deps.audit.for_person("local", "d-1")]
    outcomes = [(e["contact_id"], e["data"]["outcome"]) for e in events if e["type"] == "decided"]
    (_, _), (wednesday, _), (friday, _), (again, last) = outcomes
    assert again == friday and last == "allow"  # the dispatcher's decision of Friday's text
    report = run(events, policies, us_ma(allowed={"default": ["08:00-20:00"]}), "counterfactual")
    changes = [
        (c["contact_id"], c["current"]["outcome"], c["proposed"]["outcome"]) for c in report["changed"]["contacts"]
    ]
    assert changes == [(wednesday, "allow", "defer"), (friday, "defer", "allow")]
    assert report["history"] == {"current": {"left": 0, "entered": 0}, "proposed": {"left": 1, "entered": 1}}
    assert report["totals"]["proposed"] == {"allow": 3, "defer": 1, "deny": 0}
