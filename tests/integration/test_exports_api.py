"""A compliance officer requests an export over HTTP; the queue's worker builds the bundle; the officer
polls it, downloads every file by its presigned URL and checks the manifest's signature with the key
the gateway publishes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta
from typing import Any

import pypdf
import pytest
import requests
from chalice.test import Client
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from chalicelib.domain.audit import line_hash
from chalicelib.domain.export_masking import masked_line
from chalicelib.services import dispatch, exports, maintenance
from chalicelib.services.contacts import submit_contact
from tests.support import Clock, make_request, post_export, queued_exports, run_export_worker, utc

MONDAY = utc(2026, 3, 2)
NOW = utc(2026, 3, 5, 12)  # Thursday: Monday to Wednesday are anchored
PHONE, EMAIL = "+14045550100", "jane.doe@example.com"
SMS_TEXT = "Your payment on account a-1 is overdue. Reply STOP to opt out."
EMAIL_TEXT = "A statement for account a-2 is ready. Unsubscribe at any time."
# (hours after Monday 00:00 UTC, account, channel, on_blocked)
CONTACTS = [
    (17, "a-1", "sms", "defer"),  # noon in Atlanta: sent
    (18, "a-2", "email", "defer"),
    (24 + 3, "a-1", "sms", "reject"),  # 22:00 in Atlanta: blocked
    (24 + 4, "a-2", "sms", "defer"),  # 23:00 in Atlanta: scheduled
    (24 + 16, "a-1", "voice", "defer"),
    (48 + 17, "a-2", "email", "defer"),
    (48 + 18, "a-1", "sms", "defer"),
]


@pytest.fixture
def clock(gateway: Any) -> Clock:
    clock = Clock(NOW)
    gateway.clock = clock
    return clock


@pytest.fixture
def trails(gateway: Any, clock: Clock) -> dict[str, list[dict[str, Any]]]:
    for hours, account, channel, on_blocked in CONTACTS:
        fields: dict[str, Any] = {"account_id": account, "channel": channel, "on_blocked": on_blocked}
        fields["to"] = EMAIL if channel == "email" else PHONE
        fields["message"] = None if channel == "voice" else {"body": SMS_TEXT if account == "a-1" else EMAIL_TEXT}
        if channel == "email":
            fields["message"]["subject"] = "Your statement"
        submit_contact(make_request(**fields), gateway.deps, MONDAY + timedelta(hours=hours))
    submit_contact(make_request(debtor_id="d-2", to="+14045550111"), gateway.deps, MONDAY + timedelta(hours=19))
    dispatch.sweep_audit(gateway.deps, NOW)
    maintenance.audit_pass(gateway.deps, ["local"], NOW)
    return {d: gateway.audit.for_person("local", d) for d in ("d-1", "d-2")}


def get(client: Client, path: str, status: int = 200) -> dict[str, Any]:
    response = client.http.get(path)
    assert response.status_code == status, response.body
    return dict(json.loads(response.body))


def export(client: Client, gateway: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Request, run the worker, and answer the finished job as GET /v1/exports/{id} shows it."""
    response = post_export(client, body)
    assert response.status_code == 202, response.body
    export_id = json.loads(response.body)["export_id"]
    run_export_worker(client, queued_exports(gateway))
    return get(client, f"/v1/exports/{export_id}")


def download(job: dict[str, Any]) -> dict[str, bytes]:
    """Every file of the bundle, fetched by its presigned URL (moto answers them in-process)."""
    files = {}
    for entry in job["files"]:
        response = requests.get(entry["url"], timeout=10)
        assert response.status_code == 200, entry["name"]
        files[entry["name"]] = response.content
    return files


def jsonl(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.decode().splitlines()]


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    # WinAnsiEncoding draws 0x7F as a bullet (PDF 1.7, Annex D, note 5); pypdf extracts the raw code.
    return text.replace("\x7f", "•")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"debtor_id": "d-1"}, "formats"),
        ({"debtor_id": "d-1", "formats": []}, "formats"),
        ({"debtor_id": "d-1", "formats": ["xml"]}, "formats"),
        ({"debtor_id": "d-1", "formats": ["csv", "docx"]}, "formats"),
        ({"debtor_id": "d-1", "formats": "csv"}, "formats"),
        ({"account_id": "a-1", "formats": ["pdf"]}, "debtor_id"),
        ({"from": "2026-03-01", "to": "2026-03-04", "formats": ["pdf"]}, "debtor_id"),
        ({"formats": ["csv"]}, "from"),
        ({"from": "2026-03-01", "formats": ["csv"]}, "from"),
        ({"to": "2026-03-04", "formats": ["jsonl"]}, "from"),
        ({"from": "2025-01-01", "to": "2026-03-04", "formats": ["csv"]}, "from"),
        ({"debtor_id": "d-1", "from": "2026-03-04", "to": "2026-03-01", "formats": ["csv"]}, "to"),
        ({"debtor_id": "d-1", "from": "last week", "formats": ["csv"]}, "from"),
        ({"debtor_id": "../d-1", "formats": ["csv"]}, "debtor_id"),
        ({"debtor_id": "d-1", "formats": ["csv"], "format": "zip"}, "format"),
    ],
)
def test_a_bad_export_request_is_a_400_naming_the_field_and_queues_nothing(client, gateway, clock, body, field):
    response = post_export(client, body)
    assert response.status_code == 400, response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    named = [e["field"] for e in json.loads(response.body)["errors"]]
    # a PDF is made per debtor: the problem may be put on either field, as long as it is named
    assert any(name == field or name.startswith(f"{field}.") for name in named) or (
        field == "debtor_id" and named == ["formats"]
    ), named
    assert queued_exports(gateway) == []


def test_an_export_is_accepted_queued_and_polled(client, gateway, trails):
    response = post_export(client, {"debtor_id": "d-1", "formats": ["jsonl", "csv", "pdf"]})
    assert response.status_code == 202
    body = json.loads(response.body)
    assert body["status"] == "queued" and body["export_id"]
    assert response.headers["Location"] == f"/v1/exports/{body['export_id']}"
    assert [json.loads(m) for m in queued_exports(gateway)] == [{"export_id": body["export_id"], "tenant": "local"}]
    job = get(client, response.headers["Location"])
    assert (job["status"], job["formats"], job["filter"]["debtor_id"]) == ("queued", ["csv", "jsonl", "pdf"], "d-1")
    assert "files" not in job


def test_the_worker_finishes_the_job_with_counts_and_a_url_for_every_file(client, gateway, trails):
    job = export(client, gateway, {"debtor_id": "d-1", "formats": ["jsonl", "csv", "pdf"]})
    events = trails["d-1"]
    assert job["status"] == "done"
    assert (job["counts"]["events"], job["counts"]["redacted"]) == (len(events), 0)
    by_channel = job["counts"]["by_channel_and_outcome"]
    assert by_channel["sms"]["blocked"] == 1 and by_channel["sms"]["scheduled"] == 1
    assert by_channel["email"]["allow"] == 2 and by_channel["voice"]["permitted"] == 1
    names = {f["name"] for f in job["files"]}
    expected = {"events.jsonl", "events.csv", "contact-history.pdf", "manifest.json", "manifest.sig"}
    assert expected <= names
    assert {"anchors/2026-03-02.json", "anchors/2026-03-03.json", "anchors/2026-03-04.json"} <= names
    assert all("Signature" in f["url"] or "X-Amz-Signature" in f["url"] for f in job["files"])
    files = download(job)
    manifest = json.loads(files["manifest.json"])
    for name, entry in manifest["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == entry["sha256"], name
    assert [e["seq"] for e in jsonl(files["events.jsonl"])] == [e["seq"] for e in events]
    assert [masked_line(e) for e in events] == jsonl(files["events.jsonl"])  # masked by default
    [chain] = manifest["chains"]
    assert (chain["first_seq"], chain["last_seq"], chain["head_hash"]) == (1, events[-1]["seq"], events[-1]["hash"])


def test_the_published_key_verifies_the_manifests_signature(client, gateway, trails):
    job = export(client, gateway, {"debtor_id": "d-1", "formats": ["jsonl"]})
    files = download(job)
    published = get(client, "/v1/exports/public-key")
    pem = client.http.get("/v1/exports/public-key?format=pem")
    assert pem.body.decode() == published["public_key_pem"] == files["public-key.pem"].decode()
    key = load_pem_public_key(published["public_key_pem"].encode())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    manifest = json.loads(files["manifest.json"])
    assert manifest["signature"]["algorithm"] == published["algorithm"] == "ECDSA_SHA_256"
    signed_name = manifest["signature"].get("signed", "manifest.json")
    signed = files[signed_name]
    if signed_name != "manifest.json":  # a checksum file standing for the manifest
        assert hashlib.sha256(files["manifest.json"]).hexdigest() in signed.decode()
    key.verify(files["manifest.sig"], signed, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        key.verify(files["manifest.sig"], bytes([signed[0] ^ 1]) + signed[1:], ec.ECDSA(hashes.SHA256()))


def test_a_redelivered_message_changes_neither_the_job_nor_its_files(client, gateway, trails):
    response = post_export(client, {"debtor_id": "d-1", "formats": ["jsonl", "csv"]})
    export_id = json.loads(response.body)["export_id"]
    bodies = queued_exports(gateway)
    run_export_worker(client, bodies)
    job_before = gateway.deps.jobs.get(exports.job_key("local", export_id))
    s3, bucket = gateway.clients.s3, gateway.settings.export_bucket
    prefix = f"exports/local/{export_id}/"
    objects_before = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]}
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    s3.meta.events.register("before-call.s3.*", record)
    try:
        run_export_worker(client, bodies)  # the same message again
    finally:
        s3.meta.events.unregister("before-call.s3.*", record)
    assert gateway.deps.jobs.get(exports.job_key("local", export_id)) == job_before
    objects_after = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]}
    assert objects_after == objects_before
    assert not {"PutObject", "CreateMultipartUpload", "UploadPart"} & set(calls)


def test_an_unknown_export_is_404_and_an_expired_one_410(client, gateway, trails, clock):
    assert get(client, "/v1/exports/ex_20260305120000_0123456789", status=404)["status"] == 404
    assert get(client, "/v1/exports/-not-an-id", status=400)["status"] == 400
    job = export(client, gateway, {"debtor_id": "d-1", "formats": ["csv"]})
    clock.now = NOW + timedelta(days=7) - timedelta(seconds=1)
    assert get(client, f"/v1/exports/{job['export_id']}")["status"] == "done"
    clock.now = NOW + timedelta(days=8)
    gone = get(client, f"/v1/exports/{job['export_id']}", status=410)
    assert "expired" in gone["detail"]


def test_the_pdf_shows_each_contact_masked_with_its_message_decision_and_rules(client, gateway, trails):
    job = export(client, gateway, {"debtor_id": "d-1", "formats": ["pdf"]})
    text = pdf_text(download(job)["contact-history.pdf"])
    flat = " ".join(text.split())
    assert "+1404•••0100" in text and "j•••e@example.com" in text
    assert PHONE not in flat and EMAIL not in flat
    assert f"•••({len(SMS_TEXT)} chars)" in flat and f"•••({len(EMAIL_TEXT)} chars)" in flat  # masked by default
    assert "Your payment on account a-1" not in flat and "A statement for account a-2" not in flat
    decided = [e for e in trails["d-1"] if e["type"] == "decided"]
    rules = {r["rule"] for e in decided for r in e["data"]["reasons"]}
    assert rules and all(rule in flat for rule in rules)
    outcomes = {e["data"]["outcome"] for e in decided}
    assert {"allow", "defer"} <= outcomes and all(outcome in flat for outcome in outcomes)
    for status in ("blocked", "scheduled", "permitted", "sent"):
        assert status in flat
    assert "d-2" not in flat and "+1404•••0111" not in text  # nobody else's contacts


def test_the_csv_has_one_row_per_event_with_masked_addresses_only(client, gateway, trails):
    job = export(client, gateway, {"debtor_id": "d-1", "formats": ["csv"]})
    data = download(job)["events.csv"]
    rows = csv_rows(data)
    events = trails["d-1"]
    assert [(r["debtor_id"], int(r["seq"]), r["type"]) for r in rows] == [
        (e["debtor_id"], e["seq"], e["type"]) for e in events
    ]
    assert [r["hash"] for r in rows] == [e["hash"] for e in events]
    requested = [r for r in rows if r["type"] == "requested"]
    assert {r["to_masked"] for r in requested} == {"'+1404•••0100", "j•••e@example.com"}  # text, not a formula
    text = data.decode("utf-8")
    assert PHONE not in text and "4045550100" not in text and EMAIL not in text and "jane.doe" not in text


def test_an_account_export_shows_the_other_debt_only_as_linked_stubs(client, gateway, trails):
    job = export(client, gateway, {"account_id": "a-1", "formats": ["jsonl", "csv"]})
    files = download(job)
    lines = jsonl(files["events.jsonl"])
    full = [line for line in lines if not line.get("redacted")]
    stubs = [line for line in lines if line.get("redacted")]
    d1 = trails["d-1"]
    first = next(e["seq"] for e in d1 if e.get("account_id") == "a-1")
    last = max(e["seq"] for e in d1 if e.get("account_id") == "a-1")
    segment = [e for e in d1 if first <= e["seq"] <= last]
    d2 = trails["d-2"]
    assert [(x["debtor_id"], x["seq"]) for x in lines] == [(e["debtor_id"], e["seq"]) for e in segment + d2]
    assert {x["account_id"] for x in full} == {"a-1"}
    assert all(line_hash(x) == x["hash"] for x in full)
    assert stubs and all("data" not in x and "account_id" not in x and "channel" not in x for x in stubs)
    assert {x["seq"] for x in stubs} == {e["seq"] for e in segment if e.get("account_id") != "a-1"}
    chain = [x for x in lines if x["debtor_id"] == "d-1"]
    assert [x["prev_hash"] for x in chain[1:]] == [x["hash"] for x in chain[:-1]]  # still one unbroken segment
    rows = csv_rows(files["events.csv"])
    assert {r["account_id"] for r in rows} == {"a-1"}
    assert len(rows) == len(full) == job["counts"]["events"] and job["counts"]["redacted"] == len(stubs)
    assert EMAIL_TEXT not in files["events.jsonl"].decode() and EMAIL not in files["events.jsonl"].decode()
