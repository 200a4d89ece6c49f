"""The exporter over in-memory stand-ins of its ports, so ``tracemalloc`` sees the exporter and nothing else.

An audit trail that generates chained events on demand and keeps none, a bucket that writes to local files
and a local ECDSA key: moto would hold every stored byte in this process. ``export`` runs one export over
them and answers its manifest and peak traced memory; ``make bench`` (``export_memory``) and
tests/unit/test_export_memory.py both use it.
"""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.domain.audit import Draft, link
from chalicelib.domain.events import AuditEvent, EventType
from chalicelib.services import exports
from chalicelib.services.unit_of_work import UnitOfWork

DAY = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


class GeneratedTrail:
    """``chains`` debtors with ``per_chain`` events each, all on DAY, rebuilt on every read."""

    def __init__(self, chains: int, per_chain: int) -> None:
        self.chains, self.per_chain = chains, per_chain

    def chain(self, index: int) -> list[AuditEvent]:
        drafts = [
            Draft(
                EventType.DECIDED if n % 2 else EventType.REQUESTED,
                f"ct_{index}_{n // 2}",
                {"outcome": "allow", "to": "+14045550100", "policy_version": "ps-test"} if n % 2 else {"to": "x"},
                "sms",
                f"acct-{index % 3}",
            )
            for n in range(self.per_chain)
        ]
        return link(drafts, tenant="t", debtor_id=f"d-{index:06d}", seq=0, head="0" * 64, at=DAY + timedelta(hours=9))

    def select(self, *, tenant: str, by: str, value: str, **kwargs: Any) -> Iterator[tuple[dict[str, Any], AuditEvent]]:
        assert by == "day"
        for index in range(self.chains):
            for event in self.chain(index):
                yield {"pk": f"t#{event['debtor_id']}", "seq": event["seq"]}, event

    def segment(self, tenant: str, debtor_id: str, first_seq: int, last_seq: int) -> Iterator[AuditEvent]:
        events = self.chain(int(debtor_id.removeprefix("d-")))
        yield from events[first_seq - 1 : last_seq]

    def by_keys(self, tenant: str, keys: list[tuple[str, int]]) -> list[AuditEvent]:
        chains = {d: self.chain(int(d.removeprefix("d-"))) for d, _seq in keys}
        return [chains[d][seq - 1] for d, seq in sorted(keys)]


class FileWriter:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("wb")
        self._sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._sha.update(data)
        self.size += len(data)

    def close(self) -> str:
        self._file.close()
        return self._sha.hexdigest()


class Directory:
    def __init__(self, root: Path) -> None:
        self.root = root

    def writer(self, key: str, content_type: str) -> FileWriter:
        return FileWriter(self.root / key)

    def presigned_url(self, key: str, expires_in: int) -> str:
        return (self.root / key).as_uri()


class LocalSigner:
    ALGORITHM = "ECDSA_SHA_256"
    key_id = "local-test-key"

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message, ec.ECDSA(hashes.SHA256()))

    def public_key_pem(self) -> str:
        public = self._key.public_key()
        return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def export(chains: int, root: Path, per_chain: int = 100) -> tuple[dict[str, Any], int]:
    unused: Any = None  # the exporter reads the trail, writes files and signs; it reaches for no other port
    deps = UnitOfWork(
        ledgers=unused,
        audit=GeneratedTrail(chains, per_chain),  # type: ignore[arg-type]
        sms=unused,
        email=unused,
        policies=unused,
        batches=unused,
        batch_queue=unused,
        jobs=unused,
        export_queue=unused,
        export_files=Directory(root),
        signer=LocalSigner(),
        anchors=None,
    )
    spec = exports.ExportSpec(start=DAY, end=DAY + timedelta(days=1), formats=("jsonl", "csv"))
    tracemalloc.start()
    try:
        manifest = exports.write_export_bundle("t", "ex_memory", spec, deps, datetime(2026, 3, 3, tzinfo=DAY.tzinfo))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return manifest, peak
