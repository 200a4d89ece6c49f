"""What a collection agency's key is told about a decision (docs/decisions/0024-agency-answers.md).

Every agency of a creditor decides in the creditor's one ledger, so a decision's details (a rule's count,
the day of the last contact, a cease or an attorney the person named, a STOP's time) may come from another
agency's activity or from the person's consent record. An agency's key is told the outcome, ``not_before``,
``valid_until``, and for each reason its rule, citation and the rule's own fixed message: which rule stands
in the way, never why in numbers. The creditor's keys and the audit trail keep every detail.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.domain.engine import NO_POLICY, NO_TIME, NO_ZONE, POLICY_FAULT
from chalicelib.domain.pacing import PACED
from chalicelib.domain.policy import PolicySet
from chalicelib.services.contacts import TOO_MANY_DEFERRED

# The gateway's own reasons already carry fixed texts, but for the address's, whose notes name the fields.
GATEWAY_MESSAGES = {r.rule: r.message for r in (NO_ZONE, NO_POLICY, NO_TIME, POLICY_FAULT, PACED, TOO_MANY_DEFERRED)}
GATEWAY_MESSAGES["gateway/address"] = "the address's fields disagree or one is unusable: every place it may be counts"
# A rule the current policy set no longer holds (an event decided under an earlier version).
ANY_RULE = "this rule does not allow the contact"
# Decision data an agency is not told: the per-rule inputs (counts, last contacts, consent overrides), the
# evidence of an address's opt-outs (their scope and time) and the replay inputs (the person's history and
# consent state: docs/decisions/0035).
WITHHELD_INPUTS = ("rules",)
WITHHELD = ("address_opt_outs", "replay")


def general_message(rule_id: str, policies: PolicySet) -> str:
    """The rule's own message, as its pack states it: the same text whatever the ledger holds."""
    if rule_id in GATEWAY_MESSAGES:
        return GATEWAY_MESSAGES[rule_id]
    try:
        pack = policies.pack(rule_id.split("/", 1)[0])
    except KeyError:
        return ANY_RULE
    return next((rule.message for rule in pack.rules if rule.id == rule_id), ANY_RULE)


def general(decision: Mapping[str, Any], policies: PolicySet) -> dict[str, Any]:
    """A decision (an answer's, or a ``decided`` event's data) as an agency is told it."""
    told = {name: value for name, value in decision.items() if name not in WITHHELD}
    if isinstance(told.get("reasons"), list):
        told["reasons"] = [_general_reason(r, policies) for r in told["reasons"]]
    if isinstance(told.get("inputs"), Mapping):
        told["inputs"] = {name: value for name, value in told["inputs"].items() if name not in WITHHELD_INPUTS}
    return told


def _general_reason(reason: Mapping[str, Any], policies: PolicySet) -> dict[str, Any]:
    rule = str(reason.get("rule", ""))
    return {"rule": rule, "citation": reason.get("citation"), "message": general_message(rule, policies)}


def evaluation(agency: str | None, body: dict[str, Any], policies: PolicySet) -> dict[str, Any]:
    """``POST /v1/contacts/evaluate``'s answer for a caller of ``agency`` (None: the creditor's key)."""
    return body if agency is None else general(body, policies)


def submission(agency: str | None, body: dict[str, Any], policies: PolicySet) -> dict[str, Any]:
    """``POST /v1/contacts``'s answer, first or replayed, for a caller of ``agency``."""
    if agency is None or not isinstance(body.get("decision"), Mapping):
        return body
    return {**body, "decision": general(body["decision"], policies)}


def contact(agency: str | None, body: dict[str, Any], policies: PolicySet) -> dict[str, Any]:
    """``GET /v1/contacts/{id}``'s answer: each event's data told as ``general`` tells a decision."""
    if agency is None:
        return body
    return {**body, "events": [_event(e, policies) for e in body["events"]]}


def _event(event: dict[str, Any], policies: PolicySet) -> dict[str, Any]:
    return {**event, "data": general(event["data"], policies)} if isinstance(event.get("data"), Mapping) else event
