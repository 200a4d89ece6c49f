"""Exports are masked unless asked otherwise, with a reason that the trail keeps; a masked bundle still
verifies offline, link by link."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pypdf
import pytest
import requests
from chalice.test import Client

from chalicelib.domain.access import ACCESS_CHAIN
from chalicelib.services import dispatch, maintenance
from chalicelib.services.contacts import submit_contact
from tests.support import make_request, post_export, queued_exports, run_export_worker, utc
from tools.cli.bundle import verify_bundle

MONDAY = utc(2026, 3, 2)
NOW = utc(2026, 3, 5, 12)
PHONE, EMAIL = "+14045550100", "jane.doe@example.com"
SMS_TEXT = "Your payment on account a-1 is overdue. Reply STOP to opt out."
EMAIL_TEXT = "A statement for account a-2 is ready. Unsubscribe at any time."
REASON = "CFPB supervisory request 2026-031: full contact record"


@pytest.fixture
def contacted(gateway: Any) -> None:
    """d-1 reached by SMS and by email, on two days."""
    gateway.clock = lambda: NOW
    for hours, channel, to, body in ((17, "sms", PHONE, SMS_TEXT), (24 + 18, "email", EMAIL, EMAIL_TEXT)):
        message: dict[str, Any] = {"body": body, **({"subject": "Your statement"} if channel == "email" else {})}
        fields = {"channel": channel, "to": to, "message": message, "account_id": "a-1"}
        submit_contact(make_request(**fields), gateway.deps, MONDAY + timedelta(hours=hours))
    dispatch.sweep_audit(gateway.deps, NOW)
    maintenance.audit_pass(gateway.deps, ["local"], NOW)


def export(client: Client, gateway: Any, body: dict[str, Any]) -> tuple[str, dict[str, bytes]]:
    """Request, run the worker, download every file of the bundle."""
    response = post_export(client, body)
    assert response.status_code == 202, response.body
    export_id = json.loads(response.body)["export_id"]
    run_export_worker(client, queued_exports(gateway))
    job = json.loads(client.http.get(f"/v1/exports/{export_id}").body)
    assert job["status"] == "done", job
    return export_id, {f["name"]: requests.get(f["url"], timeout=10).content for f in job["files"]}


def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.replace("\x7f", "•").split())


def squeezed(text: str) -> str:
    """Without whitespace: a PDF's cells wrap long words and sentences anywhere."""
    return "".join(text.split())


def leaks(text: str) -> list[str]:
    """Any address, body or subject of d-1's contacts found in ``text`` (also with its spaces squeezed out)."""
    secrets = (PHONE, "4045550100", EMAIL, "jane.doe", SMS_TEXT[:20], EMAIL_TEXT[:20], "Your statement")
    return [s for s in secrets if s in text or squeezed(s) in squeezed(text)]


def requested_events(gateway: Any) -> list[dict[str, Any]]:
    access = gateway.deps.ledgers.get("local", ACCESS_CHAIN).outbox
    stored = gateway.audit.for_person("local", ACCESS_CHAIN)
    by_seq = {e["seq"]: e for e in [*stored, *access]}
    return [e for _, e in sorted(by_seq.items()) if e["type"] == "export_requested"]


def test_the_default_jsonl_and_pdf_hold_no_address_or_message_body(client, gateway, contacted):
    _, files = export(client, gateway, {"debtor_id": "d-1", "formats": ["jsonl", "csv", "pdf"]})
    jsonl, pdf = files["events.jsonl"].decode("utf-8"), pdf_text(files["contact-history.pdf"])
    assert leaks(jsonl) == [] and leaks(squeezed(pdf)) == [] and leaks(files["events.csv"].decode("utf-8")) == []
    assert "+1404•••0100" in jsonl and "j•••e@example.com" in jsonl  # still recognisable
    assert "+1404•••0100" in pdf and "j•••e@example.com" in pdf
    assert f"•••({len(SMS_TEXT)} chars)" in jsonl and f"•••({len(SMS_TEXT)} chars)" in pdf
    assert "Addresses, messages masked" in pdf  # the reader is told
    manifest = json.loads(files["manifest.json"])
    assert manifest["masked"] is True and "unmasked_reason" not in manifest


def test_masked_lines_name_what_they_hide_and_carry_the_originals_content_hash(client, gateway, contacted):
    _, files = export(client, gateway, {"debtor_id": "d-1", "formats": ["jsonl"]})
    lines = [json.loads(line) for line in files["events.jsonl"].decode().splitlines()]
    stored = {e["seq"]: e for e in gateway.audit.for_person("local", "d-1")}
    masked = [line for line in lines if line.get("masked")]
    assert {line["type"] for line in masked} >= {"requested"}
    for line in masked:
        assert "/data/to" in line["masked"] and line["hash"] == stored[line["seq"]]["hash"]
        assert isinstance(line["content_hash"], str) and not line.get("redacted")
    sms = next(line for line in masked if line.get("channel") == "sms")
    assert sms["masked"] == ["/data/message/body", "/data/to", "/nonce"] and sms["nonce"] == "•••"


def test_an_unmasked_export_without_a_reason_is_a_422_naming_reason(client, gateway, contacted):
    for body in (
        {"debtor_id": "d-1", "formats": ["jsonl"], "unmasked": True},
        {"debtor_id": "d-1", "formats": ["jsonl"], "unmasked": True, "reason": ""},
        {"debtor_id": "d-1", "formats": ["jsonl"], "unmasked": True, "reason": "   "},
    ):
        response = post_export(client, body)
        assert response.status_code == 422, response.body
        assert response.headers["Content-Type"] == "application/problem+json"
        assert [e["field"] for e in json.loads(response.body)["errors"]] == ["reason"]
    assert queued_exports(gateway) == [] and requested_events(gateway) == []


def test_an_unmasked_export_holds_the_addresses_and_the_trail_keeps_its_reason(client, gateway, contacted):
    body = {"debtor_id": "d-1", "formats": ["jsonl", "pdf"], "unmasked": True, "reason": REASON}
    export_id, files = export(client, gateway, body)
    jsonl, pdf = files["events.jsonl"].decode("utf-8"), pdf_text(files["contact-history.pdf"])
    assert PHONE in jsonl and EMAIL in jsonl and SMS_TEXT in jsonl and '"masked"' not in jsonl
    assert PHONE in squeezed(pdf) and EMAIL in squeezed(pdf) and squeezed(SMS_TEXT) in squeezed(pdf)
    assert squeezed(f"Addresses, messages shown in full: {REASON}") in squeezed(pdf)
    manifest = json.loads(files["manifest.json"])
    assert manifest["masked"] is False and manifest["unmasked_reason"] == REASON
    job = json.loads(client.http.get(f"/v1/exports/{export_id}").body)
    assert (job["masked"], job["reason"]) == (False, REASON)
    [event] = requested_events(gateway)
    assert event["contact_id"] == export_id
    assert event["data"]["masked"] is False and event["data"]["reason"] == REASON
    assert event["data"]["export_id"] == export_id and event["data"]["by"]


def test_a_masked_export_request_is_audited_too(client, gateway, contacted):
    export_id, _ = export(client, gateway, {"debtor_id": "d-1", "formats": ["csv"]})
    [event] = requested_events(gateway)
    assert event["data"]["export_id"] == export_id and event["data"]["masked"] is True
    assert event["data"]["reason"] is None and event["data"]["formats"] == ["csv"]


def test_a_masked_bundle_verifies_offline_and_a_tampered_link_is_still_found(client, gateway, contacted, tmp_path):
    _, files = export(client, gateway, {"debtor_id": "d-1", "formats": ["jsonl", "csv", "pdf"]})
    bundle = tmp_path / "bundle"
    for name, data in files.items():
        (bundle / name).parent.mkdir(parents=True, exist_ok=True)
        (bundle / name).write_bytes(data)
    report = verify_bundle(bundle, gateway.deps.signer.public_key_pem())
    assert report.ok, report.problems
    assert report.events == len(files["events.jsonl"].splitlines()) and report.anchored_heads >= 1
    forged = tamper_masked_content_hash(bundle)
    problems = verify_bundle(bundle).problems
    assert any(p.startswith(f"events.jsonl line {forged}: debtor d-1 seq ") for p in problems), problems
    assert any(p.endswith("hash does not match the event's content") for p in problems), problems


def tamper_masked_content_hash(bundle: Path) -> int:
    """Change the content_hash a masked line stands on: its link no longer recomputes."""
    rows = (bundle / "events.jsonl").read_bytes().splitlines(keepends=True)
    number = next(n for n, row in enumerate(rows, start=1) if b'"masked"' in row)
    line = json.loads(rows[number - 1])
    line["content_hash"] = "0" * 64
    rows[number - 1] = (json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
    (bundle / "events.jsonl").write_bytes(b"".join(rows))
    return number


def test_the_verifier_finds_a_whole_event_put_back_into_a_masked_bundle(client, gateway, contacted, tmp_path):
    """The whole event links like its masked line (same hash): the manifest's promise is what catches it."""
    _, files = export(client, gateway, {"debtor_id": "d-1", "formats": ["jsonl"]})
    bundle = tmp_path / "bundle"
    for name, data in files.items():
        (bundle / name).parent.mkdir(parents=True, exist_ok=True)
        (bundle / name).write_bytes(data)
    rows = (bundle / "events.jsonl").read_bytes().splitlines(keepends=True)
    number = next(n for n, row in enumerate(rows, start=1) if b'"masked"' in row)
    seq = json.loads(rows[number - 1])["seq"]
    [whole] = [e for e in gateway.audit.for_person("local", "d-1") if e["seq"] == seq]
    rows[number - 1] = (json.dumps(whole, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
    (bundle / "events.jsonl").write_bytes(b"".join(rows))
    problems = verify_bundle(bundle).problems
    assert f"events.jsonl line {number}: an address or message text shown in a masked bundle" in problems
