"""Tenants sharing one gateway: replies to its shared numbers and feedback on its shared sender bind every
tenant; the daily pass anchors every tenant's chains; a creditor's house pack caps all its agencies."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from chalicelib.domain.access import SHARED_SCOPE, Role
from chalicelib.domain.model import Channel
from chalicelib.domain.policy import build_policy_set
from chalicelib.services import maintenance, suppression
from chalicelib.services.contacts import submit_contact
from tests.auth import KeyRing
from tests.integration.aws import sent_email, sent_sms
from tests.support import COLLECTOR_MESSAGE, NUMBER, TENANT, make_request, pack_with, two_way_sms, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
OTHER = "other-lender"


def inbound_event(client: Any, body: str, message_id: str) -> Any:
    return client.events.generate_sns_event(message=two_way_sms(body, message_id))


def test_a_stop_to_the_shared_number_blocks_every_tenant(client, gateway):
    gateway.clock = lambda: NOON_ATLANTA
    client.lambda_.invoke("inbound_sms", inbound_event(client, "STOP", "m-shared-1"))
    for tenant in (TENANT, OTHER, "a-tenant-created-later"):
        result = submit_contact(make_request(tenant=tenant, debtor_id="d-9"), gateway.deps, NOON_ATLANTA)
        assert result.status == "blocked", tenant
    assert [m[1] for m in sent_sms()] == [
        "You will receive no more text messages from us. Reply START to receive them again."
    ]
    events = gateway.deps.audit.for_person(SHARED_SCOPE, suppression.address_key(NUMBER))
    assert [e["type"] for e in events] == ["inbound_sms", "reply_pending", "reply_sent"]
    assert gateway.deps.audit.for_person(TENANT, suppression.address_key(NUMBER)) == []
    # each tenant's own trail says why, since when, and where the reply is kept
    [decided] = [e for e in gateway.deps.audit.for_person(OTHER, "d-9") if e["type"] == "decided"]
    assert decided["data"]["address_opt_outs"] == [
        {
            "scope": SHARED_SCOPE,
            "chain": suppression.address_key(NUMBER),
            "channel": "sms",
            "at": NOON_ATLANTA.isoformat(),
        }
    ]


def test_a_complaint_on_the_shared_sender_blocks_email_for_every_tenant(client, gateway):
    gateway.clock = lambda: NOON_ATLANTA
    complaint = {
        "notificationType": "Complaint",
        "mail": {"messageId": "ses-1", "destination": ["jane@example.com"]},
        "complaint": {"complainedRecipients": [{"emailAddress": "jane@example.com"}]},
    }
    client.lambda_.invoke("ses_feedback", client.events.generate_sns_event(message=json.dumps(complaint)))
    email = {
        "channel": Channel.EMAIL,
        "to": "jane@example.com",
        "message": {"subject": "s", "body": "Pay. Unsubscribe: link"},
    }
    for tenant in (TENANT, OTHER):
        assert submit_contact(make_request(tenant=tenant, **email), gateway.deps, NOON_ATLANTA).status == "blocked"
    assert sent_email() == []


def test_one_tenants_unsubscribe_link_is_that_tenants_alone(gateway):
    from chalicelib.services import unsubscribe

    secret = gateway.settings.unsubscribe_secret.encode()
    token = unsubscribe.make_token(secret, TENANT, "jane@example.com")
    unsubscribe.unsubscribe(secret, token, gateway.deps, NOON_ATLANTA)
    email = {
        "channel": Channel.EMAIL,
        "to": "jane@example.com",
        "message": {"subject": "s", "body": "Pay. Unsubscribe: link"},
    }
    assert submit_contact(make_request(**email), gateway.deps, NOON_ATLANTA).status == "blocked"
    assert submit_contact(make_request(tenant=OTHER, **email), gateway.deps, NOON_ATLANTA).status == "sent"


def test_the_daily_pass_anchors_every_tenant_with_keys_and_the_shared_scope(gateway, ring):
    KeyRing(gateway, OTHER).key(Role.SUBMITTER)
    ring.key(Role.SUBMITTER)
    for tenant in (TENANT, OTHER):
        submit_contact(make_request(tenant=tenant), gateway.deps, NOON_ATLANTA)
    scopes = maintenance.every_scope(gateway.keys)
    assert scopes == sorted([TENANT, OTHER]) + [SHARED_SCOPE]
    report = maintenance.audit_pass(gateway.deps, scopes, NOON_ATLANTA + timedelta(days=1))
    assert set(report["anchored"]) == {TENANT, OTHER, SHARED_SCOPE}
    assert "2026-03-02" in report["anchored"][OTHER]


def test_a_creditors_house_pack_caps_all_its_agencies_together(gateway):
    from chalicelib.domain.policy import PolicySet

    house = pack_with(
        {
            "id": "house/one-sms-a-day",
            "kind": "frequency",
            "channels": ["sms"],
            "key": "person",
            "counts": ["pending", "sent", "delivered", "unknown"],
            "limit": 1,
            "period": "calendar_day",
        },
        pack_id="house",
        countries=("*",),
    )
    house.update(kind="house", applies_to={"countries": ["*"], "tenants": [TENANT]})
    documents = {"house.yaml": house, **{f"{p.id}.yaml": p.model_dump(mode="json") for p in gateway.policies.packs}}
    policies: PolicySet = build_policy_set(documents)
    deps = type(gateway.deps)(**{**gateway.deps.__dict__, "policies": policies})
    first = submit_contact(make_request(agency="agency-a", message=COLLECTOR_MESSAGE), deps, NOON_ATLANTA)
    second = submit_contact(
        make_request(agency="agency-b", account_id="a-2", message=COLLECTOR_MESSAGE),
        deps,
        NOON_ATLANTA + timedelta(hours=1),
    )
    assert (first.status, second.status) == ("sent", "scheduled")
    assert [r.rule for r in second.decision.reasons] == ["house/one-sms-a-day"]
    # another creditor that did not adopt the pack is not capped by it
    other = submit_contact(make_request(tenant=OTHER, agency="agency-b", message=COLLECTOR_MESSAGE), deps, NOON_ATLANTA)
    again = submit_contact(
        make_request(tenant=OTHER, agency="agency-c", message=COLLECTOR_MESSAGE),
        deps,
        NOON_ATLANTA + timedelta(hours=1),
    )
    assert (other.status, again.status) == ("sent", "sent")
