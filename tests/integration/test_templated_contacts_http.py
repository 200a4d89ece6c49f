"""``POST /v1/contacts`` (and batches, and the what-if) naming a template instead of a message; the tenant
setting ``require_approved_templates`` refusing raw bodies."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.model import Channel
from chalicelib.services import templates
from tests.integration.aws import sent_sms
from tests.support import NOON_ATLANTA, TENANT, batch_sms, deliver

JSON = {"Content-Type": "application/json"}
TEXT = "{{ creditor }}: {{ amount }} is due. Reply STOP to opt out."
VALUES = {"creditor": "Acme Bank", "amount": 120}
RENDERED = "Acme Bank: 120.00 is due. Reply STOP to opt out."
AUTHOR = Principal(TENANT, Role.SUBMITTER, "k_author")
OFFICER = Principal(TENANT, Role.COMPLIANCE, "k_officer")


@pytest.fixture
def template_id(gateway: Any) -> str:
    """An SMS template whose version 1 (en) is approved and version 2 (en) a draft."""
    gateway.clock = lambda: NOON_ATLANTA
    deps = gateway.deps
    made = templates.create_template(deps, NOON_ATLANTA, by=AUTHOR, name="Reminder", channel=Channel.SMS)
    variables = {"creditor": "creditor", "amount": "amount"}
    for text in (TEXT, "Draft: " + TEXT):
        templates.add_version(
            deps, NOON_ATLANTA, by=AUTHOR, template_id=made["template_id"], locale="en", text=text, variables=variables
        )
    templates.approve(deps, NOON_ATLANTA, by=OFFICER, template_id=made["template_id"], number=1)
    return str(made["template_id"])


def contact(template: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    body = {k: v for k, v in batch_sms("d-1").items() if k != "message" or template is None}
    if template is not None:
        body["template"] = template
    return {**body, **fields}


def post(client: Any, path: str, body: Any) -> Any:
    return client.http.post(path, headers=JSON, body=json.dumps(body))


def test_a_contact_naming_a_template_sends_its_approved_text_and_audits_its_hash(client, gateway, template_id) -> None:
    answer = post(client, "/v1/contacts", contact({"id": template_id, "locale": "en", "variables": VALUES}))
    assert answer.status_code == 202, answer.body
    assert [m[1] for m in sent_sms()] == [RENDERED]
    contact_id = json.loads(answer.body)["contact_id"]
    events = json.loads(client.http.get(f"/v1/contacts/{contact_id}").body)["events"]
    requested = next(e for e in events if e["type"] == "requested")
    assert requested["data"]["template"] == {
        "id": template_id,
        "version": 1,
        "locale": "en",
        "sha256": hashlib.sha256(RENDERED.encode()).hexdigest(),
    }


@pytest.mark.parametrize(
    ("template", "extra", "status", "field"),
    [
        ({"locale": "en", "variables": VALUES}, {"message": {"body": "Hi. Reply STOP"}}, 400, "template"),
        ({"locale": "en", "variables": {"creditor": "Acme Bank"}}, {}, 400, "template.variables.amount"),
        ({"locale": "en", "variables": {**VALUES, "amount": "lots"}}, {}, 400, "template.variables.amount"),
        ({"locale": "en", "version": 2, "variables": VALUES}, {}, 422, "template.version"),
        ({"locale": "es", "variables": VALUES}, {}, 422, "template.locale"),
        ({"locale": "en", "variables": VALUES, "id": "tpl_nope"}, {}, 422, "template.id"),
        ({"locale": "english", "variables": VALUES}, {}, 400, "template.locale"),
    ],
)
def test_a_template_that_cannot_send_is_a_problem_naming_the_field_and_nothing_is_sent(
    client, gateway, template_id, template, extra, status, field
) -> None:
    answer = post(client, "/v1/contacts", contact({"id": template_id, **template}, **extra))
    assert answer.status_code == status, answer.body
    assert json.loads(answer.body)["errors"][0]["field"] == field
    assert sent_sms() == []


def test_a_tenant_requiring_approved_templates_refuses_raw_bodies(client, ring, gateway, template_id) -> None:
    admin = {**JSON, **ring.bearer(Role.ADMIN)}
    changed = client.http.patch("/v1/settings", headers=admin, body=json.dumps({"require_approved_templates": True}))
    assert changed.status_code == 200, changed.body
    assert json.loads(client.http.get("/v1/settings", headers=admin).body)["settings"]["require_approved_templates"]
    refused = post(client, "/v1/contacts", contact())
    assert refused.status_code == 422, refused.body
    assert json.loads(refused.body)["errors"][0]["field"] == "message"
    sent = post(client, "/v1/contacts", contact({"id": template_id, "locale": "en", "variables": VALUES}))
    assert sent.status_code == 202, sent.body
    assert [m[1] for m in sent_sms()] == [RENDERED]


def test_a_batch_renders_each_requests_template_and_records_one_that_cannot_as_invalid(
    client, gateway, template_id
) -> None:
    good = {**contact({"id": template_id, "locale": "en", "variables": VALUES}), "debtor_id": "d-1"}
    bad = {**contact({"id": template_id, "locale": "en", "variables": {}}), "debtor_id": "d-2"}
    accepted = post(client, "/v1/contacts/batch", {"contacts": [good, bad]})
    assert accepted.status_code == 202, accepted.body
    _messages, failed = deliver(gateway)
    assert failed is None
    batch_id = json.loads(accepted.body)["batch_id"]
    results = json.loads(client.http.get(f"/v1/contacts/batch/{batch_id}").body)["results"]
    assert [r["status"] for r in results] == ["sent", "invalid"]
    assert results[1]["errors"][0]["field"].startswith("contacts[1].template.variables.")
    assert [m[1] for m in sent_sms()] == [RENDERED]


def test_the_what_if_renders_the_template_too(client, template_id) -> None:
    body = {**contact({"id": template_id, "locale": "en", "variables": VALUES}), "at": NOON_ATLANTA.isoformat()}
    answer = post(client, "/v1/contacts/evaluate", body)
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body)["outcome"] == "allow"
    missing = post(client, "/v1/contacts/evaluate", {**body, "template": {"id": template_id, "locale": "en"}})
    assert missing.status_code == 400 and json.loads(missing.body)["errors"][0]["field"].startswith("template.")
