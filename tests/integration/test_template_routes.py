"""``/v1/templates``: drafted by submitter, admin and compliance keys, approved only by another compliance
key, immutable once approved, previewed with segments and findings; every problem names its field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain.access import ACCESS_CHAIN, Role
from chalicelib.services import keys
from tests.support import NOON_ATLANTA, TENANT

JSON = {"Content-Type": "application/json"}
TEXT = "{{ creditor }}: {{ amount }} is due on {{ due }}. Reply STOP to opt out."
VARIABLES = {"creditor": "creditor", "amount": "amount", "due": "date"}
VALUES = {"creditor": "Acme Bank", "amount": "120.5", "due": "2026-03-31"}


@pytest.fixture(autouse=True)
def at_noon(gateway: Any) -> None:
    gateway.clock = lambda: NOON_ATLANTA


def post(client: Any, path: str, body: Any = None, **headers: str) -> Any:
    raw = "" if body is None else json.dumps(body)
    return client.http.post(path, headers={**JSON, **headers}, body=raw)


def second_officer(gateway: Any) -> dict[str, str]:
    """Another compliance key of the tenant: the checker of a version the first one wrote."""
    issued = keys.issue_key(
        gateway.keys, gateway.deps, datetime.now(UTC), tenant=TENANT, role=Role.COMPLIANCE, created_by="tests"
    )
    return {"Authorization": f"Bearer {issued.key}"}


def drafted(client: Any, text: str = TEXT, **headers: str) -> str:
    created = post(client, "/v1/templates", {"name": "Reminder", "channel": "sms"}, **headers)
    assert created.status_code == 201, created.body
    template_id = json.loads(created.body)["template_id"]
    version = {"locale": "en", "text": text, "variables": VARIABLES}
    answer = post(client, f"/v1/templates/{template_id}/versions", version, **headers)
    assert (answer.status_code, json.loads(answer.body)) == (201, {"version": 1, "status": "draft"}), answer.body
    return template_id


@pytest.mark.parametrize("role", [Role.SUBMITTER, Role.ADMIN, Role.COMPLIANCE])
def test_submitter_admin_and_compliance_keys_draft_and_read(client, ring, role) -> None:
    bearer = ring.bearer(role)
    template_id = drafted(client, **bearer)
    listed = json.loads(client.http.get("/v1/templates", headers=bearer).body)["templates"]
    assert [(t["template_id"], [v["status"] for v in t["versions"]]) for t in listed] == [(template_id, ["draft"])]
    found = json.loads(client.http.get(f"/v1/templates/{template_id}", headers=bearer).body)
    assert (found["channel"], found["versions"][0]["text"], found["versions"][0]["variables"]) == (
        "sms",
        TEXT,
        VARIABLES,
    )


def test_a_regulator_key_may_not_use_any_template_route(client, ring) -> None:
    template_id = drafted(client)
    bearer = ring.bearer(Role.REGULATOR)
    for method, path in [
        ("GET", "/v1/templates"),
        ("POST", "/v1/templates"),
        ("GET", f"/v1/templates/{template_id}"),
        ("POST", f"/v1/templates/{template_id}/versions"),
        ("POST", f"/v1/templates/{template_id}/versions/1/preview"),
        ("POST", f"/v1/templates/{template_id}/versions/1/approve"),
        ("POST", f"/v1/templates/{template_id}/versions/1/retire"),
    ]:
        response = client.http.request(method, path, headers={**JSON, **bearer}, body="{}")
        assert response.status_code == 403, (method, path)


@pytest.mark.parametrize("role", [Role.SUBMITTER, Role.ADMIN])
def test_only_a_compliance_key_approves_or_retires(client, ring, role) -> None:
    template_id = drafted(client, **ring.bearer(Role.SUBMITTER))
    for step in ("approve", "retire"):
        response = post(client, f"/v1/templates/{template_id}/versions/1/{step}", **ring.bearer(role))
        assert response.status_code == 403, response.body
    assert json.loads(client.http.get(f"/v1/templates/{template_id}").body)["versions"][0]["status"] == "draft"


def test_the_key_that_wrote_a_version_cannot_approve_it_another_compliance_key_can(client, gateway) -> None:
    template_id = drafted(client)  # by the ring's compliance key
    refused = post(client, f"/v1/templates/{template_id}/versions/1/approve")
    assert refused.status_code == 403, refused.body
    assert json.loads(refused.body)["title"] == "Maker-checker"
    approved = post(client, f"/v1/templates/{template_id}/versions/1/approve", **second_officer(gateway))
    assert (approved.status_code, json.loads(approved.body)) == (200, {"version": 1, "status": "approved"})


def test_an_approved_version_is_immutable_and_a_retired_one_stays_retired(client, ring, gateway) -> None:
    template_id = drafted(client, **ring.bearer(Role.SUBMITTER))
    assert post(client, f"/v1/templates/{template_id}/versions/1/approve").status_code == 200
    again = post(client, f"/v1/templates/{template_id}/versions/1/approve", **second_officer(gateway))
    assert again.status_code == 409 and json.loads(again.body)["errors"][0]["field"] == "version"
    for method in ("PUT", "PATCH", "DELETE"):
        assert client.http.request(method, f"/v1/templates/{template_id}", headers=JSON, body="{}").status_code in (
            403,
            405,
        )
    retired = post(client, f"/v1/templates/{template_id}/versions/1/retire")
    assert (retired.status_code, json.loads(retired.body)) == (200, {"version": 1, "status": "retired"})
    assert post(client, f"/v1/templates/{template_id}/versions/1/approve").status_code == 409
    assert post(client, f"/v1/templates/{template_id}/versions/1/retire").status_code == 409
    version = json.loads(client.http.get(f"/v1/templates/{template_id}").body)["versions"][0]
    assert (version["text"], version["status"]) == (TEXT, "retired")
    steps = [e["type"] for e in gateway.deps.audit.for_person(TENANT, ACCESS_CHAIN) if e["type"].startswith("template")]
    assert steps == ["template_created", "template_drafted", "template_approved", "template_retired"]


def test_a_preview_renders_the_text_and_counts_its_segments(client) -> None:
    template_id = drafted(client)
    answer = post(client, f"/v1/templates/{template_id}/versions/1/preview", {"variables": VALUES})
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body) == {
        "text": "Acme Bank: 120.50 is due on 2026-03-31. Reply STOP to opt out.",
        "segments": 1,
        "encoding": "GSM-7",
        "findings": [],
    }


def test_a_chinese_preview_is_ucs2(client) -> None:
    created = json.loads(post(client, "/v1/templates", {"name": "提醒", "channel": "sms"}).body)["template_id"]
    text = "【{{ creditor }}】您的欠款{{ amount }}元已逾期，请尽快还款。" * 3 + "回复TD退订"
    post(client, f"/v1/templates/{created}/versions", {"locale": "zh-CN", "text": text, "variables": VARIABLES})
    answer = json.loads(post(client, f"/v1/templates/{created}/versions/1/preview", {"variables": VALUES}).body)
    assert (answer["encoding"], answer["segments"]) == ("UCS-2", 2)


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"creditor": "Acme Bank", "due": "2026-03-31"}, "variables.amount"),
        ({**VALUES, "amount": "a lot"}, "variables.amount"),
        ({**VALUES, "due": "31.03.2026"}, "variables.due"),
        ({**VALUES, "ssn": "123"}, "variables.ssn"),
    ],
)
def test_a_preview_with_a_missing_or_mistyped_variable_is_a_400_naming_it(client, variables, field) -> None:
    template_id = drafted(client)
    answer = post(client, f"/v1/templates/{template_id}/versions/1/preview", {"variables": variables})
    assert answer.status_code == 400, answer.body
    assert json.loads(answer.body)["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/templates", {"name": "x", "channel": "voice"}, "channel"),
        ("/v1/templates", {"channel": "sms"}, "name"),
        ("/v1/templates", {"name": "x", "channel": "sms", "extra": 1}, "extra"),
        ("{id}/versions", {"locale": "english", "text": "Hi", "variables": {}}, "locale"),
        ("{id}/versions", {"locale": "en", "text": "", "variables": {}}, "text"),
        ("{id}/versions", {"locale": "en", "text": "{{ x }}", "variables": {"x": "money"}}, "variables.x"),
        ("{id}/versions", {"locale": "en", "text": "{{ ssn }}", "variables": {}}, "text"),
        ("{id}/versions", {"locale": "en", "text": "{% for i in x %}{% endfor %}", "variables": {}}, "text"),
        ("{id}/versions", {"locale": "es", "text": "Hola", "subject": "a\nb"}, "subject"),
        ("{id}/versions/x/preview", {"variables": {}}, "version"),
    ],
)
def test_an_invalid_request_is_a_400_naming_the_field(client, path, body, field) -> None:
    template_id = drafted(client)
    url = path.replace("{id}", f"/v1/templates/{template_id}")
    answer = post(client, url, body)
    assert answer.status_code == 400, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert json.loads(answer.body)["errors"][0]["field"] == field


def test_an_unknown_template_or_version_is_a_404(client) -> None:
    template_id = drafted(client)
    assert client.http.get("/v1/templates/tpl_missing").status_code == 404
    assert post(client, f"/v1/templates/{template_id}/versions/9/approve").status_code == 404
    assert post(client, "/v1/templates/tpl_missing/versions", {"locale": "en", "text": "Hi"}).status_code == 404
