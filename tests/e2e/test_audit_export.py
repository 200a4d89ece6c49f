"""A compliance officer against the local stack: query a debtor's trail, verify it, export it, and check
the bundle with nothing but its files and the public key the gateway serves."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e.support import appended, assert_chained, assert_problem, new_debtor, sms_body

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture(scope="module")
def debtor(api, gateway) -> str:
    """A debtor with three requests: whatever the hour, each is decided and audited."""
    debtor = new_debtor()
    for n in range(3):
        response = api.post("/v1/contacts", json=sms_body(debtor, "+14045550100", account_id=f"acct-{n % 2}"))
        assert response.status_code in (200, 202), response.text
    appended(gateway, debtor)  # the officer reads the trail once the stream appender has it
    return debtor


def wait_done(api, export_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = api.get(f"/v1/exports/{export_id}").json()
        if status["status"] in ("done", "failed") or time.monotonic() > deadline:
            return status
        time.sleep(0.3)


def test_the_trail_pages_and_verifies(api, debtor):
    page = api.get("/v1/audit/events", params={"debtor_id": debtor, "limit": 4}).json()
    events = page["events"]
    while page["cursor"]:
        page = api.get("/v1/audit/events", params={"debtor_id": debtor, "limit": 4, "cursor": page["cursor"]}).json()
        events += page["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert_chained(events)
    newest = api.get("/v1/audit/events", params={"debtor_id": debtor, "order": "desc", "limit": 1}).json()
    assert newest["events"][0]["seq"] == events[-1]["seq"]
    result = api.get("/v1/audit/verify", params={"debtor_id": debtor}).json()
    assert (result["ok"], result["checked"]) == (True, len(events))


def test_an_export_runs_through_the_queue_and_its_bundle_checks_out_offline(api, debtor):
    response = api.post("/v1/exports", json={"debtor_id": debtor, "formats": ["csv", "jsonl", "pdf"]})
    assert response.status_code == 202, response.text
    assert response.headers["Location"] == f"/v1/exports/{response.json()['export_id']}"
    status = wait_done(api, response.json()["export_id"])
    assert status["status"] == "done", status
    files = {f["name"]: requests.get(f["url"], timeout=10).content for f in status["files"]}
    assert {"events.jsonl", "events.csv", "contact-history.pdf", "manifest.json", "manifest.sig"} <= set(files)
    for listed in status["files"]:
        assert hashlib.sha256(files[listed["name"]]).hexdigest() == listed["sha256"], listed["name"]
    pem = api.get("/v1/exports/public-key", params={"format": "pem"}).text
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(files["manifest.sig"], files["manifest.sha256"], ec.ECDSA(hashes.SHA256()))  # raises if forged
    assert files["manifest.sha256"].decode() == f"{hashlib.sha256(files['manifest.json']).hexdigest()}  manifest.json\n"
    assert files["contact-history.pdf"].startswith(b"%PDF")
    assert "+14045550100" not in files["events.csv"].decode()  # readable views mask addresses


def test_an_unknown_export_is_a_404_and_a_bad_request_names_its_field(api):
    assert_problem(api.get("/v1/exports/ex_nothing_here"), 404)
    assert_problem(api.post("/v1/exports", json={"formats": ["pdf"]}), 400, "formats")
