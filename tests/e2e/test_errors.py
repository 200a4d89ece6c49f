"""Every failure is an RFC 9457 problem (application/problem+json) naming the field; never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.services import ids
from tests.e2e.support import (
    NY_NUMBER,
    assert_problem,
    new_debtor,
    night_location,
    sms_body,
    sms_sent,
    voice_body,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

JSON = {"Content-Type": "application/json"}


def _valid() -> dict:
    return sms_body(new_debtor(), NY_NUMBER)


def _without(body: dict, key: str) -> dict:
    return {k: v for k, v in body.items() if k != key}


INVALID_BODIES: dict[str, tuple[Any, str]] = {
    "malformed JSON": (b'{"debtor_id": "d-1", ', "body"),
    "empty body": (b"", "body"),
    "a JSON array": (b"[]", "body"),
    "wrong type": (lambda b: {**b, "days_past_due": "x"}, "days_past_due"),
    "negative days past due": (lambda b: {**b, "days_past_due": -1}, "days_past_due"),
    "unknown channel": (lambda b: {**b, "channel": "fax"}, "channel"),
    "invalid number": (lambda b: {**b, "to": "+1555"}, "to"),
    "email address for sms": (lambda b: {**b, "to": "someone@example.com"}, "to"),
    "missing message for sms": (lambda b: _without(b, "message"), "message"),
    "missing debtor_id": (lambda b: _without(b, "debtor_id"), "debtor_id"),
    "unsafe debtor_id": (lambda b: {**b, "debtor_id": "a b/../c"}, "debtor_id"),
    "unknown field": (lambda b: {**b, "priority": "high"}, "priority"),
    "invalid timezone": (lambda b: {**b, "location": {"timezone": "Mars/Olympus_Mons"}}, "location.timezone"),
    "lower-case country": (lambda b: {**b, "location": {"country": "us"}}, "location.country"),
    "unknown recipient role": (lambda b: {**b, "recipient_role": "neighbour"}, "recipient_role"),
    "sms longer than 1600": (lambda b: {**b, "message": {"body": "x" * 1601}}, "message.body"),
    "metadata too large": (lambda b: {**b, "metadata": {"note": "x" * 5000}}, "metadata"),
}


@pytest.mark.parametrize("case", INVALID_BODIES, ids=list(INVALID_BODIES))
def test_invalid_submit_is_a_400_naming_the_field(api, stack, case):
    make, field = INVALID_BODIES[case]
    valid = _valid()
    data = make if isinstance(make, bytes) else json.dumps(make(valid)).encode()

    response = api.post("/v1/contacts", data=data, headers=JSON)

    problem = assert_problem(response, 400, field)
    assert problem["instance"].startswith("/v1/contacts")
    assert sms_sent(stack.endpoint, valid["debtor_id"]) == []


def test_malformed_json_is_titled_as_such(api):
    problem = assert_problem(api.post("/v1/contacts", data=b"{not json", headers=JSON), 400, "body")
    assert problem["title"] == "Malformed JSON"
    assert problem["type"].startswith("https://")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_is_415(api, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    data = json.dumps(_valid()).encode()
    assert_problem(api.post("/v1/contacts", data=data, headers=headers), 415, "Content-Type")


def test_json_content_type_with_charset_is_accepted(api):
    response = api.post(
        "/v1/contacts", data=json.dumps(_valid()).encode(), headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/contacts", "POST"),
        ("GET", "/v1/contacts", "POST"),
        ("PUT", "/v1/contacts/evaluate", "POST"),
        ("POST", "/v1/health", "GET"),
        ("DELETE", "/v1/contacts/ct_0_mfrgg", "GET"),
    ],
)
def test_wrong_method_is_405_with_allow(api, method, path, allowed):
    response = api.request(method, path, data=b"{}", headers=JSON)
    assert_problem(response, 405)
    assert response.headers["Allow"] == allowed


@pytest.mark.parametrize("contact_id", ["nope", "ct_0_mfrgg", "ct_0_!!!", None])
def test_unknown_contact_is_404(api, stack, contact_id):
    contact_id = contact_id or ids.new_contact_id(new_debtor(), stack.now())  # well formed, never used
    assert_problem(api.get(f"/v1/contacts/{contact_id}"), 404)


def test_outcome_for_unknown_contact_is_404(api, stack):
    contact_id = ids.new_contact_id(new_debtor(), stack.now())
    assert_problem(api.post(f"/v1/contacts/{contact_id}/outcome", json={"result": "conversation"}), 404)
    assert_problem(api.post("/v1/contacts/garbage/outcome", json={"result": "voicemail"}), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"result": "sent"}, "result"),  # a Result, but not one a call can have
        ({"result": "talked"}, "result"),
        ({}, "result"),
        ({"result": "conversation", "at": "2026-03-02T15:00:00"}, "at"),  # no offset
        ({"result": "conversation", "extra": 1}, "extra"),
    ],
)
def test_invalid_outcome_is_a_400_naming_the_field(api, stack, body, field):
    contact_id = ids.new_contact_id(new_debtor(), stack.now())
    assert_problem(api.post(f"/v1/contacts/{contact_id}/outcome", json=body), 400, field)


def test_outcome_for_a_message_is_409(api, stack):
    debtor = new_debtor()
    body = sms_body(debtor, NY_NUMBER, location=night_location(stack.now()).location, on_blocked="reject")
    blocked = api.post("/v1/contacts", json=body).json()
    assert blocked["status"] == "blocked", blocked
    response = api.post(f"/v1/contacts/{blocked['contact_id']}/outcome", json={"result": "conversation"})
    assert_problem(response, 409, "contact_id")


def test_evaluate_without_offset_is_a_400_naming_at(api):
    body = {**voice_body(new_debtor(), NY_NUMBER), "at": "2026-03-03T03:00:00"}
    assert_problem(api.post("/v1/contacts/evaluate", json=body), 400, "at")


def test_evaluate_validates_like_submit(api):
    assert_problem(api.post("/v1/contacts/evaluate", json={**voice_body(new_debtor(), "+1555")}), 400, "to")
