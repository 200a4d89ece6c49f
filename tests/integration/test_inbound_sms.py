"""Inbound SMS replies on moto: STOP suppresses the address for every debtor, confirmed once."""

from __future__ import annotations

import pytest

from chalicelib.domain.inbound import Reply
from chalicelib.services import inbound, suppression
from chalicelib.services.contacts import submit_contact
from tests.integration.aws import sent_sms
from tests.support import NUMBER, TENANT, make_request, two_way_sms, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


def reply(gateway, body: str, message_id: str = "m-1") -> Reply:
    text = two_way_sms(body, message_id)
    return inbound.handle_inbound_sms(inbound.parse_two_way_sms(text), TENANT, gateway.deps, NOON_ATLANTA)


def test_stop_suppresses_the_number_for_every_debtor_and_is_confirmed_once(gateway):
    assert reply(gateway, "Stop texting me") is Reply.OPT_OUT
    assert reply(gateway, "STOP", "m-2") is Reply.OPT_OUT  # a repeated STOP: no second confirmation
    assert [m[1] for m in sent_sms()] == [inbound.CONFIRMATION]
    for debtor in ("d-1", "d-2"):  # the number moved to another debtor: still suppressed
        result = submit_contact(make_request(debtor_id=debtor), gateway.deps, NOON_ATLANTA)
        assert result.status == "blocked"
    assert len(sent_sms()) == 1
    events = gateway.deps.audit.for_person(TENANT, suppression.address_key(NUMBER))
    # the repeated STOP changed nothing, so it recorded nothing
    assert [e["type"] for e in events] == ["inbound_sms", "reply_pending", "reply_sent"]
    assert events[1]["data"]["exempt"] is True and events[2]["data"]["exempt"] is True


def test_start_opts_back_in(gateway):
    reply(gateway, "退订")
    reply(gateway, "START", "m-2")
    assert submit_contact(make_request(), gateway.deps, NOON_ATLANTA).status == "sent"


def test_a_repeated_stop_keeps_the_first_opt_out_and_records_nothing(gateway):
    reply(gateway, "STOP")
    key = (TENANT, suppression.address_key(NUMBER))
    first = gateway.deps.ledgers.get(*key)
    later = utc(2026, 3, 3, 17, 0)
    for n in range(3):
        text = two_way_sms("STOP", f"m-again-{n}")
        inbound.handle_inbound_sms(inbound.parse_two_way_sms(text), TENANT, gateway.deps, later)
    again = gateway.deps.ledgers.get(*key)
    assert again.seq == first.seq and again.preferences == first.preferences  # the opt-out keeps its time


def test_a_start_without_an_opt_out_records_nothing(gateway):
    for n in range(3):
        assert reply(gateway, "START", f"m-{n}") is Reply.OPT_IN
    assert gateway.deps.audit.for_person(TENANT, suppression.address_key(NUMBER)) == []
    reply(gateway, "STOP", "m-stop")
    reply(gateway, "START", "m-start")
    reply(gateway, "START", "m-start-again")
    events = gateway.deps.audit.for_person(TENANT, suppression.address_key(NUMBER))
    assert [e["data"].get("reply") for e in events if e["type"] == "inbound_sms"] == ["opt_out", "opt_in"]


def test_help_gets_the_help_text_and_other_replies_are_kept_for_a_human(gateway):
    assert reply(gateway, "HELP") is Reply.HELP
    assert reply(gateway, "I will pay on Friday", "m-2") is Reply.UNRECOGNISED
    assert [m[1] for m in sent_sms()] == [inbound.HELP]
    events = gateway.deps.audit.for_person(TENANT, suppression.address_key(NUMBER))
    assert events[-1]["data"]["body"] == "I will pay on Friday"
    assert submit_contact(make_request(), gateway.deps, NOON_ATLANTA).status == "sent"


def test_a_message_that_is_not_an_inbound_sms_is_refused():
    with pytest.raises(inbound.InboundMessageError):
        inbound.parse_two_way_sms('{"hello": 1}')


def test_two_deliveries_of_one_stop_at_once_confirm_once(gateway):
    ledgers, original_get = gateway.deps.ledgers, gateway.deps.ledgers.get
    state = {"nested": False}

    def get(tenant: str, debtor_id: str):
        ledger = original_get(tenant, debtor_id)
        if debtor_id.startswith("@addr:") and not state["nested"]:
            state["nested"] = True  # SNS delivers the same STOP to a second Lambda meanwhile
            reply(gateway, "STOP", "m-1")
        return ledger

    ledgers.get = get
    reply(gateway, "STOP", "m-1")
    assert [m[1] for m in sent_sms()] == [inbound.CONFIRMATION]


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        "null",
        '{"notificationType": "Bounce", "mail": null, "bounce": null}',
        '{"notificationType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": null}]}}',
    ],
)
def test_malformed_ses_notifications_are_refused_cleanly(text):
    from chalicelib.services import feedback

    with pytest.raises(feedback.FeedbackMessageError):
        feedback.parse_ses_notification(text)
