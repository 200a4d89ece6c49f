"""Preferences over HTTP (in-process) on moto: every change audited, every later decision bound by it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.services import dispatch
from chalicelib.services.contacts import submit_contact
from tests.integration.aws import sent_sms
from tests.support import TENANT, make_request, utc

PATH = "/v1/debtors/d-1/preferences"
NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


def send(client: Client, method: str, body: Any) -> Any:
    call = getattr(client.http, method.lower())
    return call(PATH, headers={"Content-Type": "application/json"}, body=json.dumps(body))


def test_an_sms_opt_out_blocks_the_next_sms_and_is_audited(client, gateway):
    response = send(
        client, "PUT", {"opt_outs": [{"channel": "sms"}], "reason": "asked on the phone", "actor": "agent-7"}
    )
    assert response.status_code == 200
    assert json.loads(response.body)["preferences"]["opt_outs"][0]["channel"] == "sms"
    result = submit_contact(make_request(), gateway.deps, NOON_ATLANTA)
    assert result.status == "blocked"
    assert [r.rule for r in result.decision.reasons] == ["us-federal/opt-out-and-prohibited-media"]
    assert sent_sms() == []
    [change] = [e for e in gateway.deps.audit.for_person(TENANT, "d-1") if e["type"] == "preferences_changed"]
    assert change["data"]["source"] == "api"
    assert (change["data"]["actor"], change["data"]["reason"]) == ("agent-7", "asked on the phone")
    assert change["data"]["before"]["opt_outs"] == [] and change["data"]["after"]["opt_outs"]


def test_patch_replaces_only_the_fields_it_names(client):
    send(client, "PUT", {"opt_outs": [{"channel": "email"}]})
    response = send(client, "PATCH", {"attorney": [{"account_id": "a-1"}]})
    preferences = json.loads(response.body)["preferences"]
    assert [o["channel"] for o in preferences["opt_outs"]] == ["email"]
    assert [a["account_id"] for a in preferences["attorney"]] == ["a-1"]
    assert json.loads(client.http.get(PATH).body)["preferences"] == preferences


def test_an_opt_out_arriving_while_a_contact_is_deferred_stops_it_at_dispatch(client, gateway):
    deferred = submit_contact(make_request(), gateway.deps, utc(2026, 3, 3, 3, 0))  # 22:00 in Atlanta
    assert deferred.status == "scheduled"
    send(client, "PATCH", {"opt_outs": [{"channel": "sms", "address": "+14045550100"}]})
    report = dispatch.dispatch_due(gateway.deps, utc(2026, 3, 3, 13, 0))
    assert report.statuses == {"blocked": 1}
    assert sent_sms() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"opt_outs": [{"channel": "fax"}]}, "opt_outs.0.channel"),
        ({"inconvenient_times": [{"start": "10:00", "end": "09:00"}]}, "inconvenient_times.0"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_preferences_are_a_problem_naming_the_field(client, body, field):
    response = send(client, "PUT", body)
    assert response.status_code == 400
    assert field in [e["field"] for e in json.loads(response.body)["errors"]]


def test_a_bad_debtor_id_in_the_path_is_a_400(client):
    response = client.http.get("/v1/debtors/..%2Fx/preferences")
    assert response.status_code in (400, 404)
    assert response.headers["Content-Type"] == "application/problem+json"


def test_address_ledgers_are_out_of_the_apis_reach(client):
    response = client.http.get("/v1/debtors/@addr:0123456789abcdef0123456789abcdef/preferences")
    assert response.status_code == 400


def test_a_malformed_inconvenient_time_is_refused(client):
    response = send(client, "PUT", {"inconvenient_times": [{"start": "09:00", "end": "12:00abc"}]})
    assert response.status_code == 400


def test_the_answer_names_the_suppressions_of_the_debtors_addresses(client, gateway):
    from chalicelib.domain.access import SHARED_SCOPE
    from chalicelib.services import inbound, unsubscribe

    email = make_request(
        channel="email",
        to="jane@example.com",
        message={"subject": "Hi", "body": "Due. Unsubscribe with the link below."},
    )
    for request in (make_request(), email):
        submit_contact(request, gateway.deps, NOON_ATLANTA)
    stop = {"originationNumber": "+14045550100", "destinationNumber": "+18005550100", "messageBody": "STOP"}
    inbound.handle_inbound_sms(inbound.parse_two_way_sms(json.dumps(stop)), SHARED_SCOPE, gateway.deps, NOON_ATLANTA)
    token = unsubscribe.make_token(b"integration-test-key", TENANT, "jane@example.com")
    unsubscribe.unsubscribe(b"integration-test-key", token, gateway.deps, NOON_ATLANTA)
    answer = json.loads(client.http.get(PATH).body)
    assert answer["preferences"]["opt_outs"] == []  # the debtor's own: none; the addresses' are beside them
    found = {(s["address"], s["channel"], s["source"], s["scope"]) for s in answer["address_suppressions"]}
    assert found == {
        ("+14045550100", "sms", "sms-reply", "shared"),
        ("jane@example.com", "email", "email-unsubscribe", "tenant"),
    }
    assert all(s["at"] == "2026-03-02T17:00:00Z" for s in answer["address_suppressions"])


def test_addresses_named_in_the_query_are_checked_too_and_a_bad_one_is_a_problem(client, gateway):
    from chalicelib.services import unsubscribe

    token = unsubscribe.make_token(b"integration-test-key", TENANT, "old@example.com")
    unsubscribe.unsubscribe(b"integration-test-key", token, gateway.deps, NOON_ATLANTA)
    answer = json.loads(client.http.get(f"{PATH}?addresses=old%40example.com,%2B14045550100").body)
    assert [s["address"] for s in answer["address_suppressions"]] == ["old@example.com"]
    bad = client.http.get(f"{PATH}?addresses=not-an-address")
    assert bad.status_code == 400 and json.loads(bad.body)["errors"][0]["field"] == "addresses"
