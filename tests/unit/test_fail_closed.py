"""Fail closed: unknown places, missing data and lost acknowledgements never make a contact easier."""

from __future__ import annotations

from chalicelib.domain import zones
from chalicelib.domain.engine import evaluate
from chalicelib.domain.errors import ConflictError
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.model import ContactRecord, Outcome
from chalicelib.domain.policy import build_policy_set
from chalicelib.services import dispatch
from chalicelib.services.contacts import submit_contact
from tests.fakes import InMemoryLedger
from tests.support import TENANT, make_request, pack_with, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
NIGHT_ATLANTA = utc(2026, 3, 3, 3, 0)


def test_a_place_without_a_pack_denies_even_when_another_place_has_one(policies):
    request = make_request(location={"country": "DE"})  # a US number, a German address
    decision = evaluate(request, [], policies, NOON_ATLANTA)
    assert decision.outcome is Outcome.DENY
    assert [r.rule for r in decision.reasons] == ["gateway/no-policy"]


def test_host_specific_zone_names_are_not_time_zones():
    assert not zones.is_known_zone("localtime")
    assert not zones.is_known_zone("/etc/localtime")
    assert zones.is_known_zone("America/New_York")


def test_a_rule_for_late_accounts_applies_when_days_past_due_is_unknown():
    late = {"id": "xx/late", "kind": "quiet_hours", "min_days_past_due": 30, "allowed": {"default": ["10:00-11:00"]}}
    pack = pack_with(late)
    policy_set = build_policy_set({"xx.yaml": pack})
    assert evaluate(make_request(days_past_due=5), [], policy_set, NOON_ATLANTA).outcome is Outcome.ALLOW
    assert evaluate(make_request(), [], policy_set, NOON_ATLANTA).outcome is Outcome.DEFER


def test_contacts_with_third_parties_survive_pruning():
    old = ContactRecord(
        contact_id="c-1",
        at=utc(2025, 1, 1),
        channel="voice",
        account_id="a",
        to="+14045550199",
        result="conversation",
        recipient_role="third_party",
    )
    debtor = old.model_copy(update={"contact_id": "c-2", "recipient_role": "debtor"})
    ledger = Ledger(tenant="t", debtor_id="d", history=(old, debtor)).pruned(utc(2026, 3, 1), keep_days=31)
    assert [r.contact_id for r in ledger.history] == ["c-1"]


class AppliedButReportedConflict(InMemoryLedger):
    """The first write applies, then answers like a retried write that lost its condition."""

    def __init__(self) -> None:
        super().__init__()
        self.tricked = False

    def commit(self, ledger: Ledger, expected_version: int) -> None:
        super().commit(ledger, expected_version)
        if not self.tricked:
            self.tricked = True
            raise ConflictError("retried after it applied")


def test_a_commit_that_applied_is_not_mistaken_for_a_lost_race(deps):
    deps.ledgers = AppliedButReportedConflict()
    result = submit_contact(make_request(), deps, NOON_ATLANTA)
    assert result.status == "sent"
    assert len(deps.sms.sent) == 1
    events = deps.ledgers.get(TENANT, "d-1").outbox + tuple(deps.audit.for_person(TENANT, "d-1"))
    assert sorted({e["type"] for e in events}) == ["decided", "requested", "sent"]
    assert len({e["seq"] for e in events}) == 3  # decided once, not twice


def test_one_broken_person_does_not_stop_the_dispatcher(deps):
    for debtor in ("broken", "fine"):
        submit_contact(make_request(debtor_id=debtor), deps, NIGHT_ATLANTA)
    original_get = deps.ledgers.get

    def get(tenant: str, debtor_id: str) -> Ledger:
        if debtor_id == "broken":
            raise ValueError("unreadable")
        return original_get(tenant, debtor_id)

    deps.ledgers.get = get  # type: ignore[method-assign]
    report = dispatch.dispatch_due(deps, utc(2026, 3, 3, 13, 0))
    assert (report.errors, report.statuses) == (1, {"sent": 1})
    assert [m["to"] for m in deps.sms.sent] == ["+14045550100"]


def test_api_gateways_own_answers_are_the_same_problems_as_the_routes():
    import json

    from chalicelib.http import GATEWAY_PROBLEMS, gateway_responses

    resources = gateway_responses()
    assert {r["Properties"]["ResponseType"] for r in resources.values()} == {
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "AUTHORIZER_FAILURE",
    }
    for resource in resources.values():
        props = resource["Properties"]
        body = json.loads(props["ResponseTemplates"]["application/json"])
        assert body == GATEWAY_PROBLEMS[int(props["StatusCode"])].body()
        assert props["ResponseParameters"]["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
        assert props["RestApiId"] == {"Ref": "RestAPI"}
