"""SES bounces and complaints suppress the email address for every debtor; soft bounces after a threshold."""

from __future__ import annotations

import json

import pytest

from chalicelib.services import feedback
from chalicelib.services.contacts import submit_contact
from tests.integration.aws import sent_email
from tests.support import TENANT, make_request, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
ADDRESS = "debtor@example.com"


def notify(gateway, kind: str, bounce_type: str = "Permanent", message_id: str = "m-1") -> list[str]:
    mail = {"messageId": message_id}
    if kind == "bounce":
        body = {
            "notificationType": "Bounce",
            "mail": mail,
            "bounce": {"bounceType": bounce_type, "bouncedRecipients": [{"emailAddress": ADDRESS}]},
        }
    else:
        body = {
            "notificationType": "Complaint",
            "mail": mail,
            "complaint": {"complainedRecipients": [{"emailAddress": ADDRESS}]},
        }
    return feedback.handle_ses_notification(json.dumps(body), TENANT, gateway.deps, NOON_ATLANTA)


def email(debtor: str = "d-1"):
    return make_request(
        debtor_id=debtor,
        channel="email",
        to="Debtor@Example.com",
        message={"subject": "Reminder", "body": "Payment due. Unsubscribe: reply STOP."},
    )


@pytest.mark.parametrize(("kind", "bounce_type"), [("bounce", "Permanent"), ("complaint", "")])
def test_a_hard_bounce_or_a_complaint_suppresses_the_address_for_every_debtor(gateway, kind, bounce_type):
    assert notify(gateway, kind, bounce_type) == [ADDRESS]
    for debtor in ("d-1", "d-2"):
        result = submit_contact(email(debtor), gateway.deps, NOON_ATLANTA)
        assert result.status == "blocked"
        assert result.decision.reasons[0].rule == "us-federal/opt-out-and-prohibited-media"
    assert sent_email() == []


def test_soft_bounces_suppress_only_after_the_threshold(gateway):
    for n in range(feedback.SOFT_BOUNCE_LIMIT - 1):
        assert notify(gateway, "bounce", "Transient", f"m-{n}") == []
    assert submit_contact(email(), gateway.deps, NOON_ATLANTA).status == "sent"
    assert notify(gateway, "bounce", "Transient", "m-last") == [ADDRESS]
    assert submit_contact(email(), gateway.deps, NOON_ATLANTA).status == "blocked"


def test_a_message_that_is_not_ses_feedback_is_refused():
    with pytest.raises(feedback.FeedbackMessageError):
        feedback.parse_ses_notification('{"notificationType": "Delivery"}')


def test_soft_bounces_far_apart_or_without_an_id_do_not_add_up(gateway):
    for n, month in enumerate((1, 3, 5)):  # 3 soft bounces, each outside the others' 30-day window
        body = {
            "notificationType": "Bounce",
            "mail": {"messageId": f"m-{n}"},
            "bounce": {"bounceType": "Transient", "bouncedRecipients": [{"emailAddress": ADDRESS}]},
        }
        assert feedback.handle_ses_notification(json.dumps(body), TENANT, gateway.deps, utc(2026, month, 1)) == []
    anonymous = {
        "notificationType": "Bounce",
        "mail": {},
        "bounce": {"bounceType": "Transient", "bouncedRecipients": [{"emailAddress": ADDRESS}]},
    }
    for _ in range(3):
        assert feedback.handle_ses_notification(json.dumps(anonymous), TENANT, gateway.deps, NOON_ATLANTA) == []


@pytest.mark.parametrize(("kind", "bounce_type"), [("bounce", "Permanent"), ("complaint", ""), ("bounce", "Transient")])
def test_feedback_on_an_already_suppressed_address_records_nothing(gateway, kind, bounce_type):
    from chalicelib.services import suppression

    notify(gateway, "complaint", "", "m-first")
    key = (TENANT, suppression.address_key(ADDRESS))
    first = gateway.deps.ledgers.get(*key)
    for n in range(3):
        assert notify(gateway, kind, bounce_type, f"m-again-{n}") == [ADDRESS]
    again = gateway.deps.ledgers.get(*key)
    assert again.seq == first.seq and again.version == first.version
    assert [e["type"] for e in gateway.deps.audit.for_person(TENANT, key[1])] == ["ses_feedback"]
