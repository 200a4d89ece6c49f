"""Policy impact replay: a known month decided again under the current packs and a proposed one.

The month: texts at noon in Boston (Massachusetts: at most 2 texts per debt in 7 days) and in Atlanta on
Monday 2, Wednesday 4 and Friday 6 February 2026. Under the current packs Boston's third text is deferred to
Monday 9 at 08:00. A proposed Massachusetts pack allowing 1 text in 7 days, checked by hand:
- Wednesday's Boston text (Monday's counted) becomes a deferral to Monday 9, 08:00 (13:00 UTC);
- Friday's, deferred already, moves from Monday 9 to Wednesday 11, 08:00 (Wednesday's counts, as it did happen);
- Atlanta changes in nothing; Massachusetts' quiet hours never fire (every text is at noon).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.support import make_request
from chalicelib import policy_store
from chalicelib.domain import impact, replay
from chalicelib.domain.policy import Pack, PolicySet
from chalicelib.services import consent
from chalicelib.services.contacts import submit_contact
from tests.fakes import unit_of_work
from tests.support import utc

MONDAY_NOON_BOSTON = utc(2026, 2, 2, 17)
BOSTON = {"debtor_id": "d-1", "to": "+16175550100", "location": {"country": "US", "subdivision": "MA"}}
ATLANTA = {"debtor_id": "d-2"}


def us_ma(**changes: Any) -> dict[str, Any]:
    document = yaml.safe_load(Path(policy_store.SOURCE_DIR, "us-ma.yaml").read_text("utf-8"))
    document["rules"][1].update(changes)  # us-ma/phone-and-text-frequency
    return dict(document)


@pytest.fixture
def month(policies: PolicySet) -> list[dict[str, Any]]:
    deps = unit_of_work(policies)
    for day in (0, 2, 4):
        for person in (BOSTON, ATLANTA):
            request = make_request(**person, on_blocked="reject")
            submit_contact(request, deps, MONDAY_NOON_BOSTON + timedelta(days=day))
    events: list[dict[str, Any]] = [dict(e) for d in ("d-1", "d-2") for e in deps.audit.for_person("local", d)]
    return sorted(events, key=lambda e: (e["at"], e["debtor_id"], e["seq"]))


def decided_ids(events: list[dict[str, Any]], debtor_id: str) -> list[str]:
    return [e["contact_id"] for e in events if e["type"] == "decided" and e["debtor_id"] == debtor_id]


def run(events: Iterator[dict[str, Any]] | list[dict[str, Any]], policies: PolicySet, *packs: dict[str, Any]) -> Any:
    proposed = impact.overlay(policies, [Pack.model_validate(p) for p in packs], "ps-proposed")
    report = impact.replay(replay.cases(events, "local"), policies, proposed, [p["id"] for p in packs])
    return report.to_json(proposed)


def test_a_stricter_massachusetts_cap_defers_wednesdays_text_and_moves_fridays(month, policies):
    first, wednesday, friday = decided_ids(month, "d-1")
    report = run(month, policies, us_ma(limit=1))
    assert report["mode"] == "recorded"
    assert report["totals"] == {
        "current": {"allow": 5, "defer": 1, "deny": 0},
        "proposed": {"allow": 4, "defer": 2, "deny": 0},
    }
    [change] = report["changed"]["contacts"]
    assert change["contact_id"] == wednesday
    assert change["current"] == {"outcome": "allow", "not_before": None}
    assert change["proposed"] == {"outcome": "defer", "not_before": "2026-02-09T13:00:00Z"}
    assert change["rules"] == ["us-ma/phone-and-text-frequency"] and change["jurisdiction"] == "US-MA"
    assert change["not_before_moved_seconds"] == timedelta(days=4, hours=20).total_seconds()
    assert report["by_rule"] == {"us-ma/phone-and-text-frequency": {"count": 1, "contact_ids": [wednesday]}}
    assert report["by_jurisdiction"] == {"US-MA": {"count": 1, "contact_ids": [wednesday]}}
    [moved] = report["deferrals_moved"]["contacts"]
    assert moved["contact_id"] == friday
    assert (moved["current"]["not_before"], moved["proposed"]["not_before"]) == (
        "2026-02-09T13:00:00Z",
        "2026-02-11T13:00:00Z",
    )
    assert report["deferrals_moved"]["later"] == 1 and report["deferrals_moved"]["max_seconds"] == 2 * 86400
    assert report["dead_rules"] == ["us-ma/quiet-hours"]
    assert first not in str(report["changed"])


def test_a_proposed_pack_that_changes_nothing_reports_nothing(month, policies):
    report = run(month, policies, us_ma())
    assert report["changed"] == {"count": 0, "contacts": []}
    assert report["by_rule"] == {} and report["by_jurisdiction"] == {}
    assert report["deferrals_moved"]["count"] == 0 and report["deferrals_moved"]["contacts"] == []
    assert report["totals"]["current"] == report["totals"]["proposed"] == {"allow": 5, "defer": 1, "deny": 0}


def test_the_current_set_decides_every_recorded_decision_as_it_was_decided(month, policies):
    report = run(month, policies, us_ma(limit=1))
    assert report["recorded"] == {"compared": 6, "agree": 6, "differ": {"count": 0, "contact_ids": []}}


def test_a_decision_recorded_without_its_replay_inputs_is_counted_not_replayable(month, policies):
    old = [{**e, "data": {k: v for k, v in e["data"].items() if k != "replay"}} for e in month]
    report = run(old, policies, us_ma(limit=1))
    assert report["decisions"] == 0 and report["changed"]["count"] == 0
    assert report["not_replayable"]["count"] == 6
    assert report["not_replayable"]["reasons"] == {"recorded before decisions kept their replay inputs": 6}


def test_no_address_is_recorded_for_replay(month):
    blocks = [e["data"]["replay"] for e in month if e["type"] == "decided"]
    assert blocks and "+16175550100" not in str(blocks) and "+14045550100" not in str(blocks)
    assert {b["to"] for b in blocks} == {"+1617•••0100", "+1404•••0100"}


def test_a_content_pattern_no_decision_checked_makes_the_decision_not_replayable(month, policies):
    federal = yaml.safe_load(Path(policy_store.SOURCE_DIR, "us-federal.yaml").read_text("utf-8"))
    notice = next(r for r in federal["rules"] if r["id"] == "us-federal/opt-out-notice")
    notice["required_any"] = ["reply stop to end"]
    report = run(month, policies, federal)
    assert report["decisions"] == 0 and report["not_replayable"]["count"] == 6
    assert next(iter(report["not_replayable"]["reasons"])).startswith("us-federal/opt-out-notice: content no")


def test_a_content_rule_is_decided_again_from_the_verdict_recorded_for_its_content(policies):
    """A text without an opt-out notice, after earlier texts: denied. Proposed: the same notice rule, judged
    on initial communications only. Its content is unchanged, so its recorded verdict stands, and on the
    recorded history the text is not initial: allowed."""
    deps = unit_of_work(policies)
    submit_contact(make_request(**ATLANTA), deps, MONDAY_NOON_BOSTON)
    bare = make_request(**ATLANTA, message={"body": "Your payment is overdue."})
    submit_contact(bare, deps, MONDAY_NOON_BOSTON + timedelta(days=1))
    events: list[dict[str, Any]] = [dict(e) for e in deps.audit.for_person("local", "d-2")]
    assert "Your payment" not in str([e["data"]["replay"] for e in events if e["type"] == "decided"])
    federal = yaml.safe_load(Path(policy_store.SOURCE_DIR, "us-federal.yaml").read_text("utf-8"))
    notice = next(r for r in federal["rules"] if r["id"] == "us-federal/opt-out-notice")
    notice["communications"] = "initial"
    report = run(events, policies, federal)
    assert report["recorded"]["agree"] == 2 and report["not_replayable"]["count"] == 0
    [change] = report["changed"]["contacts"]
    assert (change["current"]["outcome"], change["proposed"]["outcome"]) == ("deny", "allow")
    assert change["rules"] == ["us-federal/opt-out-notice"]


def test_an_opt_out_is_replayed_from_its_masked_address_and_lifting_it_changes_the_decision(policies):
    deps = unit_of_work(policies)
    opt_out = {"opt_outs": [{"channel": "sms", "address": "+16175550100"}]}
    consent.change_preferences("local", "d-1", deps, MONDAY_NOON_BOSTON, opt_out)
    submit_contact(make_request(**BOSTON, on_blocked="reject"), deps, MONDAY_NOON_BOSTON + timedelta(hours=1))
    events: list[dict[str, Any]] = [dict(e) for e in deps.audit.for_person("local", "d-1")]
    [decided] = [e for e in events if e["type"] == "decided"]
    assert decided["data"]["outcome"] == "deny"
    assert decided["data"]["replay"]["p"] == {"opt_outs": [{"channel": "sms", "address": "+1617•••0100"}]}
    federal = yaml.safe_load(Path(policy_store.SOURCE_DIR, "us-federal.yaml").read_text("utf-8"))
    federal["rules"] = [r for r in federal["rules"] if r["id"] != "us-federal/opt-out-and-prohibited-media"]
    report = run(events, policies, federal)
    assert report["recorded"]["agree"] == 1
    [change] = report["changed"]["contacts"]
    assert (change["current"]["outcome"], change["proposed"]["outcome"]) == ("deny", "allow")
    assert change["rules"] == ["us-federal/opt-out-and-prohibited-media"]
