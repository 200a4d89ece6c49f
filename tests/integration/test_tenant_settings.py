"""``/v1/settings``: a tenant's admin reads and changes the tenant's own settings (its sending rates); the
route's validation answers RFC 9457 problems naming the field, never a 500; every change is audited with
what it was before and after; the contact path reads them (docs/decisions/0017)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.access import ACCESS_CHAIN, Role
from chalicelib.domain.events import Status
from chalicelib.domain.model import Channel
from chalicelib.services import dispatch
from chalicelib.services.contacts import submit_contact
from tests.integration.aws import fail_calls, sent_sms
from tests.support import TENANT, make_request, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
JSON = {"Content-Type": "application/json"}


def patch(client: Any, body: Any, **headers: str) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.http.patch("/v1/settings", headers={**JSON, **headers}, body=raw)


@pytest.fixture
def paced(gateway: Any) -> Any:
    """This deployment's quotas: 20 texts and 14 emails a second."""
    gateway.clock = lambda: NOON_ATLANTA
    gateway.pacing.rates = {Channel.SMS: 20.0, Channel.EMAIL: 14.0}
    return gateway


def test_an_admin_reads_the_settings_and_the_deployments_limits(client, paced) -> None:
    response = client.http.get("/v1/settings")
    assert response.status_code == 200, response.body
    assert json.loads(response.body) == {
        "settings": {"sms_rate_per_second": None, "email_rate_per_second": None, "require_approved_templates": False},
        "deployment": {"sms_rate_per_second": 20.0, "email_rate_per_second": 14.0},
    }


def test_a_change_is_stored_audited_with_before_and_after_and_a_null_clears_it(client, paced) -> None:
    first = patch(client, {"sms_rate_per_second": 5})
    assert first.status_code == 200, first.body
    assert json.loads(first.body)["settings"]["sms_rate_per_second"] == 5.0
    assert json.loads(first.body)["settings"]["email_rate_per_second"] is None
    patch(client, {"email_rate_per_second": 2.5})
    cleared = patch(client, {"sms_rate_per_second": None})
    assert json.loads(cleared.body)["settings"]["sms_rate_per_second"] is None
    assert json.loads(cleared.body)["settings"]["email_rate_per_second"] == 2.5
    assert json.loads(client.http.get("/v1/settings").body)["settings"]["email_rate_per_second"] == 2.5

    events = [e for e in paced.deps.audit.for_person(TENANT, ACCESS_CHAIN) if e["type"] == "settings_changed"]
    sms = [(e["data"]["before"]["sms_rate_per_second"], e["data"]["after"]["sms_rate_per_second"]) for e in events]
    assert sms == [
        (None, 5.0),
        (5.0, 5.0),
        (5.0, None),
    ]
    assert events[1]["data"]["after"]["email_rate_per_second"] == 2.5
    assert all(e["data"]["changed_by"] and e["contact_id"] == "settings" for e in events)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sms_rate_per_second": 0}, "sms_rate_per_second"),
        ({"sms_rate_per_second": -1}, "sms_rate_per_second"),
        ({"sms_rate_per_second": "5"}, "sms_rate_per_second"),
        ({"sms_rate_per_second": True}, "sms_rate_per_second"),
        ({"email_rate_per_second": 1e9}, "email_rate_per_second"),
        ({"sms_rate_per_second": 21}, "sms_rate_per_second"),  # above the deployment's 20/s
        ({"email_rate_per_second": 14.5}, "email_rate_per_second"),
        ({"voice_rate_per_second": 1}, "voice_rate_per_second"),
        ({}, "body"),
        ([], "body"),
        ("not json", "body"),
        ("", "body"),
    ],
)
def test_an_invalid_change_is_a_problem_naming_the_field_and_changes_nothing(client, paced, body, field) -> None:
    response = patch(client, body)
    assert response.status_code == 400, response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = json.loads(response.body)
    assert problem["status"] == 400 and problem["errors"][0]["field"] == field
    assert paced.tenant_settings.get(TENANT) == ({}, 0)
    assert not [e for e in paced.deps.audit.for_person(TENANT, ACCESS_CHAIN) if e["type"] == "settings_changed"]


def test_a_wrong_media_type_is_a_415_problem(client, paced) -> None:
    response = client.http.patch("/v1/settings", headers={"Content-Type": "text/plain"}, body="{}")
    assert response.status_code == 415 and json.loads(response.body)["errors"][0]["field"] == "Content-Type"


@pytest.mark.parametrize("role", [Role.SUBMITTER, Role.COMPLIANCE, Role.REGULATOR])
def test_only_an_admin_reads_or_changes_them(client, ring, paced, role) -> None:
    bearer = ring.bearer(role)
    assert client.http.get("/v1/settings", headers=bearer).status_code == 403
    assert patch(client, {"sms_rate_per_second": 1}, **bearer).status_code == 403
    assert paced.tenant_settings.get(TENANT) == ({}, 0)


def test_a_change_that_cannot_be_audited_is_put_back_and_answers_unavailable(client, ring, paced) -> None:
    ring.key(Role.ADMIN)  # issued (and audited) before the ledger fails
    undo = fail_calls(paced.clients.dynamodb, "PutItem", "InternalServerError", lambda p: "ledger" in p["TableName"])
    try:
        response = patch(client, {"sms_rate_per_second": 5})
    finally:
        undo()
    assert response.status_code == 503, response.body
    assert paced.tenant_settings.get(TENANT)[0] == {}


def test_the_contact_path_paces_a_tenant_at_its_own_rate(client, paced) -> None:
    assert patch(client, {"sms_rate_per_second": 0.2}).status_code == 200
    first, second = (submit_contact(make_request(debtor_id=f"d-{i}"), paced.deps, NOON_ATLANTA) for i in range(2))
    assert first is not None and first.status is Status.SENT
    assert second is not None and second.status is Status.SCHEDULED
    assert second.decision.not_before == NOON_ATLANTA + timedelta(seconds=5)
    assert len(sent_sms()) == 1
    dispatch.dispatch_due(paced.deps, NOON_ATLANTA + timedelta(seconds=5))
    assert len(sent_sms()) == 2  # at its slot, once
