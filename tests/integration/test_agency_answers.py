"""What an agency's key is told about a decision: the outcome, ``not_before``, and each reason's rule,
citation and the rule's own fixed message; never another agency's counts or contact times, nor the
person's consent details. The creditor's (tenant-wide) keys and the audit trail keep every detail.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.bootstrap import Runtime
from chalicelib.domain.access import Role
from chalicelib.domain.policy import PolicySet
from tests.auth import AuthedClient, KeyRing
from tests.support import COLLECTOR_MESSAGE, Clock, utc

# Massachusetts allows 2 texts a debt in 7 days, counted across every collector of the creditor's ledger.
CAP = "us-ma/phone-and-text-frequency"
A_TEXTS = (utc(2026, 3, 2, 15, 0), utc(2026, 3, 2, 15, 30))  # 10:00 and 10:30 in Boston
A_DAY = "2026-03-02"
LATER = utc(2026, 3, 3, 17, 0)  # noon in Boston, the next day
JSON = {"Content-Type": "application/json"}
SMS = {
    "debtor_id": "d-shared",
    "account_id": "a-shared",
    "channel": "sms",
    "to": "+16175550100",
    "location": {"country": "US", "subdivision": "MA"},
    "message": COLLECTOR_MESSAGE,
}


def post(client: AuthedClient, path: str, body: Any, key: dict[str, str], **headers: str) -> Any:
    response = client.http.post(path, headers={**JSON, **key, **headers}, body=json.dumps(body))
    assert response.status_code < 300, response.body
    return json.loads(response.body)


def texted_by_agency_a(gateway: Runtime, client: AuthedClient, ring: KeyRing) -> None:
    for at in A_TEXTS:
        gateway.clock = Clock(at)
        assert post(client, "/v1/contacts", SMS, ring.bearer(Role.SUBMITTER, "agency-a"))["status"] == "sent"
    gateway.clock = lambda: LATER


def rule_message(policies: PolicySet, rule_id: str) -> str:
    pack = policies.pack(rule_id.split("/")[0])
    return next(rule.message for rule in pack.rules if rule.id == rule_id)


def assert_general(answer: dict[str, Any], policies: PolicySet) -> None:
    """Each reason is its rule, citation and the rule's fixed message; nothing of A's activity shows."""
    assert answer["reasons"], answer
    for reason in answer["reasons"]:
        assert set(reason) == {"rule", "citation", "message"}
        assert reason["citation"]
        assert reason["message"] == rule_message(policies, reason["rule"])
    text = json.dumps(answer)
    assert A_DAY not in text  # no time of agency A's contacts
    assert "counted" not in text and "limit 2" not in text  # no count
    assert "rules" not in answer.get("inputs", {})  # no per-rule counts, last contacts or consent overrides


@pytest.fixture
def contacted(gateway: Runtime, client: AuthedClient, ring: KeyRing) -> None:
    texted_by_agency_a(gateway, client, ring)


@pytest.mark.usefixtures("contacted")
def test_another_agency_evaluating_sees_the_outcome_and_the_rule_but_not_the_count_or_times(
    client: AuthedClient, ring: KeyRing, policies: PolicySet
) -> None:
    answer = post(client, "/v1/contacts/evaluate", SMS, ring.bearer(Role.SUBMITTER, "agency-b"))
    assert answer["outcome"] == "defer"
    assert answer["not_before"] is not None
    assert [r["rule"] for r in answer["reasons"]] == [CAP]
    assert answer["reasons"][0]["citation"] == "940 CMR 7.04(1)(f); 209 CMR 18.16(1)(c)"
    assert answer["zones"] == ["America/New_York"]
    assert_general(answer, policies)


@pytest.mark.usefixtures("contacted")
def test_a_tenant_wide_key_still_sees_every_detail_of_the_evaluation(client: AuthedClient, ring: KeyRing) -> None:
    answer = post(client, "/v1/contacts/evaluate", SMS, ring.bearer(Role.SUBMITTER))
    assert "2 counted in the window (limit 2)" in answer["reasons"][0]["message"]
    assert answer["inputs"]["rules"][CAP] == {"America/New_York": 2}


@pytest.mark.usefixtures("contacted")
def test_another_agency_submitting_and_reading_its_contact_sees_only_the_general_reasons(
    client: AuthedClient, ring: KeyRing, policies: PolicySet
) -> None:
    b = ring.bearer(Role.SUBMITTER, "agency-b")
    submitted = post(client, "/v1/contacts", SMS, b)
    assert (submitted["status"], submitted["decision"]["outcome"]) == ("scheduled", "defer")
    assert submitted["decision"]["not_before"] is not None
    assert_general(submitted["decision"], policies)
    # a replay answers from the idempotency store: told the same way
    first = post(client, "/v1/contacts", SMS, b, **{"Idempotency-Key": "b-1"})
    replay = post(client, "/v1/contacts", SMS, b, **{"Idempotency-Key": "b-1"})
    assert first == replay
    assert_general(replay["decision"], policies)

    read = client.http.get(f"/v1/contacts/{submitted['contact_id']}", headers=b)
    assert read.status_code == 200, read.body
    decided = [e["data"] for e in json.loads(read.body)["events"] if e["type"] == "decided"]
    assert decided
    for data in decided:
        assert_general(data, policies)


@pytest.mark.usefixtures("contacted")
def test_the_trail_keeps_the_full_reasons_for_the_creditors_officers(client: AuthedClient, ring: KeyRing) -> None:
    submitted = post(client, "/v1/contacts", SMS, ring.bearer(Role.SUBMITTER, "agency-b"))
    read = client.http.get(f"/v1/contacts/{submitted['contact_id']}", headers=ring.bearer(Role.COMPLIANCE))
    decided = next(e["data"] for e in json.loads(read.body)["events"] if e["type"] == "decided")
    assert "2 counted in the window (limit 2)" in decided["reasons"][0]["message"]
    assert decided["inputs"]["rules"][CAP] == {"America/New_York": 2}


@pytest.mark.usefixtures("contacted")
def test_a_tenant_wide_submit_still_carries_the_details(client: AuthedClient, ring: KeyRing) -> None:
    submitted = post(client, "/v1/contacts", SMS, ring.bearer(Role.SUBMITTER))
    assert "2 counted in the window (limit 2)" in submitted["decision"]["reasons"][0]["message"]


def test_an_agency_is_told_which_consent_rule_blocks_but_not_the_consent_details(
    gateway: Runtime, client: AuthedClient, ring: KeyRing, policies: PolicySet
) -> None:
    gateway.clock = lambda: LATER
    stated = {
        "attorney": [{"account_id": "a-shared", "at": "2026-02-20T09:00:00Z"}],
        "cease": [{"account_id": "*", "at": "2026-02-21T09:00:00Z"}],
    }
    put = client.http.put(
        "/v1/debtors/d-shared/preferences", headers={**JSON, **ring.bearer(Role.COMPLIANCE)}, body=json.dumps(stated)
    )
    assert put.status_code == 200, put.body
    b = ring.bearer(Role.SUBMITTER, "agency-b")
    answer = post(client, "/v1/contacts/evaluate", SMS, b)
    assert answer["outcome"] == "deny"
    assert sorted(r["rule"] for r in answer["reasons"]) == ["us-federal/attorney", "us-federal/cease"]
    assert_general(answer, policies)
    assert "asked in writing" not in json.dumps(answer)  # the detail of the cease, beyond the rule's own text
    # a notice the cease admits passes that rule: the agency is not told the cease it would have hit
    notice = post(client, "/v1/contacts/evaluate", {**SMS, "purpose": "legal_notice"}, b)
    assert [r["rule"] for r in notice["reasons"]] == ["us-federal/attorney"]
    assert "would_block" not in json.dumps(notice) and "2026-02-2" not in json.dumps(notice)
    assert_general(notice, policies)
    # the creditor's key sees the override
    full = post(client, "/v1/contacts/evaluate", {**SMS, "purpose": "legal_notice"}, ring.bearer(Role.SUBMITTER))
    assert full["inputs"]["rules"]["us-federal/cease"]["overridden_by_purpose"] == "legal_notice"
