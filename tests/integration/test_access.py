"""Who may do what: every route, driven with every role of its own tenant and of another tenant, with no
key, an unknown key and a revoked one; agency keys against a sibling agency's contacts.

The matrix is built from the app's own declarations (``chalicelib.http.declared_roles``), so a new route
that is missing here fails ``test_the_matrix_covers_every_route``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain import access
from chalicelib.domain.access import SHARED_SCOPE, Role
from chalicelib.domain.errors import GoneError
from chalicelib.http import declared_roles
from chalicelib.services import disputes, exports, inbound, keys
from tests.auth import KeyRing
from tests.fakes import Receiver
from tests.integration.aws import fail_calls, module_gateway
from tests.support import COLLECTOR_MESSAGE, TENANT, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
OTHER = "other-lender"
JSON = {"Content-Type": "application/json"}
SMS = {
    "debtor_id": "d-acc",
    "account_id": "a-acc",
    "channel": "sms",
    "to": "+14045550100",
    "location": {"country": "US", "subdivision": "GA"},
    "message": {"body": "Your payment is overdue. Reply STOP to opt out."},
}
VOICE = {**SMS, "channel": "voice", "message": None, "debtor_id": "d-voice", "account_id": "a-voice"}


@dataclass
class World:
    client: Client
    gateway: Any
    own: KeyRing
    other: KeyRing
    ids: dict[str, str]  # objects of tenant TENANT the routes are driven against


def call(world: World, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
    headers = {**JSON, **({"Authorization": f"Bearer {key}"} if key else {})}
    raw = json.dumps(body).encode() if body is not None else b""
    return world.client.http.request(method, path, headers=headers, body=raw)


UNANSWERED = {"result": "unanswered"}
DRAFT = {"locale": "en", "text": "Your payment is due. Reply STOP to opt out."}


def answer(response: Any) -> dict[str, Any]:
    return json.loads(response.body) if response.body else {}


@pytest.fixture(scope="module")
def world(policies: Any) -> Iterator[World]:
    import app as gateway_app

    with module_gateway(policies) as (gateway, patch):
        gateway.clock = lambda: NOON_ATLANTA
        own, other = KeyRing(gateway, TENANT), KeyRing(gateway, OTHER)
        with gateway_app.using(gateway), Client(gateway_app.app) as client:
            world = World(client, gateway, own, other, {})
            submitter = own.key(Role.SUBMITTER)
            sms = answer(call(world, "POST", "/v1/contacts", SMS, submitter))
            voice = answer(call(world, "POST", "/v1/contacts", VOICE, submitter))
            by_agency = {**SMS, "account_id": "a-ag", "message": COLLECTOR_MESSAGE}
            agency_sms = answer(call(world, "POST", "/v1/contacts", by_agency, agency(own, "a")))
            assert (sms["status"], voice["status"], agency_sms["status"]) == ("sent", "permitted", "sent")
            compliance = own.key(Role.COMPLIANCE)
            export = answer(
                call(world, "POST", "/v1/exports", {"debtor_id": "d-acc", "formats": ["jsonl"]}, compliance)
            )
            exports.run_export(TENANT, export["export_id"], gateway.deps, lambda: NOON_ATLANTA)
            own.key(Role.REGULATOR)
            reply = {"originationNumber": SMS["to"], "destinationNumber": "+1800", "messageBody": "not my debt",
                     "inboundMessageId": "m-matrix"}  # fmt: skip
            parsed = inbound.parse_two_way_sms(json.dumps(reply))
            inbound.handle_inbound_sms(parsed, SHARED_SCOPE, gateway.deps, NOON_ATLANTA)
            batch = answer(call(world, "POST", "/v1/contacts/batch", {"contacts": [SMS]}, submitter))
            template = answer(call(world, "POST", "/v1/templates", {"name": "matrix", "channel": "sms"}, submitter))
            for _ in range(2):  # drafted by the submitter: the compliance key is its checker
                call(world, "POST", f"/v1/templates/{template['template_id']}/versions", DRAFT, submitter)
            world.ids = {
                "batch": batch["batch_id"],
                "contact": sms["contact_id"],
                "voice": voice["contact_id"],
                "agency_contact": agency_sms["contact_id"],
                "export": export["export_id"],
                "regulator": key_id_of(own, Role.REGULATOR),
                "dispute": disputes.dispute_id("m-matrix", NOON_ATLANTA),
                "template": template["template_id"],
            }
            gateway.webhooks.poster = Receiver()  # receivers' hosts resolve without DNS
            hook = {"url": "https://hooks.example.com/matrix", "events": ["contact.sent"]}
            world.ids["webhook"] = answer(call(world, "POST", "/v1/webhooks", hook, own.key(Role.ADMIN)))["webhook_id"]
            grant = {"key_id": world.ids["regulator"]}
            granted = call(world, "POST", f"/v1/exports/{export['export_id']}/grants", grant, compliance)
            assert granted.status_code == 200, granted.body
            yield world


def key_id_of(ring: KeyRing, role: Role) -> str:
    return access.key_id_of(access.key_hash(ring.key(role)))


def agency(ring: KeyRing, name: str) -> str:
    return ring.key(Role.SUBMITTER, f"agency-{name}")


@dataclass(frozen=True)
class Case:
    """One route, as a caller of an admitted role would use it on tenant TENANT's objects."""

    path: str
    body: Any = None
    ok: int = 200
    other_tenant: int = 404  # what the same call answers with an admitted key of another tenant


def cases(world: World) -> dict[tuple[str, str], Case]:
    ids = world.ids
    outcome = {"result": "unanswered", "at": NOON_ATLANTA.isoformat()}
    spare = f"k_{'0' * 16}"
    return {
        ("/v1/contacts", "POST"): Case("/v1/contacts", {**SMS, "debtor_id": "d-new"}, 202, other_tenant=202),
        ("/v1/contacts/evaluate", "POST"): Case("/v1/contacts/evaluate", SMS, other_tenant=200),
        ("/v1/contacts/batch", "POST"): Case("/v1/contacts/batch", {"contacts": [SMS]}, 202, other_tenant=202),
        ("/v1/contacts/batch/{batch_id}", "GET"): Case(f"/v1/contacts/batch/{ids['batch']}"),
        ("/v1/contacts/{contact_id}", "GET"): Case(f"/v1/contacts/{ids['contact']}"),
        ("/v1/contacts/{contact_id}/outcome", "POST"): Case(f"/v1/contacts/{ids['voice']}/outcome", outcome),
        ("/v1/debtors/{debtor_id}/preferences", "GET"): Case("/v1/debtors/d-acc/preferences", other_tenant=200),
        ("/v1/debtors/{debtor_id}/preferences", "PUT"): Case(
            "/v1/debtors/d-pref/preferences", {"inconvenient_times": []}, other_tenant=200
        ),
        ("/v1/debtors/{debtor_id}/preferences", "PATCH"): Case(
            "/v1/debtors/d-pref/preferences", {"inconvenient_times": []}, other_tenant=200
        ),
        ("/v1/debtors/{debtor_id}/disputes/{dispute_id}/resolve", "POST"): Case(
            f"/v1/debtors/d-acc/disputes/{ids['dispute']}/resolve", {"reason": "checked by the matrix"}
        ),
        ("/v1/audit/events", "GET"): Case("/v1/audit/events?debtor_id=d-acc", other_tenant=200),
        ("/v1/audit/verify", "GET"): Case("/v1/audit/verify?debtor_id=d-acc"),
        ("/v1/exports", "POST"): Case("/v1/exports", {"debtor_id": "d-acc", "formats": ["jsonl"]}, 202),
        ("/v1/exports/public-key", "GET"): Case("/v1/exports/public-key", other_tenant=200),
        ("/v1/exports/{export_id}", "GET"): Case(f"/v1/exports/{ids['export']}"),
        ("/v1/exports/{export_id}/grants", "POST"): Case(
            f"/v1/exports/{ids['export']}/grants", {"key_id": ids["regulator"]}
        ),
        ("/v1/exports/{export_id}/grants/{key_id}", "DELETE"): Case(f"/v1/exports/{ids['export']}/grants/{spare}"),
        ("/v1/keys", "GET"): Case("/v1/keys", other_tenant=200),
        ("/v1/keys", "POST"): Case("/v1/keys", {"role": "submitter", "name": "matrix"}, 201, other_tenant=201),
        ("/v1/keys/{key_id}", "DELETE"): Case(f"/v1/keys/{spare}", ok=404),  # an unknown key: never revokes one
        ("/v1/settings", "GET"): Case("/v1/settings", other_tenant=200),  # its own tenant's settings
        ("/v1/settings", "PATCH"): Case("/v1/settings", {"email_rate_per_second": 5}, other_tenant=200),
        ("/v1/templates", "GET"): Case("/v1/templates", other_tenant=200),  # its own tenant's
        ("/v1/templates", "POST"): Case("/v1/templates", {"name": "m", "channel": "sms"}, 201, other_tenant=201),
        ("/v1/templates/{template_id}", "GET"): Case(f"/v1/templates/{ids['template']}"),
        ("/v1/templates/{template_id}/versions", "POST"): Case(f"/v1/templates/{ids['template']}/versions", DRAFT, 201),
        ("/v1/templates/{template_id}/versions/{version}/preview", "POST"): Case(
            f"/v1/templates/{ids['template']}/versions/1/preview", {"variables": {}}
        ),
        ("/v1/templates/{template_id}/versions/{version}/approve", "POST"): Case(
            f"/v1/templates/{ids['template']}/versions/1/approve"
        ),
        ("/v1/templates/{template_id}/versions/{version}/retire", "POST"): Case(
            f"/v1/templates/{ids['template']}/versions/2/retire"
        ),
        ("/v1/debtors/{debtor_id}/status", "GET"): Case("/v1/debtors/d-acc/status"),
        ("/v1/reports/daily", "GET"): Case("/v1/reports/daily", other_tenant=200),
        ("/v1/debtors/{debtor_id}/notes", "POST"): Case(
            "/v1/debtors/d-acc/notes", {"category": "note", "text": "matrix"}, 201, other_tenant=201
        ),
        ("/v1/webhooks", "GET"): Case("/v1/webhooks", other_tenant=200),  # its own tenant's webhooks
        ("/v1/webhooks", "POST"): Case(
            "/v1/webhooks", {"url": "https://hooks.example.com/m", "events": ["contact.sent"]}, 201, other_tenant=201
        ),
        ("/v1/webhooks/{webhook_id}", "DELETE"): Case("/v1/webhooks/wh_0000000000000000", ok=404),  # never deletes
        ("/v1/webhooks/{webhook_id}/test", "POST"): Case(f"/v1/webhooks/{ids['webhook']}/test", ok=202),
        ("/v1/webhooks/{webhook_id}/deliveries", "GET"): Case(f"/v1/webhooks/{ids['webhook']}/deliveries"),
    }


def test_the_matrix_covers_every_route(world):
    import app as gateway_app

    secured = {op for op, roles in declared_roles(gateway_app.app).items() if roles}
    assert set(cases(world)) == secured


ROLES = tuple(Role)


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_each_role_of_the_tenant_gets_its_routes_and_a_403_elsewhere(world, role):
    import app as gateway_app

    roles = declared_roles(gateway_app.app)
    key = world.own.key(role)
    wrong = {}
    for (route, method), case in cases(world).items():
        response = call(world, method, case.path, case.body, key)
        admitted = role.value in roles[(route, method)]
        expected = case.ok if admitted else 403
        if response.status_code != expected:
            wrong[(route, method)] = (response.status_code, expected, response.body[:200])
        if not admitted:
            assert response.headers["Content-Type"] == "application/problem+json"
            assert answer(response)["errors"][0]["field"] == "Authorization"
    assert not wrong


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_another_tenants_keys_never_reach_this_tenants_objects(world, role):
    import app as gateway_app

    roles = declared_roles(gateway_app.app)
    key = world.other.key(role)
    own_hashes = {e["hash"] for e in world.gateway.deps.audit.for_person(TENANT, "d-acc")}
    own_hashes |= set(world.ids.values())  # contact, export and key ids of this tenant
    wrong = {}
    for (route, method), case in cases(world).items():
        response = call(world, method, case.path, case.body, key)
        expected = case.other_tenant if role.value in roles[(route, method)] else 403
        if response.status_code != expected:
            wrong[(route, method)] = (response.status_code, expected, response.body[:200])
        shown = {k: v for k, v in answer(response).items() if k != "instance"}  # the problem names the path
        assert not (own_hashes & set(json.dumps(shown).split('"'))), (route, response.body)
    assert not wrong


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "send an API key"),
        ("Bearer", "send an API key"),
        ("Basic dXNlcjpwYXNz", "send an API key"),
        ("Bearer cgw_not-a-key-anyone-issued", "not known"),
        ("Bearer sk_live_looks_like_some_other_key", "not known"),
        (f"Bearer cgw_{'x' * 400}", "not known"),
    ],
)
def test_no_key_or_an_unknown_key_is_a_401_problem_on_every_secured_route(world, header, detail):
    for (_route, method), case in cases(world).items():
        headers = {**JSON, **({"Authorization": header} if header else {"Authorization": ""})}
        response = world.client.http.request(method, case.path, headers=headers, body=json.dumps(case.body or {}))
        assert response.status_code == 401, (case.path, response.body)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert detail in answer(response)["detail"]


def test_a_revoked_key_is_refused_at_once_and_the_revocation_is_audited(world):
    admin = world.own.key(Role.ADMIN)
    issued = answer(call(world, "POST", "/v1/keys", {"role": "compliance", "name": "leaving officer"}, admin))
    key, key_id = issued["key"], issued["key_id"]
    assert call(world, "GET", "/v1/audit/events?debtor_id=d-acc", key=key).status_code == 200
    revoked = call(world, "DELETE", f"/v1/keys/{key_id}", key=admin)
    assert (revoked.status_code, answer(revoked)["revoked_by"]) == (200, world_actor(world, admin))
    response = call(world, "GET", "/v1/audit/events?debtor_id=d-acc", key=key)
    assert (response.status_code, answer(response)["detail"]) == (401, "this API key was revoked")
    again = call(world, "DELETE", f"/v1/keys/{key_id}", key=admin)
    assert again.status_code == 409
    events = world.gateway.deps.audit.for_person(TENANT, "@access")
    assert [e["type"] for e in events if e["contact_id"] == key_id] == ["key_created", "key_revoked"]
    assert all(
        key not in json.dumps(e) and issued["key_id"] in json.dumps(e) for e in events if e["contact_id"] == key_id
    )


def world_actor(world: World, key: str) -> str:
    return f"key:{access.key_id_of(access.key_hash(key))}"


def test_a_key_is_shown_once_and_stored_only_as_its_hash(world):
    admin = world.own.key(Role.ADMIN)
    issued = answer(call(world, "POST", "/v1/keys", {"role": "regulator", "name": "examiner"}, admin))
    assert issued["key"].startswith("cgw_") and len(issued["key"]) >= 40
    listed = answer(call(world, "GET", "/v1/keys", key=admin))["keys"]
    assert issued["key_id"] in [k["key_id"] for k in listed]
    assert issued["key"] not in json.dumps(listed)
    stored = world.gateway.clients.dynamodb.get_item(
        TableName=world.gateway.settings.keys_table, Key={"pk": {"S": keys.key_hash(issued["key"])}}
    )["Item"]
    assert issued["key"] not in json.dumps(stored)
    assert stored["created_by"]["S"] == world_actor(world, admin) and stored["role"]["S"] == "regulator"


def test_an_admin_cannot_issue_a_key_for_another_tenant_or_revoke_one(world):
    other_admin = world.other.key(Role.ADMIN)
    own_compliance_id = next(
        k["key_id"] for k in keys.list_keys(world.gateway.keys, TENANT) if k["role"] == "compliance"
    )
    assert call(world, "DELETE", f"/v1/keys/{own_compliance_id}", key=other_admin).status_code == 404
    stray = call(world, "POST", "/v1/keys", {"role": "admin", "tenant": TENANT}, other_admin)
    assert (stray.status_code, answer(stray)["errors"][0]["field"]) == (400, "tenant")
    listed = answer(call(world, "GET", "/v1/keys", key=other_admin))["keys"]
    assert {k["tenant"] for k in listed} == {OTHER}


def test_a_regulator_reads_only_the_exports_granted_to_its_key(world):
    granted = call(world, "GET", f"/v1/exports/{world.ids['export']}", key=world.own.key(Role.REGULATOR))
    assert granted.status_code == 200 and answer(granted)["status"] == "done"
    compliance = world.own.key(Role.COMPLIANCE)
    fresh = answer(call(world, "POST", "/v1/exports", {"debtor_id": "d-acc", "formats": ["jsonl"]}, compliance))
    assert call(world, "GET", f"/v1/exports/{fresh['export_id']}", key=world.own.key(Role.REGULATOR)).status_code == 404
    # a second regulator key of the same tenant was granted nothing
    second = keys.issue_key(
        world.gateway.keys, world.gateway.deps, NOON_ATLANTA, tenant=TENANT, role=Role.REGULATOR, created_by="t"
    )
    assert call(world, "GET", f"/v1/exports/{world.ids['export']}", key=second.key).status_code == 404
    # only regulator keys can be granted to
    not_regulator = next(k["key_id"] for k in keys.list_keys(world.gateway.keys, TENANT) if k["role"] == "submitter")
    refused = call(world, "POST", f"/v1/exports/{world.ids['export']}/grants", {"key_id": not_regulator}, compliance)
    assert (refused.status_code, answer(refused)["errors"][0]["field"]) == (400, "key_id")


def test_agency_keys_see_their_own_contacts_and_not_a_sibling_agencys(world):
    own_contact = world.ids["agency_contact"]
    assert call(world, "GET", f"/v1/contacts/{own_contact}", key=agency(world.own, "a")).status_code == 200
    sibling = call(world, "GET", f"/v1/contacts/{own_contact}", key=agency(world.own, "b"))
    assert (sibling.status_code, sibling.headers["Content-Type"]) == (404, "application/problem+json")
    # nor the creditor's own contacts
    assert call(world, "GET", f"/v1/contacts/{world.ids['contact']}", key=agency(world.own, "a")).status_code == 404
    # the creditor's compliance keys see every agency's
    assert call(world, "GET", f"/v1/contacts/{own_contact}", key=world.own.key(Role.COMPLIANCE)).status_code == 200


def test_an_agency_cannot_report_the_outcome_of_a_sibling_agencys_call(world):
    body = {**VOICE, "debtor_id": "d-ag-voice", "account_id": "a-ag-voice"}
    permit = answer(call(world, "POST", "/v1/contacts", body, agency(world.own, "a")))
    assert permit["status"] == "permitted"
    outcome = {"result": "conversation", "at": NOON_ATLANTA.isoformat()}
    path = f"/v1/contacts/{permit['contact_id']}/outcome"
    assert call(world, "POST", path, outcome, agency(world.own, "b")).status_code == 404
    assert call(world, "POST", path, outcome, agency(world.own, "a")).status_code == 200


def test_agency_keys_are_submitter_keys_only(world):
    admin = world.own.key(Role.ADMIN)
    refused = call(world, "POST", "/v1/keys", {"role": "compliance", "agency": "agency-c"}, admin)
    assert (refused.status_code, answer(refused)["errors"][0]["field"]) == (400, "agency")


def test_each_agency_of_a_creditor_counts_its_own_reg_f_calls_in_the_creditors_ledger(world):
    body = {**VOICE, "debtor_id": "d-regf", "account_id": "a-regf"}
    first = []
    for _ in range(8):  # the dialer reports each call as unanswered: an unreported one would lock the debt
        permit = answer(call(world, "POST", "/v1/contacts", body, agency(world.own, "a")))
        first.append(permit["status"])
        if permit["status"] == "permitted":
            outcome = call(
                world, "POST", f"/v1/contacts/{permit['contact_id']}/outcome", UNANSWERED, agency(world.own, "a")
            )
            assert outcome.status_code == 200
    assert first == ["permitted"] * 7 + ["refused"]
    other = answer(call(world, "POST", "/v1/contacts", body, agency(world.own, "b")))
    assert other["status"] == "permitted"  # 12 CFR 1006.14(b)(2): "a debt collector ... places"
    ledger = world.gateway.deps.ledgers.get(TENANT, "d-regf")
    assert sorted({r.agency for r in ledger.history}) == ["agency-a", "agency-b"]  # one ledger, the creditor's


def test_idempotency_keys_of_two_agencies_never_meet(world):
    body = {**SMS, "debtor_id": "d-idem", "account_id": "a-idem"}
    headers = {"Idempotency-Key": "campaign-1"}
    answers = []
    for name in ("a", "b"):
        response = world.client.http.post(
            "/v1/contacts",
            headers={**JSON, **headers, "Authorization": f"Bearer {agency(world.own, name)}"},
            body=json.dumps(body),
        )
        answers.append(answer(response))
    assert answers[0]["contact_id"] != answers[1]["contact_id"]


def test_the_same_debtor_id_in_two_tenants_is_two_people(world):
    body = {**SMS, "debtor_id": "d-both", "account_id": "a-both"}
    mine = answer(call(world, "POST", "/v1/contacts", body, world.own.key(Role.SUBMITTER)))
    theirs = answer(call(world, "POST", "/v1/contacts", body, world.other.key(Role.SUBMITTER)))
    assert (mine["status"], theirs["status"]) == ("sent", "sent")  # neither counts against the other
    own_history = world.gateway.deps.ledgers.get(TENANT, "d-both").history
    other_history = world.gateway.deps.ledgers.get(OTHER, "d-both").history
    assert [r.contact_id for r in own_history] == [mine["contact_id"]]
    assert [r.contact_id for r in other_history] == [theirs["contact_id"]]
    assert (
        call(world, "GET", f"/v1/contacts/{mine['contact_id']}", key=world.other.key(Role.COMPLIANCE)).status_code
        == 404
    )


def test_health_and_the_openapi_document_need_no_key(world):
    assert world.client.http.get("/v1/health").status_code == 200
    assert world.client.http.get("/v1/openapi.json").status_code == 200


def test_a_key_store_outage_is_a_503_never_an_open_door(world):
    key = world.own.key(Role.COMPLIANCE)
    table = world.gateway.settings.keys_table
    undo = fail_calls(
        world.gateway.clients.dynamodb, "GetItem", "InternalServerError", lambda p: p["TableName"] == table
    )
    try:
        response = call(world, "GET", "/v1/audit/events?debtor_id=d-acc", key=key)
    finally:
        undo()
    assert (response.status_code, response.headers["Content-Type"]) == (503, "application/problem+json")
    assert call(world, "GET", "/v1/audit/events?debtor_id=d-acc", key=key).status_code == 200


def test_an_export_cannot_be_granted_once_it_expired(world):
    late = NOON_ATLANTA + exports.AVAILABLE_FOR + timedelta(minutes=1)
    with pytest.raises(GoneError):
        exports.grant(TENANT, world.ids["export"], world.ids["regulator"], world.gateway.deps, late)


def test_a_regulator_sees_neither_who_asked_nor_who_else_may_read(world):
    regulator = answer(call(world, "GET", f"/v1/exports/{world.ids['export']}", key=world.own.key(Role.REGULATOR)))
    officer = answer(call(world, "GET", f"/v1/exports/{world.ids['export']}", key=world.own.key(Role.COMPLIANCE)))
    assert "granted_to" not in regulator and "requested_by" not in regulator
    assert world.ids["regulator"] in officer["granted_to"] and officer["requested_by"].startswith("k_")


def test_a_withdrawn_grant_closes_the_export_to_that_regulator(world):
    compliance, regulator = world.own.key(Role.COMPLIANCE), world.own.key(Role.REGULATOR)
    export = answer(call(world, "POST", "/v1/exports", {"debtor_id": "d-acc", "formats": ["jsonl"]}, compliance))
    path = f"/v1/exports/{export['export_id']}"
    call(world, "POST", f"{path}/grants", {"key_id": world.ids["regulator"]}, compliance)
    assert call(world, "GET", path, key=regulator).status_code == 200
    withdrawn = call(world, "DELETE", f"{path}/grants/{world.ids['regulator']}", key=compliance)
    assert (withdrawn.status_code, answer(withdrawn)["granted_to"]) == (200, [])
    assert call(world, "GET", path, key=regulator).status_code == 404
    events = world.gateway.deps.audit.for_person(TENANT, "@access")
    assert [e["type"] for e in events if e["contact_id"] == export["export_id"]] == [
        "export_requested",
        "export_granted",
        "export_grant_withdrawn",
    ]


def test_every_event_names_the_key_that_caused_it_whatever_the_body_says(world):
    submitter, compliance = world.own.key(Role.SUBMITTER), world.own.key(Role.COMPLIANCE)
    sent = answer(call(world, "POST", "/v1/contacts", {**SMS, "debtor_id": "d-who"}, submitter))
    body = {"inconvenient_times": [], "actor": "someone-else", "reason": "asked"}
    call(world, "PUT", "/v1/debtors/d-who/preferences", body, compliance)
    events = world.gateway.deps.audit.for_person(TENANT, "d-who")
    requested = next(e for e in events if e["type"] == "requested")
    decided = next(e for e in events if e["type"] == "decided" and e["contact_id"] == sent["contact_id"])
    changed = next(e for e in events if e["type"] == "preferences_changed")
    assert requested["data"]["submitted_by"] == decided["data"]["submitted_by"] == world_actor(world, submitter)[4:]
    assert (
        changed["data"]["key_id"] == world_actor(world, compliance)[4:] and changed["data"]["actor"] == "someone-else"
    )


def test_a_key_whose_issue_could_not_be_audited_is_withdrawn_at_once(world):
    admin = world.own.key(Role.ADMIN)
    before = {k["key_id"] for k in keys.list_keys(world.gateway.keys, TENANT)}
    undo = fail_ledger_writes(world)
    try:
        failed = call(world, "POST", "/v1/keys", {"role": "admin", "name": "unaudited"}, admin)
    finally:
        undo()
    assert failed.status_code == 503 and "key" not in answer(failed)
    [new] = [k for k in keys.list_keys(world.gateway.keys, TENANT) if k["key_id"] not in before]
    assert new["revoked_at"] and new["revoked_by"] == keys.UNAUDITED


def test_a_revocation_whose_event_was_lost_is_audited_by_the_next_attempt(world):
    admin = world.own.key(Role.ADMIN)
    issued = answer(call(world, "POST", "/v1/keys", {"role": "submitter"}, admin))
    undo = fail_ledger_writes(world)
    try:
        assert call(world, "DELETE", f"/v1/keys/{issued['key_id']}", key=admin).status_code == 503
    finally:
        undo()
    assert call(world, "POST", "/v1/contacts", SMS, issued["key"]).status_code == 401  # revoked all the same
    retried = call(world, "DELETE", f"/v1/keys/{issued['key_id']}", key=admin)
    assert retried.status_code == 200
    assert call(world, "DELETE", f"/v1/keys/{issued['key_id']}", key=admin).status_code == 409
    events = world.gateway.deps.audit.for_person(TENANT, "@access")
    assert [e["type"] for e in events if e["contact_id"] == issued["key_id"]] == ["key_created", "key_revoked"]


def fail_ledger_writes(world: World) -> Any:
    table = world.gateway.settings.ledger_table
    return fail_calls(
        world.gateway.clients.dynamodb, "PutItem", "InternalServerError", lambda p: p["TableName"] == table
    )


def test_every_stored_item_is_keyed_by_its_tenant(world):
    """Ledgers, audit events, export jobs and bundles: each key starts with the tenant that owns it. (API
    keys are found by the hash of the key, and idempotency records by a hash over tenant and key.)"""
    dynamodb, settings = world.gateway.clients.dynamodb, world.gateway.settings
    scopes = (f"{TENANT}#", f"{OTHER}#", "_shared#")
    for table, key in ((settings.ledger_table, "pk"), (settings.audit_table, "pk"), (settings.jobs_table, "id")):
        items = dynamodb.scan(TableName=table)["Items"]  # a test may scan; the product never does
        assert items, table
        assert [i[key]["S"] for i in items if not i[key]["S"].startswith(scopes)] == [], table
        tenants = {i["tenant"]["S"] for i in items if "tenant" in i}
        assert all(i[key]["S"].startswith(f"{i['tenant']['S']}#") for i in items if "tenant" in i), tenants
    objects = world.gateway.clients.s3.list_objects_v2(Bucket=settings.export_bucket).get("Contents", [])
    assert objects and all(o["Key"].startswith((f"exports/{TENANT}/", f"exports/{OTHER}/")) for o in objects)
