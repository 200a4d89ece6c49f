"""An export proves its own chains against the daily anchors and nothing more: one debtor's bundle holds no
other chain's id, seq or hash, still verifies offline, and fails when a proof, a leaf or a root is changed."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.domain import merkle
from chalicelib.domain.policy import PolicySet
from chalicelib.services import anchors, maintenance
from chalicelib.services.contacts import submit_contact
from chalicelib.services.export_bundle import ExportSpec, write_export_bundle
from chalicelib.services.unit_of_work import UnitOfWork
from tests.fakes import InMemoryAuditTrail, InMemoryObjects, unit_of_work
from tests.support import TENANT, make_request, utc
from tools.cli.bundle import verify_bundle

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
LATER = NOON_ATLANTA + timedelta(days=5)
OTHERS = ("d-2", "d-3", "d-4", "d-5")


@pytest.fixture
def trail(policies: PolicySet) -> UnitOfWork:
    """d-1 and four others contacted on the same three days, anchored."""
    deps = unit_of_work(policies, anchors=InMemoryObjects())
    for day in range(3):
        at = NOON_ATLANTA + timedelta(days=day)
        for debtor in ("d-1", *OTHERS):
            submit_contact(make_request(debtor_id=debtor), deps, at)
    anchored = maintenance.audit_pass(deps, [TENANT], LATER)["anchored"][TENANT]
    assert anchored == ["2026-03-02", "2026-03-03", "2026-03-04"]
    return deps


def export(deps: UnitOfWork, directory: Path, **spec: Any) -> Path:
    write_export_bundle(TENANT, "x-1", ExportSpec(formats=("jsonl", "csv"), **spec), deps, LATER, prefix="b/")
    for key, versions in deps.export_files.versions.items():  # type: ignore[attr-defined]
        (directory / key.removeprefix("b/")).parent.mkdir(parents=True, exist_ok=True)
        (directory / key.removeprefix("b/")).write_bytes(versions[-1])
    return directory


def others_marks(deps: UnitOfWork) -> set[str]:
    """What a holder could look for to test for another debtor: ids and chain ids (anyone computes them from
    a guessed id), and the chains' event hashes. A proof's siblings are leaf and node hashes: a leaf's
    preimage holds its head's hash, which no one computes without the chain, so they test nothing."""
    audit: InMemoryAuditTrail = deps.audit  # type: ignore[assignment]
    marks: set[str] = set()
    for debtor in OTHERS:
        marks |= {debtor, anchors.chain_id(TENANT, debtor), hashlib.sha256(f"{TENANT}#{debtor}".encode()).hexdigest()}
        marks |= {event["hash"] for event in audit.for_person(TENANT, debtor)}
    return marks


def test_one_debtors_bundle_holds_nothing_of_the_other_chains_and_verifies(trail, tmp_path):
    bundle = export(trail, tmp_path, debtor_id="d-1")
    text = "\n".join(p.read_text() for p in sorted(bundle.rglob("*")) if p.is_file() and p.suffix != ".sig")
    assert not [mark for mark in others_marks(trail) if mark in text]
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert [a["day"] for a in manifest["anchors"]] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    proof = json.loads((bundle / "anchors" / "2026-03-03.json").read_text())
    assert proof["format"] == anchors.PROOF_FORMAT and proof["tree_size"] == 5
    assert [p["chain"] for p in proof["proofs"]] == [anchors.chain_id(TENANT, "d-1")]
    assert "heads" not in proof
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert (report.anchors, report.anchored_heads) == (3, 3)


def test_a_date_range_bundle_proves_every_chain_it_holds(trail, tmp_path):
    bundle = export(trail, tmp_path, start=utc(2026, 3, 3), end=utc(2026, 3, 4))
    proof = json.loads((bundle / "anchors" / "2026-03-03.json").read_text())
    assert len(proof["proofs"]) == 5
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert report.anchored_heads == 5


def edit_proof(bundle: Path, edit: Any) -> str:
    """Change the proofs of 2026-03-03, then fix the manifest and sign it anew (with another key), so
    only the proof itself can give the change away."""
    name = "anchors/2026-03-03.json"
    document = json.loads((bundle / name).read_text())
    edit(document)
    raw = json.dumps(document, indent=1, sort_keys=True).encode()
    (bundle / name).write_bytes(raw)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"][name] = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}
    entry = next(a for a in manifest["anchors"] if a["file"] == name)
    entry["digest"] = document["root"]
    resign(bundle, manifest)
    return name


def resign(bundle: Path, manifest: dict[str, Any]) -> None:
    body = json.dumps(manifest, indent=1, sort_keys=True).encode()
    checksum = f"{hashlib.sha256(body).hexdigest()}  manifest.json\n".encode()
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (bundle / "manifest.json").write_bytes(body)
    (bundle / "manifest.sha256").write_bytes(checksum)
    (bundle / "manifest.sig").write_bytes(key.sign(checksum, ec.ECDSA(hashes.SHA256())))
    (bundle / "public-key.pem").write_bytes(pem)


def _flip(text: str) -> str:
    return ("0" if text[0] != "0" else "1") + text[1:]


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda d: d["proofs"][0]["path"].__setitem__(0, _flip(d["proofs"][0]["path"][0])), id="path"),
        pytest.param(lambda d: d["proofs"][0]["path"].pop(), id="path-short"),
        pytest.param(lambda d: d["proofs"][0].__setitem__("index", d["proofs"][0]["index"] ^ 1), id="index"),
        pytest.param(lambda d: d["proofs"][0].__setitem__("seq", d["proofs"][0]["seq"] + 1), id="leaf-seq"),
        pytest.param(lambda d: d.__setitem__("root", _flip(d["root"])), id="root"),
    ],
)
def test_a_changed_proof_leaf_or_root_fails_even_re_signed(trail, tmp_path, edit):
    bundle = export(trail, tmp_path, debtor_id="d-1")
    name = edit_proof(bundle, edit)
    problems = verify_bundle(bundle).problems
    assert f"{name}: debtor d-1: the inclusion proof does not lead to the root" in problems, problems


def test_a_forged_head_with_a_recomputed_path_cannot_reach_the_anchored_root(trail, tmp_path):
    """Whoever edits an event re-hashes its chain; the new head's leaf cannot be proven against the root
    the gateway signed, and a root recomputed for it is not the anchor's."""
    bundle = export(trail, tmp_path, debtor_id="d-1")
    name = "anchors/2026-03-03.json"
    document = json.loads((bundle / name).read_text())
    proof = document["proofs"][0]
    forged = {**proof, "hash": "f" * 64}
    assert anchors.proof_root(forged, document["tree_size"]) != document["root"]
    signed_root = json.loads((bundle / "manifest.json").read_text())["anchors"][1]["digest"]
    assert anchors.proof_root(proof, document["tree_size"]) == signed_root
    stored = json.loads(trail.anchors.get_original(anchors.anchor_key(TENANT, "2026-03-03"))[0])  # type: ignore[union-attr]
    assert stored["digest"] == signed_root  # the locked anchor's root is the one the bundle proves against


def test_a_day_anchored_before_inclusion_proofs_is_named_not_copied(trail, tmp_path):
    """A flat anchor lists every chain of its day: an export leaves it out and says so; the bundle verifies
    against the other days, with a warning naming the withheld one."""
    store: InMemoryObjects = trail.anchors  # type: ignore[assignment]
    key = anchors.anchor_key(TENANT, "2026-03-02")
    anchor = json.loads(store.versions[key][0])
    heads = sorted(anchor["heads"], key=lambda h: h["chain"])
    flat = {**anchor, "format": anchors.FLAT_FORMAT, "heads": heads}
    flat["digest"] = anchors.digest(heads, anchors.FLAT_FORMAT)
    store.versions[key] = [json.dumps(flat).encode()]
    bundle = export(trail, tmp_path, debtor_id="d-1")
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["anchors_withheld"] == ["2026-03-02"]
    assert not (bundle / "anchors" / "2026-03-02.json").exists()
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert any("2026-03-02 predate inclusion proofs" in w for w in report.warnings)


def test_a_bundle_written_before_inclusion_proofs_still_verifies(trail, tmp_path):
    """Bundles of format gateway-export/1 carry each day's whole flat anchor: they check as they did."""
    bundle = export(trail, tmp_path, debtor_id="d-1")
    manifest = json.loads((bundle / "manifest.json").read_text())
    for entry in manifest["anchors"]:
        stored = json.loads(trail.anchors.get_original(anchors.anchor_key(TENANT, entry["day"]))[0])  # type: ignore[union-attr]
        heads = sorted(stored["heads"], key=lambda h: h["chain"])
        flat = {**stored, "format": anchors.FLAT_FORMAT, "heads": heads}
        flat["digest"] = entry["digest"] = anchors.digest(heads, anchors.FLAT_FORMAT)
        raw = json.dumps(flat, indent=1, sort_keys=True).encode()
        (bundle / entry["file"]).write_bytes(raw)
        manifest["files"][entry["file"]] = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}
    resign(bundle, {**manifest, "format": "gateway-export/1"})
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert (report.anchors, report.anchored_heads) == (3, 3)


def test_merkle_proofs_hold_for_every_leaf_of_trees_of_every_size():
    for size in range(1, 18):
        leaves = [merkle.leaf_hash(bytes([n])) for n in range(size)]
        tree = merkle.levels(leaves)
        for index in range(size):
            siblings = merkle.path(tree, index)
            assert merkle.root_from_path(leaves[index], index, size, siblings) == merkle.root(tree)
            if size > 1:
                assert merkle.root_from_path(leaves[index], (index + 1) % size, size, siblings) != merkle.root(tree)


def test_an_anchor_whose_heads_do_not_give_its_digest_fails_the_export(trail, tmp_path):
    store: InMemoryObjects = trail.anchors  # type: ignore[assignment]
    key = anchors.anchor_key(TENANT, "2026-03-03")
    anchor = json.loads(store.versions[key][0])
    anchor["heads"][0]["hash"] = "f" * 64
    store.versions[key] = [json.dumps(anchor).encode()]
    with pytest.raises(ValueError, match="the anchor of 2026-03-03 does not match its digest"):
        export(trail, tmp_path, debtor_id="d-1")


def test_a_proof_whose_head_is_not_a_chain_seq_and_hash_leads_nowhere():
    proof = {"chain": "c" * 32, "seq": "1", "hash": "a" * 64, "index": 0, "path": []}
    assert anchors.proof_root(proof, 1) is None
    assert anchors.proof_root({**proof, "seq": 1}, 1) == anchors.head_leaf({**proof, "seq": 1}).hex()
