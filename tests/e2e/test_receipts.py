"""Receipts on the local stack: ``./gateway sms-status`` writes a line to SNS's delivery-status log group, the
stack hands it to the handler the subscription filter invokes in AWS, and the contact answers ``delivery``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.support import eventually, gateway_command, new_debtor, open_message_number, sms_body

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def delivery_of(api: Any, contact_id: str, timeout: float = 15) -> dict[str, Any] | None:
    return eventually(lambda: api.get(f"/v1/contacts/{contact_id}").json().get("delivery"), bool, timeout)


def trail_with(api: Any, query: str, timeout: float = 15) -> list[dict[str, Any]]:
    """The audit query's events once the stream appender has copied the ledger's new events to the trail
    (the contact's own answer reads the ledger too, so it sees a receipt sooner than the trail does)."""
    return eventually(lambda: api.get(f"/v1/audit/events?{query}").json()["events"], bool, timeout)


def test_an_sms_status_injected_locally_becomes_the_contacts_delivery(api, stack):
    number, location = open_message_number(stack.now())
    debtor = new_debtor()
    response = api.post("/v1/contacts", json=sms_body(debtor, number, **({"location": location} if location else {})))
    sent = response.json()
    assert sent["status"] == "sent", response.text
    printed = gateway_command(stack, "sms-status", sent["provider_message_id"], "permanent_failure")
    assert json.loads(printed)["log_group"].endswith("/DirectPublishToPhoneNumber/Failure")
    delivery = delivery_of(api, sent["contact_id"])
    assert delivery is not None and delivery["status"] == "permanent_failure", delivery
    assert delivery["provider_code"] == "Invalid phone number"
    found = trail_with(api, f"debtor_id={debtor}&delivery=permanent_failure")
    assert [e["contact_id"] for e in found] == [sent["contact_id"]]
