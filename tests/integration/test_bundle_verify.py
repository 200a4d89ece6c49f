"""An export bundle, built by the real exporter over moto and downloaded, checks offline; each kind of
tampering is caught and named by file (and, in a chain, by debtor and seq)."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.domain.audit import event_hash
from chalicelib.domain.policy import PolicySet, canonical_json
from chalicelib.services import dispatch, exports, maintenance
from chalicelib.services.contacts import submit_contact
from tests.integration.aws import module_gateway
from tests.support import make_request, utc
from tools.cli.bundle import verify_bundle

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
LATER = NOON_ATLANTA + timedelta(days=9)


@dataclass(frozen=True)
class Built:
    directory: Path
    gateway_pem: str  # what GET /v1/exports/public-key serves


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, policies: PolicySet) -> Iterator[Built]:
    """Debt a-1 of two people over five days: d-1 also owes a-0 (those events are stubs), d-2 does not."""
    directory = tmp_path_factory.mktemp("bundle")
    with module_gateway(policies) as (gateway, _):
        for step in range(6):
            at = NOON_ATLANTA + timedelta(hours=20 * step)
            submit_contact(make_request(account_id=f"a-{step % 2}"), gateway.deps, at)
            submit_contact(make_request(debtor_id="d-2"), gateway.deps, at)
        dispatch.sweep_audit(gateway.deps, LATER)
        maintenance.audit_pass(gateway.deps, ["local"], LATER)  # the daily anchors
        # unmasked, so the tampering below can edit and re-hash whole events (masked bundles: test_export_masking)
        spec = exports.ExportSpec(account_id="a-1", formats=("csv", "jsonl"), masked=False, reason="verifier tests")
        export_id = exports.request_export("local", spec, gateway.deps, LATER)["export_id"]
        job = exports.run_export("local", export_id, gateway.deps, lambda: LATER)
        assert job["status"] == "done", job
        for listed in job["files"]:
            body = gateway.clients.s3.get_object(Bucket=gateway.settings.export_bucket, Key=listed["key"])["Body"]
            (directory / listed["name"]).parent.mkdir(parents=True, exist_ok=True)
            (directory / listed["name"]).write_bytes(body.read())
        yield Built(directory, gateway.deps.signer.public_key_pem())


@pytest.fixture
def bundle(built: Built, tmp_path: Path) -> Path:
    """A copy of the bundle each test may tamper with."""
    return Path(shutil.copytree(built.directory, tmp_path / "bundle"))


def lines(bundle: Path) -> list[bytes]:
    return (bundle / "events.jsonl").read_bytes().splitlines(keepends=True)


def write_lines(bundle: Path, rows: list[bytes]) -> None:
    (bundle / "events.jsonl").write_bytes(b"".join(rows))


def manifest(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / "manifest.json").read_bytes())


def seq_at(bundle: Path, number: int) -> tuple[str, int]:
    event = json.loads(lines(bundle)[number - 1])
    return event["debtor_id"], event["seq"]


def test_an_intact_bundle_verifies_and_says_which_key_checked_it(bundle, built):
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert (report.events, report.chains, report.anchors) == (len(lines(bundle)), 2, 3)
    assert report.anchored_heads >= 2 and report.files == len(manifest(bundle)["files"])
    assert report.key_source == "the bundle's own public-key.pem"
    assert any("GET /v1/exports/public-key" in w for w in report.warnings)
    with_gateway_key = verify_bundle(bundle, built.gateway_pem)
    assert with_gateway_key.ok and with_gateway_key.key_source == "the given public key"


def test_the_bundle_holds_redacted_stubs_and_still_verifies(bundle):
    stubs = [json.loads(row) for row in lines(bundle) if b'"redacted":true' in row]
    assert stubs and all(s["debtor_id"] == "d-1" and "data" not in s for s in stubs)
    assert verify_bundle(bundle).ok


def test_an_edited_event_relinked_through_a_stub_is_still_found(bundle):
    """A stub stands for its content by the content's SHA-256: its hash recomputes, so an event before
    it cannot be edited by re-hashing it and fixing the stub's prev_hash."""
    rows = lines(bundle)
    number = next(n for n in range(1, len(rows)) if b'"redacted":true' in rows[n] and b'"redacted"' not in rows[n - 1])
    event, after = json.loads(rows[number - 1]), json.loads(rows[number])
    event["data"] = {**event["data"], "forged": True}
    event["hash"] = event_hash(event)
    after["prev_hash"] = event["hash"]
    rows[number - 1], rows[number] = ((canonical_json(e) + "\n").encode() for e in (event, after))
    write_lines(bundle, rows)
    problems = verify_bundle(bundle).problems
    where = f"events.jsonl line {number + 1}: debtor {after['debtor_id']} seq {after['seq']}"
    assert f"{where}: hash does not match the event's content" in problems


def test_a_changed_byte_in_events_jsonl_names_the_line_debtor_and_seq(bundle):
    rows = lines(bundle)
    number = next(n for n, row in enumerate(rows, start=1) if b"+14045550100" in row)
    rows[number - 1] = rows[number - 1].replace(b"+14045550100", b"+14045550101", 1)
    write_lines(bundle, rows)
    debtor, seq = seq_at(bundle, number)
    problems = verify_bundle(bundle).problems
    assert f"events.jsonl line {number}: debtor {debtor} seq {seq}: hash does not match the event's content" in problems
    assert "events.jsonl: its SHA-256 is not the one in manifest.json" in problems


def test_a_removed_line_is_a_gap_named_by_debtor_and_seq(bundle):
    rows = lines(bundle)
    debtor, removed = seq_at(bundle, 3)
    write_lines(bundle, rows[:2] + rows[3:])
    problems = verify_bundle(bundle).problems
    assert any(
        p.startswith(f"events.jsonl line 3: debtor {debtor} seq {removed + 1}: expected seq {removed}")
        for p in problems
    )
    assert any(p.startswith(f"events.jsonl: {len(rows) - 1} rows; manifest.json counts") for p in problems)


def test_a_cut_tail_is_short_of_the_manifests_last_seq(bundle):
    rows = lines(bundle)
    debtor, last = seq_at(bundle, len(rows))
    write_lines(bundle, rows[:-1])
    problems = verify_bundle(bundle).problems
    assert f"events.jsonl: debtor {debtor} ends at seq {last - 1}; manifest.json says it runs to seq {last}" in problems


def test_two_swapped_lines_break_the_order(bundle):
    rows = lines(bundle)
    debtor, second = seq_at(bundle, 2)
    rows[1], rows[2] = rows[2], rows[1]
    write_lines(bundle, rows)
    problems = verify_bundle(bundle).problems
    assert any(
        p.startswith(f"events.jsonl line 2: debtor {debtor} seq {second + 1}: expected seq {second}") for p in problems
    )


def test_an_edited_manifest_no_longer_matches_what_was_signed(bundle):
    raw = (bundle / "manifest.json").read_bytes()
    (bundle / "manifest.json").write_bytes(raw.replace(b'"redacted": ', b'"redacted": 1', 1))
    problems = verify_bundle(bundle).problems
    assert any(p.startswith("manifest.json: its SHA-256 is not the one in manifest.sha256") for p in problems)


def test_an_edited_manifest_with_a_new_checksum_fails_the_signature(bundle):
    raw = (bundle / "manifest.json").read_bytes().replace(b'"redacted": ', b'"redacted": 1', 1)
    (bundle / "manifest.json").write_bytes(raw)
    (bundle / "manifest.sha256").write_bytes(f"{hashlib.sha256(raw).hexdigest()}  manifest.json\n".encode())
    problems = verify_bundle(bundle).problems
    assert "manifest.sig: the signature over manifest.sha256 does not verify with the bundle's own public-key.pem" in (
        problems
    )


def test_a_signature_checked_with_another_key_fails(bundle):
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    report = verify_bundle(bundle, pem)
    assert report.problems == [
        "manifest.sig: the signature over manifest.sha256 does not verify with the given public key"
    ]


def test_a_re_signed_forgery_passes_its_own_key_but_not_the_gateways_nor_the_anchors(bundle, built):
    """Someone rewrites d-2's first event, re-links the chain and signs a new manifest with their own key."""
    rows = lines(bundle)
    forged, head = [], None
    for row in rows:
        event = json.loads(row)
        if event["debtor_id"] == "d-2":
            if head is None:
                event["data"]["to"] = "+14045559999"
            event["prev_hash"] = head or event["prev_hash"]
            event["hash"] = head = event_hash(event)
            row = (canonical_json(event) + "\n").encode()
        forged.append(row)
    write_lines(bundle, forged)
    resign(bundle, head_hash=head)
    own_key = verify_bundle(bundle)
    assert own_key.key_source == "the bundle's own public-key.pem"
    assert not any(p.startswith("manifest") for p in own_key.problems)  # the forger's signature is consistent
    anchored = [p for p in own_key.problems if p.startswith("anchors/")]
    assert anchored and all(": debtor d-2 seq " in p and "the anchored hash is not the one" in p for p in anchored)
    gateway_key = verify_bundle(bundle, built.gateway_pem)
    assert "manifest.sig: the signature over manifest.sha256 does not verify with the given public key" in (
        gateway_key.problems
    )


def resign(bundle: Path, head_hash: str | None) -> None:
    document = manifest(bundle)
    body = (bundle / "events.jsonl").read_bytes()
    document["files"]["events.jsonl"].update(sha256=hashlib.sha256(body).hexdigest(), bytes=len(body))
    next(c for c in document["chains"] if c["debtor_id"] == "d-2")["head_hash"] = head_hash
    raw = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False).encode()
    checksum = f"{hashlib.sha256(raw).hexdigest()}  manifest.json\n".encode()
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (bundle / "manifest.json").write_bytes(raw)
    (bundle / "manifest.sha256").write_bytes(checksum)
    (bundle / "manifest.sig").write_bytes(key.sign(checksum, ec.ECDSA(hashes.SHA256())))
    (bundle / "public-key.pem").write_bytes(pem)


def test_an_edited_anchor_proof_no_longer_leads_to_the_days_root(bundle):
    entry = manifest(bundle)["anchors"][1]
    path = bundle / entry["file"]
    document = json.loads(path.read_bytes())
    proof = document["proofs"][0]
    proof["hash"] = "f" * 64
    path.write_text(json.dumps(document, indent=1, sort_keys=True))
    problems = verify_bundle(bundle).problems
    debtor = next(c["debtor_id"] for c in manifest(bundle)["chains"] if c["chain"] == proof["chain"])
    assert f"{entry['file']}: debtor {debtor}: the inclusion proof does not lead to the root" in problems
    assert f"{entry['file']}: its SHA-256 is not the one in manifest.json" in problems


def test_an_extra_file_is_not_listed_in_the_manifest(bundle):
    (bundle / "notes.txt").write_text("added after export")
    (bundle / "anchors" / "2026-03-09.json").write_text("{}")
    problems = verify_bundle(bundle).problems
    assert problems == [
        "anchors/2026-03-09.json: not listed in manifest.json",
        "notes.txt: not listed in manifest.json",
    ]


def test_a_missing_file_is_named(bundle):
    (bundle / "events.csv").unlink()
    assert verify_bundle(bundle).problems == ["events.csv: listed in manifest.json, missing from the bundle"]
