"""The buckets (ExportFiles, LockedObjects) and the signing key: one suite, run against the fakes and
S3 / KMS (moto)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from moto import mock_aws

from chalicelib.adapters.storage import KmsSigner, S3Objects
from chalicelib.bootstrap import Clients
from chalicelib.domain.ports import Signer
from chalicelib.settings import Settings
from tests.fakes import InMemoryObjects, LocalSigner
from tests.support import utc
from tools.local import provision

RETAIN = utc(2036, 1, 1)
UnderTest = tuple[Any, Callable[[str], bytes], Signer]


@pytest.fixture(params=["memory", "aws"])
def objects(request: pytest.FixtureRequest, aws_env: None) -> Iterator[UnderTest]:
    """The bucket (as export files and as locked objects), a reader of what a key holds now, the signer."""
    if request.param == "memory":
        fake = InMemoryObjects()
        yield fake, lambda key: fake.versions[key][-1], LocalSigner()
        return
    with mock_aws():
        settings = Settings()
        clients = Clients(settings)
        provision.ensure_buckets(clients.s3, settings)
        provision.ensure_signing_key(clients.kms, settings)

        def read(key: str) -> bytes:
            return bytes(clients.s3.get_object(Bucket=settings.anchor_bucket, Key=key)["Body"].read())

        bucket = S3Objects(clients.s3, settings.anchor_bucket)
        yield bucket, read, KmsSigner(clients.kms, settings.signing_key_id)


def test_a_streamed_file_holds_what_was_written_and_its_digest(objects: UnderTest) -> None:
    bucket, read, _ = objects
    writer = bucket.writer("exports/t/ex_1/events.jsonl", "application/x-ndjson")
    for line in (b'{"seq": 1}\n', b'{"seq": 2}\n'):
        writer.write(line)
    assert writer.size == 22
    assert writer.close() == hashlib.sha256(b'{"seq": 1}\n{"seq": 2}\n').hexdigest()
    assert read("exports/t/ex_1/events.jsonl") == b'{"seq": 1}\n{"seq": 2}\n'
    assert "exports/t/ex_1/events.jsonl" in bucket.presigned_url("exports/t/ex_1/events.jsonl", 3600)


def test_a_locked_object_reads_back_as_first_written_and_a_second_write_shows(objects: UnderTest) -> None:
    bucket, _, _ = objects
    assert bucket.get_original("anchors/t/2026-03-02.json") == (None, 0)
    assert bucket.put_locked("anchors/t/2026-03-02.json", b'{"first": true}', RETAIN)
    assert bucket.get_original("anchors/t/2026-03-02.json") == (b'{"first": true}', 1)
    bucket.put_locked("anchors/t/2026-03-02.json", b'{"second": true}', RETAIN)
    assert bucket.get_original("anchors/t/2026-03-02.json") == (b'{"first": true}', 2)


def test_locked_keys_are_listed_in_order_after_a_key_and_up_to_a_limit(objects: UnderTest) -> None:
    bucket, _, _ = objects
    for day in ("2026-03-03", "2026-03-01", "2026-03-02"):
        bucket.put_locked(f"anchors/t/{day}.json", b"{}", RETAIN)
    bucket.put_locked("anchors/u/2026-03-01.json", b"{}", RETAIN)
    days = [f"anchors/t/2026-03-0{d}.json" for d in (1, 2, 3)]
    assert bucket.list_keys("anchors/t/") == days
    assert bucket.list_keys("anchors/t/", start_after=days[0]) == days[1:]
    assert bucket.list_keys("anchors/t/", limit=2) == days[:2]


def test_a_signature_verifies_with_the_public_key_it_publishes(objects: UnderTest) -> None:
    _, _, signer = objects
    assert signer.ALGORITHM == "ECDSA_SHA_256" and signer.key_id
    key = serialization.load_pem_public_key(signer.public_key_pem().encode())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signer.sign(b"manifest checksum"), b"manifest checksum", ec.ECDSA(hashes.SHA256()))
