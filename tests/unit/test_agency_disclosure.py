"""The one function that tells a decision to an agency's key (chalicelib.services.disclosure.general)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.engine import NO_TIME
from chalicelib.domain.policy import PolicySet
from chalicelib.services import disclosure

CAP = "us-ma/phone-and-text-frequency"
DECISION: dict[str, Any] = {
    "outcome": "defer",
    "not_before": "2026-03-09T15:00:00Z",
    "valid_until": None,
    "policy_version": "ps-1",
    "zones": ["America/New_York"],
    "reasons": [
        {"rule": CAP, "citation": "940 CMR 7.04(1)(f)", "message": "at most 2 … (2 counted in the window (limit 2))"},
        {"rule": "gateway/address", "citation": "house rule", "message": "postal code 02139 contradicts MA"},
        {"rule": NO_TIME.rule, "citation": NO_TIME.citation, "message": NO_TIME.message},
    ],
    "inputs": {"zones": ["America/New_York"], "packs": ["us-federal", "us-ma"], "rules": {CAP: {"x": 2}}},
    "address_opt_outs": [{"scope": "_shared", "at": "2026-03-01T10:00:00Z"}],
    "agency": "agency-b",
}


def test_an_agency_is_told_the_outcome_and_each_rule_with_its_fixed_message(policies: PolicySet) -> None:
    told = disclosure.general(DECISION, policies)
    for kept in ("outcome", "not_before", "valid_until", "policy_version", "zones", "agency"):
        assert told[kept] == DECISION[kept]
    pack, address = policies.pack("us-ma"), disclosure.GATEWAY_MESSAGES["gateway/address"]
    assert told["reasons"] == [
        {"rule": CAP, "citation": "940 CMR 7.04(1)(f)", "message": next(r.message for r in pack.rules if r.id == CAP)},
        {"rule": "gateway/address", "citation": "house rule", "message": address},
        {"rule": NO_TIME.rule, "citation": NO_TIME.citation, "message": NO_TIME.message},
    ]


def test_an_agency_is_not_told_the_per_rule_inputs_or_an_addresss_opt_outs(policies: PolicySet) -> None:
    told = disclosure.general(DECISION, policies)
    assert told["inputs"] == {"zones": ["America/New_York"], "packs": ["us-federal", "us-ma"]}
    assert "address_opt_outs" not in told
    assert DECISION["inputs"]["rules"]  # the decision itself (the trail's copy) is left whole


def test_a_rule_the_policy_set_no_longer_holds_gets_a_fixed_message(policies: PolicySet) -> None:
    assert disclosure.general_message("gone-pack/cap", policies) == disclosure.ANY_RULE
    assert disclosure.general_message("us-ma/gone-rule", policies) == disclosure.ANY_RULE


def test_the_creditors_keys_are_told_everything(policies: PolicySet) -> None:
    contact = {"contact_id": "ct_1", "events": [{"type": "decided", "data": DECISION}]}
    assert disclosure.evaluation(None, DECISION, policies) is DECISION
    assert disclosure.submission(None, {"decision": DECISION}, policies) == {"decision": DECISION}
    assert disclosure.contact(None, contact, policies) is contact


def test_every_answer_of_an_agency_tells_its_decisions_the_same_way(policies: PolicySet) -> None:
    told = disclosure.general(DECISION, policies)
    assert disclosure.evaluation("agency-b", DECISION, policies) == told
    submitted = {"status": "scheduled", "decision": DECISION}
    assert disclosure.submission("agency-b", submitted, policies)["decision"] == told
    events = [{"type": "requested", "data": {"to": "+16175550100"}}, {"type": "decided", "data": DECISION}]
    read = disclosure.contact("agency-b", {"contact_id": "ct_1", "events": events}, policies)
    assert read["events"] == [events[0], {"type": "decided", "data": told}]
