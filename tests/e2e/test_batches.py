"""A batch through the local stack: posted over HTTP, queued on the moto server's SQS, decided by the batch
worker the stack drives, as the Lambda would be."""

from __future__ import annotations

import time

import pytest

from tests.e2e.support import NY_NUMBER, new_debtor, sms_body, sms_sent

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_a_batch_is_decided_by_the_worker_and_every_sent_text_is_in_moto(api, stack):
    debtors = [new_debtor() for _ in range(12)]  # two queue messages
    accepted = api.post("/v1/contacts/batch", json={"contacts": [sms_body(d, NY_NUMBER) for d in debtors]})
    assert accepted.status_code == 202, accepted.text
    batch_id = accepted.json()["batch_id"]
    deadline = time.monotonic() + 60
    while (state := api.get(f"/v1/contacts/batch/{batch_id}").json())["status"] != "done":
        assert time.monotonic() < deadline, state["progress"]
        time.sleep(0.5)
    results = state["results"]
    assert [r["index"] for r in results] == list(range(12))
    assert {r["status"] for r in results} <= {"sent", "scheduled"}  # scheduled when New York is asleep
    for debtor, result in zip(debtors, results, strict=True):
        assert len(sms_sent(stack.endpoint, debtor)) == (1 if result["status"] == "sent" else 0)
        contact = api.get(f"/v1/contacts/{result['contact_id']}").json()
        assert contact["debtor_id"] == debtor and contact["status"] == result["status"]
