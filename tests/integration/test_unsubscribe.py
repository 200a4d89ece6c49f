"""One-click email unsubscribe: every email carries it; a valid token suppresses; a forged one does nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.services import suppression, unsubscribe
from chalicelib.services.contacts import submit_contact
from tests.support import unsubscribable_email, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


@pytest.fixture
def sent_headers(gateway) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    gateway.clients.sesv2.meta.events.register(
        "provide-client-params.sesv2.SendEmail",
        lambda params, **_: seen.append({h["Name"]: h["Value"] for h in params["Content"]["Simple"]["Headers"]}),
    )
    return seen


def _token(headers: dict[str, str]) -> str:
    return headers["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]


def test_every_email_carries_one_click_unsubscribe(gateway, sent_headers):
    assert submit_contact(unsubscribable_email(), gateway.deps, NOON_ATLANTA).status == "sent"
    [headers] = sent_headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/v1/unsubscribe/")


def test_the_link_unsubscribes_that_address_for_every_debtor(client, gateway, sent_headers):
    submit_contact(unsubscribable_email(), gateway.deps, NOON_ATLANTA)
    token = _token(sent_headers[0])
    page = client.http.get(f"/v1/unsubscribe/{token}")  # a person opening the link: nothing changes yet
    assert page.status_code == 200 and b"<form" in page.body
    assert submit_contact(unsubscribable_email("d-2"), gateway.deps, NOON_ATLANTA).status == "sent"
    response = client.http.post(
        f"/v1/unsubscribe/{token}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body="List-Unsubscribe=One-Click",
    )
    assert response.status_code == 200
    assert json.loads(response.body)["address"] == "debtor@example.com"
    for debtor in ("d-1", "d-3"):
        assert submit_contact(unsubscribable_email(debtor), gateway.deps, NOON_ATLANTA).status == "blocked"


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature altered
        lambda t: unsubscribe.make_token(b"another-key", "local", "debtor@example.com"),  # signed with another key
        lambda t: (
            unsubscribe.make_token(b"integration-test-key", "local", "x@example.com").split(".")[0]
            + "."
            + t.split(".")[1]
        ),
        lambda t: "not-a-token",
    ],
)
def test_a_forged_token_is_refused_and_changes_nothing(client, gateway, sent_headers, forge):
    submit_contact(unsubscribable_email(), gateway.deps, NOON_ATLANTA)
    response = client.http.post(
        f"/v1/unsubscribe/{forge(_token(sent_headers[0]))}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body="",
    )
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert submit_contact(unsubscribable_email("d-2"), gateway.deps, NOON_ATLANTA).status == "sent"


def test_without_an_unsubscribe_key_no_email_leaves(deps):
    deps.unsubscribe_headers = None
    result = submit_contact(unsubscribable_email(), deps, NOON_ATLANTA)
    assert result.status == "failed"
    assert deps.email.sent == []


def test_every_email_body_ends_with_the_unsubscribe_link(gateway, sent_headers):
    from tests.integration.aws import sent_email

    submit_contact(unsubscribable_email(), gateway.deps, NOON_ATLANTA)
    [message] = sent_email()
    assert message.body.endswith(sent_headers[0]["List-Unsubscribe"].strip("<>"))
    assert "To stop emails to this address" in message.body


def test_a_non_ascii_token_is_a_404_not_a_500(client):
    response = client.http.post("/v1/unsubscribe/abc.%C3%A9", headers={"Content-Type": "text/plain"}, body="")
    assert response.status_code == 404


def test_replaying_the_link_records_nothing_and_says_so(client, gateway, sent_headers):
    submit_contact(unsubscribable_email(), gateway.deps, NOON_ATLANTA)
    token = _token(sent_headers[0])
    post = {"headers": {"Content-Type": "application/x-www-form-urlencoded"}, "body": "List-Unsubscribe=One-Click"}
    answers = [json.loads(client.http.post(f"/v1/unsubscribe/{token}", **post).body) for _ in range(5)]
    assert answers[0]["changed"] is True
    assert all(a["unsubscribed"] is True and a["changed"] is False for a in answers[1:])
    assert "already" in answers[-1]["detail"]
    chain = gateway.deps.audit.for_person("local", suppression.address_key("debtor@example.com"))
    assert [e["type"] for e in chain] == ["unsubscribed"]
