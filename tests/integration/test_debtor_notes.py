"""``POST /v1/debtors/{id}/notes``: a complaint or an officer's note is an event on the person's chain, which
still verifies, and it is in the person's export (its text masked unless the export is unmasked)."""

from __future__ import annotations

import json
from typing import Any

import requests

from chalicelib.services import dispatch
from chalicelib.services.contacts import submit_contact
from tests.support import NOON_ATLANTA, make_request, post_export, queued_exports, run_export_worker

COMPLAINT = "Caller says she was rung at 07:00 and texted STOP last week."


def _note(client: Any, debtor: str, body: dict[str, Any]) -> Any:
    return client.http.post(
        f"/v1/debtors/{debtor}/notes", headers={"Content-Type": "application/json"}, body=json.dumps(body)
    )


def test_a_complaint_is_an_event_on_the_chain_and_the_chain_verifies(client, gateway):
    gateway.clock = lambda: NOON_ATLANTA
    contact = submit_contact(make_request(), gateway.deps, NOON_ATLANTA).contact_id
    answer = _note(client, "d-1", {"category": "complaint", "text": COMPLAINT, "contact_ids": [contact]})
    assert answer.status_code == 201, answer.body
    note = json.loads(answer.body)
    dispatch.sweep_audit(gateway.deps, NOON_ATLANTA)
    events = gateway.audit.for_person("local", "d-1")
    last = events[-1]
    assert (last["type"], last["seq"], last["hash"]) == ("note", note["seq"], note["hash"])
    assert last["data"]["contact_ids"] == [contact] and last["data"]["text"] == COMPLAINT
    assert last["prev_hash"] == events[-2]["hash"]
    verified = json.loads(client.http.get("/v1/audit/verify?debtor_id=d-1").body)
    assert verified["ok"] is True and verified["checked"] == len(events)


def test_a_note_is_in_the_persons_export_its_text_masked(client, gateway):
    gateway.clock = lambda: NOON_ATLANTA
    submit_contact(make_request(), gateway.deps, NOON_ATLANTA)
    assert _note(client, "d-1", {"category": "note", "text": COMPLAINT}).status_code == 201
    dispatch.sweep_audit(gateway.deps, NOON_ATLANTA)
    response = post_export(client, {"debtor_id": "d-1", "formats": ["jsonl"]})
    assert response.status_code == 202, response.body
    export_id = json.loads(response.body)["export_id"]
    run_export_worker(client, queued_exports(gateway))
    job = json.loads(client.http.get(f"/v1/exports/{export_id}").body)
    [events_file] = [f for f in job["files"] if f["name"].endswith(".jsonl")]
    lines = [json.loads(line) for line in requests.get(events_file["url"], timeout=10).text.splitlines()]
    [note] = [e for e in lines if e.get("type") == "note"]
    assert note["data"]["category"] == "note"
    assert COMPLAINT not in json.dumps(note) and "•••" in note["data"]["text"]


def test_a_contact_of_another_debtor_or_a_bad_category_is_refused_naming_the_field(client, gateway):
    other = submit_contact(make_request(debtor_id="d-2"), gateway.deps, NOON_ATLANTA).contact_id
    foreign = _note(client, "d-1", {"category": "complaint", "text": "x", "contact_ids": [other]})
    assert foreign.status_code in (400, 422)
    assert json.loads(foreign.body)["errors"][0]["field"] == "contact_ids"
    bad = _note(client, "d-1", {"category": "gossip", "text": "x"})
    assert bad.status_code in (400, 422) and json.loads(bad.body)["errors"][0]["field"] == "category"
