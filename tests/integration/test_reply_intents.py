"""What each reply does to later decisions, on moto: opt-out, cease (each debtor texted there, Reg F's
exempt notices still allowed), wrong party (that debtor only), a reply delivered twice, the chain."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chalicelib.domain.access import SHARED_SCOPE
from chalicelib.domain.inbound import Reply
from chalicelib.services import dispatch, inbound, suppression
from chalicelib.services.contacts import submit_contact
from tests.integration.aws import sent_sms
from tests.support import TENANT, make_request, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
LATER = utc(2026, 3, 2, 18, 0)
NUMBER = "+14045550100"
CEASE_RULE = "us-federal/cease"
OPT_OUT_RULE = "us-federal/opt-out-and-prohibited-media"
DISPUTE_RULE = "us-federal/dispute-hold"


def reply(gateway: Any, body: str, message_id: str = "m-1", at: datetime = LATER) -> Reply:
    """An inbound SMS as AWS two-way SMS publishes it, handled as app.py does (the shared scope)."""
    text = json.dumps({"originationNumber": NUMBER, "destinationNumber": "+18005550100", "messageBody": body,
                       "inboundMessageId": message_id})  # fmt: skip
    return inbound.handle_inbound_sms(inbound.parse_two_way_sms(text), SHARED_SCOPE, gateway.deps, at)


def text(gateway: Any, **fields: Any) -> str:
    return submit_contact(make_request(**fields), gateway.deps, NOON_ATLANTA).contact_id


def decide(gateway: Any, **fields: Any) -> tuple[str, list[str]]:
    result = submit_contact(make_request(**fields), gateway.deps, LATER)
    return result.status.value, [r.rule for r in result.decision.reasons]


def address_events(gateway: Any) -> list[dict[str, Any]]:
    return gateway.deps.audit.for_person(SHARED_SCOPE, suppression.address_key(NUMBER))


def post(client: Any, path: str, body: dict[str, Any]) -> Any:
    """A compliance officer's POST (tests.auth picks the role by path)."""
    return client.http.request("POST", path, headers={"Content-Type": "application/json"}, body=json.dumps(body))


def voice(purpose: str = "reminder", debtor_id: str = "d-1", tenant: str = TENANT) -> dict[str, Any]:
    return {"channel": "voice", "message": None, "purpose": purpose, "debtor_id": debtor_id, "tenant": tenant}


def test_a_stop_inside_a_longer_reply_blocks_the_next_text_for_every_debtor(gateway):
    text(gateway)
    assert reply(gateway, "I can't pay, stop harassing me") is Reply.OPT_OUT
    for debtor in ("d-1", "d-9"):
        status, rules = decide(gateway, debtor_id=debtor)
        assert status == "blocked" and OPT_OUT_RULE in rules
    assert decide(gateway, **voice())[0] == "permitted"  # texts were revoked, not calls


def test_stop_calling_revokes_the_numbers_calls_too(gateway):
    reply(gateway, "Stop calling me")
    status, rules = decide(gateway, **voice())
    assert status == "refused" and OPT_OUT_RULE in rules


def test_cease_binds_each_debtor_texted_at_the_number_and_still_admits_the_exempt_notices(gateway):
    text(gateway, debtor_id="d-1")
    text(gateway, debtor_id="d-2", account_id="a-2")
    text(gateway, debtor_id="d-3", tenant="other-lender")
    assert reply(gateway, "CEASE and desist") is Reply.CEASE
    for debtor, tenant in (("d-1", TENANT), ("d-2", TENANT), ("d-3", "other-lender")):
        status, rules = decide(gateway, **voice(debtor_id=debtor, tenant=tenant))
        assert status == "refused" and CEASE_RULE in rules, debtor
        email = {"channel": "email", "to": f"{debtor}@example.com", "account_id": "another-debt"}
        status, rules = decide(gateway, debtor_id=debtor, tenant=tenant, **email)
        assert status == "blocked" and CEASE_RULE in rules, debtor  # every debt of the person
        assert decide(gateway, **voice("legal_notice", debtor, tenant))[0] == "permitted"
        # another debt: a call permitted without a reported outcome locks its own debt (it may be a conversation)
        acknowledgement = {**voice("cease_acknowledgement", debtor, tenant), "account_id": "a-ack"}
        assert decide(gateway, **acknowledgement)[0] == "permitted"
    assert decide(gateway, debtor_id="d-1")[0] == "blocked"  # texts to the number were revoked as well
    assert decide(gateway, **voice(debtor_id="d-4"))[0] == "permitted"  # never texted there: not his cease


def test_cease_from_a_number_nobody_was_texted_at_still_stops_texts_to_it(gateway):
    assert reply(gateway, "请不要联系我") is Reply.CEASE
    status, rules = decide(gateway, debtor_id="d-5")
    assert status == "blocked" and OPT_OUT_RULE in rules
    assert [m[1] for m in sent_sms()] == [inbound.CONFIRMATION]


def test_the_person_chain_names_the_reply_its_words_and_the_contact_it_answered(gateway):
    contact_id = text(gateway)
    reply(gateway, "cease")
    changes = [e for e in gateway.deps.audit.for_person(TENANT, "d-1") if e["type"] == "preferences_changed"]
    assert len(changes) == 1
    data = changes[0]["data"]
    assert data["source"] == "sms-reply" and data["reply"] == "cease" and data["matched"] == "cease"
    assert data["answered_contact_id"] == contact_id and data["after"]["cease"][0]["account_id"] == "*"


def test_a_reply_delivered_twice_records_nothing_new(gateway):
    text(gateway)
    reply(gateway, "CEASE", "m-7")
    before = (address_events(gateway), gateway.deps.audit.for_person(TENANT, "d-1"), sent_sms())
    assert reply(gateway, "CEASE", "m-7") is Reply.CEASE
    assert (address_events(gateway), gateway.deps.audit.for_person(TENANT, "d-1"), sent_sms()) == before
    assert [e["type"] for e in before[0]].count("inbound_sms") == 1


def test_wrong_number_frees_the_number_of_the_debtor_it_answered_only(gateway):
    text(gateway, debtor_id="d-2")
    answered = text(gateway, debtor_id="d-1")  # the last text to the number: the one the reply answers
    assert reply(gateway, "Wrong number, I'm not John") is Reply.WRONG_PARTY
    status, rules = decide(gateway, debtor_id="d-1")
    assert status == "blocked" and OPT_OUT_RULE in rules
    assert decide(gateway, **voice(debtor_id="d-1"))[0] == "refused"
    assert decide(gateway, debtor_id="d-2")[0] == "sent"  # a shared or reassigned number: still d-2's
    event = address_events(gateway)[-1]
    assert event["data"]["reply"] == "wrong_party" and event["data"]["answered"][0]["contact_id"] == answered


def test_every_reply_is_on_the_chain_with_its_intent_and_the_words_that_decided_it(gateway):
    for n, body in enumerate(["I will pay on Friday", "don't stop the reminders", "not my debt", "STOP"]):
        reply(gateway, body, f"m-{n}")
    data = [e["data"] for e in address_events(gateway) if e["type"] == "inbound_sms"]
    assert [(d["reply"], d["matched"]) for d in data] == [
        ("unrecognised", None),
        ("unrecognised", None),
        ("dispute", "not my debt"),
        ("opt_out", "stop"),
    ]
    assert data[1]["set_aside"] == "dont stop the reminders"
    assert decide(gateway)[0] == "blocked"


def test_a_dispute_opens_a_review_a_compliance_key_closes_with_a_reason(gateway, client):
    answered = text(gateway)
    assert reply(gateway, "我已经还款了", "m-dispute") is Reply.DISPUTE
    reply(gateway, "我已经还款了", "m-dispute")  # delivered again: one dispute
    opened = [e for e in gateway.deps.audit.for_person(TENANT, "d-1") if e["type"] == "dispute_opened"]
    assert len(opened) == 1 and opened[0]["data"]["answered_contact_id"] == answered
    dispute_id = opened[0]["data"]["dispute_id"]

    path = f"/v1/debtors/d-1/disputes/{dispute_id}/resolve"
    assert post(client, path, {}).status_code == 400  # a reason is required
    assert post(client, "/v1/debtors/d-1/disputes/dp_0000000000000000/resolve", {"reason": "x"}).status_code == 404
    response = post(client, path, {"reason": "payment found on 2026-02-27", "actor": "officer 7"})
    assert response.status_code == 200 and json.loads(response.body)["status"] == "resolved"
    assert post(client, path, {"reason": "again"}).status_code == 409
    resolved = [e for e in gateway.deps.audit.for_person(TENANT, "d-1") if e["type"] == "dispute_resolved"]
    assert len(resolved) == 1
    data = resolved[0]["data"]
    assert (data["reason"], data["actor"], data["dispute_id"]) == (
        "payment found on 2026-02-27",
        "officer 7",
        dispute_id,
    )
    assert data["key_id"]


def opened_dispute(gateway: Any) -> str:
    [opened] = [e for e in gateway.deps.audit.for_person(TENANT, "d-1") if e["type"] == "dispute_opened"]
    return str(opened["data"]["dispute_id"])


def test_a_disputed_debt_is_held_until_the_dispute_is_resolved(gateway, client):
    text(gateway)
    assert reply(gateway, "This is not my debt", "m-not-mine") is Reply.DISPUTE
    dispute_id = opened_dispute(gateway)
    status, rules = decide(gateway)
    assert status == "blocked" and rules == [DISPUTE_RULE]
    assert decide(gateway, **voice())[0] == "refused"  # every channel of that debt
    assert decide(gateway, account_id="a-2")[0] == "sent"  # another debt of the person is not disputed
    assert decide(gateway, **voice("legal_notice"))[0] == "permitted"

    path = f"/v1/debtors/d-1/disputes/{dispute_id}/resolve"
    assert post(client, path, {"reason": "account statement sent to the debtor"}).status_code == 200
    assert decide(gateway)[0] == "sent"


def test_the_open_dispute_is_in_the_ledger_from_the_commit_of_its_event_to_the_one_of_its_resolution(gateway, client):
    text(gateway)
    reply(gateway, "not my debt", "m-state")
    dispute_id = opened_dispute(gateway)
    [held] = gateway.deps.ledgers.get(TENANT, "d-1").preferences.disputes
    assert (held.dispute_id, held.account_id, held.opened_at) == (dispute_id, "a-1", LATER)
    shown = json.loads(client.http.get("/v1/debtors/d-1/preferences").body)["preferences"]
    assert shown["disputes"][0]["dispute_id"] == dispute_id  # the console reads it here
    post(client, f"/v1/debtors/d-1/disputes/{dispute_id}/resolve", {"reason": "verified"})
    assert gateway.deps.ledgers.get(TENANT, "d-1").preferences.disputes == ()
    reply(gateway, "not my debt", "m-state")  # the same reply again: the resolved dispute stays closed
    assert gateway.deps.ledgers.get(TENANT, "d-1").preferences.disputes == ()


def test_replacing_the_preferences_neither_sets_nor_lifts_a_dispute(gateway, client):
    text(gateway)
    reply(gateway, "not my debt", "m-put")
    path = "/v1/debtors/d-1/preferences"
    headers = {"Content-Type": "application/json"}
    for method in ("PUT", "PATCH"):
        assert client.http.request(method, path, headers=headers, body=json.dumps({"cease": []})).status_code == 200
        assert decide(gateway)[0] == "blocked", method  # the hold outlives a replacement that leaves it out
    lifted = json.dumps({"disputes": []})
    assert client.http.request("PUT", path, headers=headers, body=lifted).status_code == 400
    assert len(gateway.deps.ledgers.get(TENANT, "d-1").preferences.disputes) == 1


def test_a_text_deferred_before_the_dispute_is_blocked_when_the_dispatcher_sends_it(gateway):
    text(gateway)
    night = submit_contact(make_request(), gateway.deps, utc(2026, 3, 3, 3, 0))  # 22:00 in Atlanta: deferred
    assert night.status.value == "scheduled"
    reply(gateway, "not my debt", "m-night", at=utc(2026, 3, 3, 4, 0))
    report = dispatch.dispatch_due(gateway.deps, utc(2026, 3, 3, 14, 0))
    assert report.statuses == {"blocked": 1}
    assert len(sent_sms()) == 1  # only the noon text left
