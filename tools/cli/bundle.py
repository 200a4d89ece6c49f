"""Check an export bundle offline: its signature, every file's SHA-256, every hash link, the anchors.

Nothing here calls AWS or the gateway. The same checks with stock tools, in the bundle's folder::

    sha256sum -c manifest.sha256          # manifest.json is the one that was signed
    openssl dgst -sha256 -verify public-key.pem -signature manifest.sig manifest.sha256
    sha256sum events.jsonl events.csv contact-history.pdf anchors/*.json   # compare with manifest.json "files"

(A bundle without ``manifest.sha256`` signs ``manifest.json`` itself:
``openssl dgst -sha256 -verify public-key.pem -signature manifest.sig manifest.json``.)

The bundle's own ``public-key.pem`` proves only that the bundle is whole: whoever could edit it could
replace the key too. Compare it with ``GET /v1/exports/public-key``, or pass that key in.

``events.jsonl`` is read one line at a time and only a few numbers per chain are kept, so a bundle
of any size checks in constant memory per chain. A redacted stub (an event of another debt of the
same person) carries the SHA-256 of its content instead of the content (``content_hash``): its hash
recomputes like any other event's, so no link is taken on trust. A masked line (addresses and message
text hidden, the pointers to them in ``masked``) links the same way, through the original's
``content_hash``; what it shows is vouched for by the signed manifest (docs/decisions/0025).

``anchors/DAY.json`` holds, for each exported chain anchored that day, its head (chain id, seq, hash), the
leaf's index and its Merkle path to the day's root, the root manifest.json lists; the head must be the event
of that seq in events.jsonl. A bundle of ``gateway-export/1`` holds each day's whole anchor instead and is
checked as before (docs/decisions/0028).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.domain.audit import CONTENT_KEYS, line_hash
from chalicelib.domain.events import AuditEvent
from chalicelib.domain.export_masking import masked_line
from chalicelib.services import anchors

BUNDLE_FORMAT = "gateway-export/2"
# Bundles written before inclusion proofs carry whole anchors; they still verify (docs/decisions/0028).
BUNDLE_FORMATS = frozenset({"gateway-export/1", BUNDLE_FORMAT})
CHECKSUM_FILE = "manifest.sha256"
OWN_FILES = frozenset({"manifest.json", "manifest.sig", CHECKSUM_FILE, "public-key.pem"})
CHUNK = 1 << 20


@dataclass
class BundleReport:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    key_source: str = ""
    files: int = 0
    events: int = 0
    chains: int = 0
    anchors: int = 0  # anchor files whose digest checked
    anchored_heads: int = 0  # anchored (chain, seq) compared with an exported event

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Chain:
    """What the manifest says of one chain, and how far the walk through events.jsonl has got."""

    debtor_id: str
    chain: str
    first_seq: int
    last_seq: int
    head_hash: str
    next_seq: int
    last_hash: str
    rows: int = 0
    broken: bool = False

    @classmethod
    def from_manifest(cls, entry: dict[str, Any]) -> _Chain:
        first = int(entry["first_seq"])
        return cls(
            debtor_id=str(entry["debtor_id"]),
            chain=str(entry["chain"]),
            first_seq=first,
            last_seq=int(entry["last_seq"]),
            head_hash=str(entry["head_hash"]),
            next_seq=first,
            last_hash=str(entry["prev_hash"]),
        )


def verify_bundle(directory: Path, public_key_pem: str | None = None) -> BundleReport:
    """Every check of the bundle in ``directory``; the report lists each problem with its file."""
    report = BundleReport()
    raw = _read(directory, "manifest.json", report)
    manifest = _parse_manifest(raw, report) if raw is not None else None
    if raw is None or manifest is None:
        return report
    _check_signature(directory, raw, manifest, public_key_pem, report)
    try:
        chains = {c["debtor_id"]: _Chain.from_manifest(c) for c in manifest.get("chains", [])}
        _check_files(directory, manifest.get("files", {}), report)
        needed = _anchored_heads(directory, manifest.get("anchors", []), chains, report)
        report.anchored_heads = len(needed)
        _withheld_warning(manifest.get("anchors_withheld", []), report)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        report.problems.append(f"manifest.json: malformed ({type(exc).__name__}: {exc})")
        return report
    if (directory / "events.jsonl").is_file():
        masked = manifest.get("masked") is True
        _check_events(directory / "events.jsonl", manifest.get("counts", {}), chains, needed, report, masked)
    else:
        report.warnings.append("events.jsonl is not in the bundle: hash links were not checked")
    return report


def _read(directory: Path, name: str, report: BundleReport) -> bytes | None:
    path = _member(directory, name)
    if path is None or not path.is_file():
        report.problems.append(f"{name}: missing")
        return None
    return path.read_bytes()


def _member(directory: Path, name: str) -> Path | None:
    """A file the manifest names, only inside the bundle (never ``../`` or an absolute path)."""
    path = (directory / name).resolve()
    return path if path.is_relative_to(directory.resolve()) else None


def _parse_manifest(raw: bytes, report: BundleReport) -> dict[str, Any] | None:
    try:
        manifest = json.loads(raw)
    except ValueError:
        report.problems.append("manifest.json: not JSON")
        return None
    if not isinstance(manifest, dict) or manifest.get("format") not in BUNDLE_FORMATS:
        report.problems.append(f"manifest.json: not a {BUNDLE_FORMAT} manifest")
        return None
    return manifest


# --- (a) the signature ------------------------------------------------------------------------


def _check_signature(
    directory: Path, raw: bytes, manifest: dict[str, Any], public_key_pem: str | None, report: BundleReport
) -> None:
    pem = public_key_pem
    report.key_source = "the given public key"
    if pem is None:
        report.key_source = "the bundle's own public-key.pem"
        report.warnings.append(
            "the signature was checked with the bundle's own public-key.pem: compare it with "
            "GET /v1/exports/public-key (or pass that key), as whoever edits a bundle can replace its key"
        )
        own = _read(directory, "public-key.pem", report)
        pem = own.decode("utf-8", "replace") if own is not None else None
    signed = _signed_message(directory, raw, manifest, report)
    signature = _read(directory, "manifest.sig", report)
    if pem is None or signed is None or signature is None:
        return
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError:
        report.problems.append(f"{report.key_source}: not a PEM public key")
        return
    if not _verifies(key, signature, signed[1]):
        report.problems.append(f"manifest.sig: the signature over {signed[0]} does not verify with {report.key_source}")


def _signed_message(
    directory: Path, raw: bytes, manifest: dict[str, Any], report: BundleReport
) -> tuple[str, bytes] | None:
    """What manifest.sig signs: ``manifest.sha256`` (sha256sum's line for manifest.json), or the manifest."""
    signature = manifest.get("signature")
    if not isinstance(signature, dict) or signature.get("signed") != CHECKSUM_FILE:
        return "manifest.json", raw
    checksum = _read(directory, CHECKSUM_FILE, report)
    if checksum is None:
        return None
    if checksum != f"{hashlib.sha256(raw).hexdigest()}  manifest.json\n".encode():
        report.problems.append(
            f"manifest.json: its SHA-256 is not the one in {CHECKSUM_FILE}, which manifest.sig signs: "
            "the manifest was changed after signing"
        )
    return CHECKSUM_FILE, checksum


def _verifies(key: Any, signature: bytes, message: bytes) -> bool:
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


# --- (b) the files ----------------------------------------------------------------------------


def _check_files(directory: Path, listed: dict[str, Any], report: BundleReport) -> None:
    for name, entry in sorted(listed.items()):
        path = _member(directory, name)
        if path is None or not path.is_file():
            report.problems.append(f"{name}: listed in manifest.json, missing from the bundle")
            continue
        digest, size = _sha256(path)
        if size != entry["bytes"]:
            report.problems.append(f"{name}: {size} bytes, manifest.json says {entry['bytes']}")
        if digest != entry["sha256"]:
            report.problems.append(f"{name}: its SHA-256 is not the one in manifest.json")
        report.files += 1
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        name = path.relative_to(directory).as_posix()
        if name not in listed and name not in OWN_FILES:
            report.problems.append(f"{name}: not listed in manifest.json")


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# --- (d) the anchors --------------------------------------------------------------------------


def _anchored_heads(
    directory: Path, entries: list[dict[str, Any]], chains: dict[str, _Chain], report: BundleReport
) -> dict[tuple[str, int], tuple[str, str]]:
    """(chain, seq) -> (hash, anchor file) for each anchored head inside an exported segment, from the
    inclusion proofs a bundle carries (or, in a bundle written before them, from whole anchors)."""
    segments = {c.chain: c for c in chains.values()}
    needed: dict[tuple[str, int], tuple[str, str]] = {}
    for entry in entries:
        name = entry["file"]
        raw = _read(directory, name, report)
        try:
            document = json.loads(raw) if raw is not None else None
        except ValueError:
            document = None
        if isinstance(document, dict) and document.get("format") == anchors.PROOF_FORMAT:
            heads = _proven_heads(name, document, entry["digest"], segments, report)
        else:
            heads = _whole_anchor(name, document, raw, entry["digest"], report)
        for head in heads:
            chain = segments.get(head["chain"])
            if chain and chain.first_seq <= head["seq"] <= chain.last_seq:
                needed[(chain.chain, head["seq"])] = (head["hash"], name)
    return needed


def _proven_heads(
    name: str, document: dict[str, Any], listed_root: str, segments: dict[str, _Chain], report: BundleReport
) -> list[dict[str, Any]]:
    """The heads whose inclusion proofs lead to the day's root, the one manifest.json lists."""
    root, size, proofs = document.get("root"), document.get("tree_size"), document.get("proofs")
    if not isinstance(size, int) or not isinstance(proofs, list) or not proofs:
        report.problems.append(f"{name}: not an anchor's inclusion proofs")
        return []
    if root != listed_root:
        report.problems.append(f"{name}: its root is not the one in manifest.json")
        return []
    proven = []
    for proof in proofs:
        chain = segments.get(str(proof.get("chain"))) if isinstance(proof, dict) else None
        if chain is None:
            report.problems.append(f"{name}: a proof of a chain that is not in manifest.json")
            continue
        if anchors.proof_root(proof, size) != root:
            report.problems.append(f"{name}: debtor {chain.debtor_id}: the inclusion proof does not lead to the root")
            continue
        proven.append(proof)
    if len(proven) == len(proofs):
        report.anchors += 1
    return proven


def _whole_anchor(
    name: str, anchor: Any, raw: bytes | None, listed_digest: str, report: BundleReport
) -> list[dict[str, Any]]:
    """A whole anchor, as bundles held before inclusion proofs: its digest over its heads."""
    if not isinstance(anchor, dict) or not isinstance(anchor.get("heads"), list):
        if raw is not None:
            report.problems.append(f"{name}: not an anchor")
        return []
    if not anchors.digest_ok(anchor):
        report.problems.append(f"{name}: its digest does not match its heads")
        return []
    if anchor["digest"] != listed_digest:
        report.problems.append(f"{name}: its digest is not the one in manifest.json")
        return []
    report.anchors += 1
    return list(anchor["heads"])


def _withheld_warning(days: list[str], report: BundleReport) -> None:
    if days:
        report.warnings.append(
            f"the anchors of {', '.join(days)} predate inclusion proofs and are not in the bundle (each lists every "
            "chain of its day): GET /v1/audit/verify checks those days' heads"
        )


# --- (c) the hash links, (e) the counts -------------------------------------------------------


class _EventWalk:
    """events.jsonl, one line at a time: each chain must run unbroken from first_seq to last_seq."""

    def __init__(
        self, chains: dict[str, _Chain], needed: dict[tuple[str, int], tuple[str, str]], masked: bool = False
    ) -> None:
        self.chains, self.needed, self.masked = chains, needed, masked
        self.rows = self.redacted = 0
        self.problems: list[str] = []

    def line(self, number: int, text: bytes) -> None:
        try:
            event = json.loads(text)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            self.problems.append(f"events.jsonl line {number}: not a JSON object")
            return
        self.rows += 1
        self.redacted += event.get("redacted") is True
        chain = self.chains.get(str(event.get("debtor_id")))
        if chain is None:
            self.problems.append(
                f"events.jsonl line {number}: debtor {event.get('debtor_id')} has no chain in manifest.json"
            )
            return
        chain.rows += 1
        if not chain.broken:
            self._link(number, chain, event)

    def _link(self, number: int, chain: _Chain, event: dict[str, Any]) -> None:
        problem = _link_problem(chain, event)
        if problem:
            chain.broken = True  # the first break of a chain is reported; what follows it cannot link
            self.problems.append(
                f"events.jsonl line {number}: debtor {chain.debtor_id} seq {event.get('seq')}: {problem}"
            )
            return
        if self.masked and not event.get("redacted") and masked_line(cast(AuditEvent, event)) is not event:
            self.problems.append(f"events.jsonl line {number}: an address or message text shown in a masked bundle")
        chain.next_seq, chain.last_hash = chain.next_seq + 1, event["hash"]
        anchored = self.needed.pop((chain.chain, event["seq"]), None)
        if anchored and anchored[0] != event["hash"]:
            self.problems.append(
                f"{anchored[1]}: debtor {chain.debtor_id} seq {event['seq']}: the anchored hash is not the one "
                f"in events.jsonl line {number}"
            )

    def finish(self) -> None:
        for chain in self.chains.values():
            if not chain.broken:
                self._end_problem(chain)
        by_id = {c.chain: c for c in self.chains.values()}
        for (chain_id, seq), (_hash, name) in sorted(self.needed.items()):
            if not by_id[chain_id].broken:  # a broken chain's first break is its problem
                debtor = by_id[chain_id].debtor_id
                self.problems.append(f"{name}: debtor {debtor} seq {seq}: the anchored event is not in events.jsonl")

    def _end_problem(self, chain: _Chain) -> None:
        where = f"events.jsonl: debtor {chain.debtor_id}"
        if chain.next_seq - 1 != chain.last_seq:
            ends = f"ends at seq {chain.next_seq - 1}" if chain.rows else "has no events"
            self.problems.append(f"{where} {ends}; manifest.json says it runs to seq {chain.last_seq}")
        elif chain.last_hash != chain.head_hash:
            self.problems.append(f"{where} seq {chain.last_seq}: hash is not the manifest's head_hash")


def _link_problem(chain: _Chain, event: dict[str, Any]) -> str | None:
    if event.get("seq") != chain.next_seq:
        if chain.next_seq > chain.last_seq:
            return f"after the chain's last seq {chain.last_seq} in manifest.json"
        return f"expected seq {chain.next_seq} (a line is missing, added or out of order)"
    if not isinstance(event.get("hash"), str):
        return "the event has no hash"
    if event.get("prev_hash") != chain.last_hash:
        first = chain.next_seq == chain.first_seq
        return "prev_hash is not the manifest's prev_hash" if first else "prev_hash is not the previous event's hash"
    if event.get("redacted") is True and (
        any(k in event for k in CONTENT_KEYS) or not isinstance(event.get("content_hash"), str)
    ):
        return "a redacted stub must carry content_hash and none of the content"
    if "masked" in event and (
        event.get("redacted") or not isinstance(event.get("content_hash"), str) or not _pointers_ok(event)
    ):
        return "a masked line must carry content_hash and name what it hides by JSON pointer"
    if line_hash(event) != event.get("hash"):
        return "hash does not match the event's content"
    return None


def _pointers_ok(line: dict[str, Any]) -> bool:
    """``masked`` lists JSON pointers, each to a value the line shows."""
    pointers = line.get("masked")
    if not isinstance(pointers, list) or not pointers:
        return False
    for pointer in pointers:
        target: Any = line
        for token in str(pointer).split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and token in target:
                target = target[token]
            elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
                target = target[int(token)]
            else:
                return False
    return True


def _check_events(
    path: Path,
    counts: dict[str, Any],
    chains: dict[str, _Chain],
    needed: dict[tuple[str, int], tuple[str, str]],
    report: BundleReport,
    masked: bool = False,
) -> None:
    walk = _EventWalk(chains, needed, masked)
    with path.open("rb") as stream:
        for number, text in enumerate(stream, start=1):
            walk.line(number, text)
    walk.finish()
    report.problems += walk.problems
    report.events, report.chains = walk.rows, len(chains)
    events, redacted = counts.get("events", 0), counts.get("redacted", 0)
    if events + redacted != walk.rows:
        report.problems.append(
            f"events.jsonl: {walk.rows} rows; manifest.json counts {events} events + {redacted} redacted"
        )
    elif redacted != walk.redacted:
        report.problems.append(f"events.jsonl: {walk.redacted} redacted stubs; manifest.json counts {redacted}")
