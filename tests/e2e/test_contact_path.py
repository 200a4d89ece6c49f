"""The contact path over HTTP: submit, read, defer, dispatch, voice permits, idempotency, evaluate.

Inputs are chosen from the real clock so every outcome is determined (see tests/e2e/support.py).
When no US zone is inside the window right now, "sent now" tests take the deferral path instead
and release the contact through the dispatcher's own code at its ``not_before``: the same send,
the same records, checked the same way.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from chalicelib.domain.audit import verify_chain
from chalicelib.domain.events import Status
from chalicelib.domain.model import Result
from chalicelib.services import dispatch, ids
from tests.e2e.support import (
    CALL_AFTER_CONVERSATION,
    GENESIS,
    NO_POLICY,
    NY_NUMBER,
    QUIET_HOURS,
    TENANT,
    US_NUMBERS,
    appended,
    assert_chained,
    assert_problem,
    email_body,
    emails_sent,
    last_noon,
    new_debtor,
    night_location,
    open_number,
    parse_instant,
    release,
    rules,
    seed_permit,
    sms_body,
    sms_sent,
    voice_body,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _types(contact: dict) -> list[str]:
    return [e["type"] for e in contact["events"]]


def _submit_until_sent(api, gateway, body: dict, immediate: bool) -> tuple[str, str, list[str]]:
    """Submit; when ``immediate`` expect 202 sent now, else 202 scheduled and release it once due.

    Returns (contact_id, provider_message_id, expected event types).
    """
    response = api.post("/v1/contacts", json=body)
    assert response.status_code == 202, response.text
    result = response.json()
    if immediate:
        assert result["status"] == "sent", result
        assert result["decision"] == {"outcome": "allow", "not_before": None, "reasons": []}
        assert result["provider_message_id"]
        return result["contact_id"], result["provider_message_id"], ["requested", "decided", "sent"]
    assert result["status"] == "scheduled", result
    released = release(gateway, body["debtor_id"], result["contact_id"])
    assert released.status is Status.SENT, released
    return result["contact_id"], released.provider_message_id, ["requested", "decided", "scheduled", "decided", "sent"]


def test_health_reports_the_policy_version(api, gateway):
    response = api.get("/v1/health")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "ok"
    assert body["policy_version"].startswith("ps-")
    assert body["policy_version"] == gateway.policies.version  # the bundle the stack published


def test_sms_in_allowed_hours_is_sent_and_audited(api, stack, gateway):
    debtor, now = new_debtor(), stack.now()
    number = open_number(now)
    if number:
        body = sms_body(debtor, number)
    else:  # no US zone is in the window now: deferred, then sent by the dispatcher path
        body = sms_body(debtor, NY_NUMBER, location=night_location(now).location)

    contact_id, provider_id, expected_types = _submit_until_sent(api, gateway, body, immediate=bool(number))

    delivered = sms_sent(stack.endpoint, debtor)
    assert delivered == [{"phone_number": body["to"], "message": body["message"]["body"], "message_id": provider_id}]

    response = api.get(f"/v1/contacts/{contact_id}")
    assert response.status_code == 200
    contact = response.json()
    assert contact["contact_id"] == contact_id
    assert contact["debtor_id"] == debtor
    assert contact["status"] == "sent"
    assert _types(contact) == expected_types
    events = contact["events"]
    assert all(e["hash"] and e["prev_hash"] for e in events)
    assert events[0]["prev_hash"] == GENESIS  # the debtor's first event
    for previous, event in zip(events, events[1:], strict=False):
        assert event["prev_hash"] == previous["hash"]
    assert_chained(events)
    assert verify_chain(events).ok
    assert events[0]["data"]["to"] == body["to"]
    assert events[-1]["data"] == {"provider_message_id": provider_id}

    ledger = gateway.deps.ledgers.get(TENANT, debtor)
    assert [(r.contact_id, r.result) for r in ledger.history] == [(contact_id, Result.SENT)]
    assert ledger.deferred == ()


def test_email_in_allowed_hours_is_sent_through_ses(api, stack, gateway):
    debtor, now = new_debtor(), stack.now()
    number = open_number(now)
    if number:
        body = email_body(debtor, location={"country": "US", "timezone": US_NUMBERS[number][0]})
    else:
        body = email_body(debtor, location=night_location(now).location)

    contact_id, provider_id, expected_types = _submit_until_sent(api, gateway, body, immediate=bool(number))

    [email] = emails_sent(stack.endpoint, body["to"])
    assert email["id"] == provider_id
    assert email["source"] == "collections@example.com"
    assert email["subject"] == body["message"]["subject"]
    assert email["body"].startswith(body["message"]["body"])
    assert f"{stack.url}/v1/unsubscribe/" in email["body"]  # the one-click link closes every email
    contact = api.get(f"/v1/contacts/{contact_id}").json()
    assert contact["status"] == "sent"
    assert _types(contact) == expected_types
    assert_chained(contact["events"])


def test_outside_hours_is_scheduled_for_the_first_allowed_instant(api, stack, gateway):
    debtor, now = new_debtor(), stack.now()
    night = night_location(now)
    body = sms_body(debtor, NY_NUMBER, location=night.location)

    response = api.post("/v1/contacts", json=body)

    assert response.status_code == 202, response.text
    result = response.json()
    assert result["status"] == "scheduled"
    assert result["decision"]["outcome"] == "defer"
    assert parse_instant(result["decision"]["not_before"]) == night.not_before
    assert QUIET_HOURS in rules(result["decision"])
    assert "provider_message_id" not in result
    assert sms_sent(stack.endpoint, debtor) == []

    contact = api.get(f"/v1/contacts/{result['contact_id']}").json()
    assert contact["status"] == "scheduled"
    assert _types(contact) == ["requested", "decided", "scheduled"]
    assert set(contact["events"][1]["data"]["inputs"]["zones"]) == night.zones
    assert contact["events"][2]["data"] == {"not_before": result["decision"]["not_before"]}
    assert_chained(contact["events"])
    [deferred] = gateway.deps.ledgers.get(TENANT, debtor).deferred
    assert (deferred.contact_id, deferred.not_before) == (result["contact_id"], night.not_before)


def test_outside_hours_with_on_blocked_reject_is_blocked_and_not_sent(api, stack, gateway):
    debtor, now = new_debtor(), stack.now()
    body = sms_body(debtor, NY_NUMBER, location=night_location(now).location, on_blocked="reject")

    response = api.post("/v1/contacts", json=body)

    assert response.status_code == 202, response.text
    result = response.json()
    assert result["status"] == "blocked"
    assert result["decision"]["outcome"] == "defer"
    assert QUIET_HOURS in rules(result["decision"])
    contact = api.get(f"/v1/contacts/{result['contact_id']}").json()
    assert contact["status"] == "blocked"
    assert _types(contact) == ["requested", "decided", "blocked"]
    ledger = gateway.deps.ledgers.get(TENANT, debtor)
    assert ledger.deferred == () and ledger.history == ()
    assert sms_sent(stack.endpoint, debtor) == []


def test_recipient_no_pack_covers_is_blocked(api, stack):
    debtor = new_debtor()
    response = api.post("/v1/contacts", json=sms_body(debtor, "+4915123456789"))  # Germany: no pack
    assert response.status_code == 202, response.text
    result = response.json()
    assert result["status"] == "blocked"
    assert result["decision"]["outcome"] == "deny"
    assert rules(result["decision"]) == [NO_POLICY]
    assert sms_sent(stack.endpoint, debtor) == []


def test_dispatcher_sends_a_deferred_email_once_due_and_only_once(api, stack, gateway):
    debtor, now = new_debtor(), stack.now()
    night = night_location(now)
    body = email_body(debtor, location=night.location)
    result = api.post("/v1/contacts", json=body).json()
    assert result["status"] == "scheduled", result
    contact_id = result["contact_id"]

    [deferred] = gateway.deps.ledgers.get(TENANT, debtor).deferred
    assert deferred.contact_id == contact_id
    assert deferred.not_before == night.not_before == parse_instant(result["decision"]["not_before"])
    assert deferred.request.to == body["to"]

    early = dispatch.dispatch_due(gateway.deps, now=night.not_before - timedelta(minutes=1))
    assert emails_sent(stack.endpoint, body["to"]) == []
    assert gateway.deps.ledgers.get(TENANT, debtor).deferral(contact_id) is not None, early

    report = dispatch.dispatch_due(gateway.deps, now=night.not_before + timedelta(minutes=1))

    assert report.dispatched >= 1 and report.errors == 0, report
    [email] = emails_sent(stack.endpoint, body["to"])
    assert email["body"].startswith(body["message"]["body"])
    assert f"{stack.url}/v1/unsubscribe/" in email["body"]  # the one-click link closes every email
    contact = api.get(f"/v1/contacts/{contact_id}").json()
    assert contact["status"] == "sent"
    assert _types(contact) == ["requested", "decided", "scheduled", "decided", "sent"]
    assert contact["events"][3]["data"]["trigger"] == "dispatcher"
    assert contact["events"][4]["data"] == {"provider_message_id": email["id"]}
    assert_chained(contact["events"])
    assert gateway.deps.ledgers.get(TENANT, debtor).deferred == ()

    again = dispatch.dispatch_due(gateway.deps, now=night.not_before + timedelta(minutes=1))
    assert again.dispatched == 0, again
    assert len(emails_sent(stack.endpoint, body["to"])) == 1


def test_voice_permit_then_conversation_locks_out_further_calls_on_that_debt(api, stack, gateway):
    debtor, now = new_debtor(), stack.now()
    number = open_number(now)
    if number:
        response = api.post("/v1/contacts", json=voice_body(debtor, number))
        assert response.status_code == 200, response.text
        permit = response.json()
        assert permit["status"] == "permitted"
        assert permit["decision"]["outcome"] == "allow"
        contact_id = permit["contact_id"]
    else:
        # No US zone is in the window now: grant the permit at the last noon in New York instead,
        # through the same use case, then go on over HTTP.
        number = NY_NUMBER
        contact_id = seed_permit(gateway, voice_body(debtor, number), last_noon("America/New_York", now))

    outcome = api.post(f"/v1/contacts/{contact_id}/outcome", json={"result": "conversation"})

    assert outcome.status_code == 200, outcome.text
    assert outcome.json()["contact_id"] == contact_id
    assert outcome.json()["result"] == "conversation"
    [record] = gateway.deps.ledgers.get(TENANT, debtor).history
    assert record.result is Result.CONVERSATION
    contact = api.get(f"/v1/contacts/{contact_id}").json()
    assert _types(contact) == ["requested", "decided", "permitted", "outcome"]
    assert contact["events"][-1]["data"]["previous_result"] == "placed"
    assert_chained(contact["events"])

    again = api.post("/v1/contacts", json=voice_body(debtor, number))

    assert again.status_code == 200, again.text
    assert again.json()["status"] == "refused"
    assert CALL_AFTER_CONVERSATION in rules(again.json()["decision"])

    if open_number(stack.now()) == number:  # the lockout is per debt: another account may be called
        other = api.post("/v1/contacts", json=voice_body(debtor, number, account="acct-2"))
        assert other.json()["status"] == "permitted", other.text


def test_outcome_dated_in_the_future_is_refused_naming_at(api, stack, gateway):
    debtor, now = new_debtor(), stack.now()
    number = open_number(now)
    if number:
        permit_id = api.post("/v1/contacts", json=voice_body(debtor, number)).json()["contact_id"]
    else:  # no US zone open now: grant the permit at the last noon in New York, through the same use case
        permit_id = seed_permit(gateway, voice_body(debtor, NY_NUMBER), last_noon("America/New_York", now))
    future = (now + timedelta(days=3)).isoformat()

    outcome = api.post(f"/v1/contacts/{permit_id}/outcome", json={"result": "conversation", "at": future})

    # A conversation dated in the future would start the lockout too late and let calls through.
    assert_problem(outcome, 400, "at")


def test_idempotency_key_replays_the_first_response_and_sends_once(api, stack, gateway):
    debtor, now = new_debtor(), stack.now()
    number = open_number(now)
    body = sms_body(debtor, number) if number else sms_body(debtor, NY_NUMBER, location=night_location(now).location)
    headers = {"Idempotency-Key": f"key-{uuid.uuid4().hex}"}

    first = api.post("/v1/contacts", json=body, headers=headers)
    second = api.post("/v1/contacts", json=body, headers=headers)

    assert first.status_code == second.status_code == 202, (first.text, second.text)
    assert second.json() == first.json()
    assert first.json()["status"] == ("sent" if number else "scheduled")
    events = appended(gateway, debtor)
    assert [e["type"] for e in events].count("requested") == 1
    if not number:
        assert len(gateway.deps.ledgers.get(TENANT, debtor).deferred) == 1
        assert release(gateway, debtor, first.json()["contact_id"]).status is Status.SENT
    assert len(sms_sent(stack.endpoint, debtor)) == 1

    changed = {**body, "message": {"body": f"Another text for {debtor}. Reply STOP to opt out."}}
    reused = api.post("/v1/contacts", json=changed, headers=headers)

    assert_problem(reused, 422, "Idempotency-Key")
    assert len(sms_sent(stack.endpoint, debtor)) == 1
    assert [e["type"] for e in appended(gateway, debtor)].count("requested") == 1


def test_evaluate_decides_at_an_explicit_instant_and_writes_nothing(api, stack, gateway):
    debtor = new_debtor()
    body = sms_body(debtor, NY_NUMBER)
    # Monday 2026-03-02 22:00 in New York (EST, before the 2026-03-08 DST change): outside the window.
    night = api.post("/v1/contacts/evaluate", json={**body, "at": "2026-03-03T03:00:00Z"})
    # Monday 2026-03-02 10:00 in New York: inside it.
    day = api.post("/v1/contacts/evaluate", json={**body, "at": "2026-03-02T15:00:00Z"})

    assert night.status_code == 200, night.text
    assert night.json()["outcome"] == "defer"
    assert parse_instant(night.json()["not_before"]) == parse_instant("2026-03-03T13:00:00Z")  # 08:00 EST
    assert QUIET_HOURS in rules(night.json())
    assert night.json()["zones"] == ["America/New_York"]
    assert night.json()["policy_version"] == gateway.policies.version
    assert day.status_code == 200, day.text
    assert (day.json()["outcome"], day.json()["not_before"], day.json()["reasons"]) == ("allow", None, [])
    # nothing written, nothing sent
    assert sms_sent(stack.endpoint, debtor) == []
    assert gateway.deps.audit.for_person(TENANT, debtor) == []
    assert gateway.deps.ledgers.get(TENANT, debtor).version == 0
    assert_problem(api.get(f"/v1/contacts/{ids.new_contact_id(debtor, stack.now())}"), 404)
