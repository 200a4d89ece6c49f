"""S3 (anchors, export bundles), KMS (manifest signatures), SQS (export jobs) and the jobs table."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import Any

from chalicelib.adapters.errors import storage_errors
from chalicelib.domain.errors import StorageUnavailableError

PART_SIZE = 8 * 1024 * 1024  # S3 multipart parts are at least 5 MiB, except the last


class S3StreamWriter:
    """Writes one object in parts as it is produced: memory holds at most one part.

    Counts bytes and computes SHA-256 on the way, so the manifest needs no second read.
    """

    def __init__(self, client: Any, bucket: str, key: str, content_type: str) -> None:
        self._client, self._bucket, self._key, self._type = client, bucket, key, content_type
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._upload_id: str | None = None
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.sha256.update(data)
        self.size += len(data)
        self._buffer += data
        if len(self._buffer) >= PART_SIZE:
            self._flush_part()

    def _flush_part(self) -> None:
        with storage_errors():
            if self._upload_id is None:
                created = self._client.create_multipart_upload(
                    Bucket=self._bucket, Key=self._key, ContentType=self._type
                )
                self._upload_id = created["UploadId"]
            number = len(self._parts) + 1
            part = self._client.upload_part(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=bytes(self._buffer),
            )
        self._parts.append({"PartNumber": number, "ETag": part["ETag"]})
        self._buffer.clear()

    def close(self) -> str:
        """Finish the object; returns its SHA-256 in hex."""
        with storage_errors():
            if self._upload_id is None:
                self._client.put_object(
                    Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer), ContentType=self._type
                )
            else:
                if self._buffer:
                    self._flush_part()
                self._client.complete_multipart_upload(
                    Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
                )
        self._buffer.clear()
        return self.sha256.hexdigest()


class S3Objects:
    """One bucket: streamed writes, locked writes and their first versions, presigned downloads."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def writer(self, key: str, content_type: str) -> S3StreamWriter:
        return S3StreamWriter(self._client, self.bucket, key, content_type)

    def put_locked(self, key: str, body: bytes, retain_until: datetime) -> str | None:
        """Write once under Object Lock (compliance mode): nobody can delete or overwrite it before
        ``retain_until``. Returns the version id."""
        with storage_errors():
            response = self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                ContentMD5=base64.b64encode(hashlib.md5(body).digest()).decode(),  # required with Object Lock
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=retain_until,
            )
        return response.get("VersionId")

    def get_original(self, key: str) -> tuple[bytes | None, int]:
        """The first version ever written under ``key`` (the one Object Lock protects) and how many
        versions and delete markers the key has: more than one means someone tried to replace it."""
        with storage_errors():
            listed = self._client.list_object_versions(Bucket=self.bucket, Prefix=key)
        versions = [v for v in listed.get("Versions", []) if v["Key"] == key]
        markers = [m for m in listed.get("DeleteMarkers", []) if m["Key"] == key]
        if not versions:
            return None, len(markers)
        first = min(versions, key=lambda v: (v["LastModified"], v["IsLatest"]))
        with storage_errors():
            body = self._client.get_object(Bucket=self.bucket, Key=key, VersionId=first["VersionId"])["Body"].read()
        return bytes(body), len(versions) + len(markers)

    def list_keys(self, prefix: str, start_after: str | None = None, limit: int = 1000) -> list[str]:
        """Every key ever written under ``prefix``, in order, even those a delete marker now hides."""
        keys: set[str] = set()
        paginator = self._client.get_paginator("list_object_versions")
        extra = {"KeyMarker": start_after} if start_after else {}
        with storage_errors():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, **extra):
                keys |= {v["Key"] for v in page.get("Versions", []) + page.get("DeleteMarkers", [])}
                if len(keys) > limit:
                    break
        return sorted(keys)[:limit]

    def presigned_url(self, key: str, expires_in: int) -> str:
        return str(
            self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
            )
        )


class KmsSigner:
    """Signs with an asymmetric KMS key (ECC_NIST_P256, ECDSA_SHA_256): the same in AWS and moto,
    and checkable offline with the public key (``openssl dgst -sha256 -verify``)."""

    ALGORITHM = "ECDSA_SHA_256"

    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        self.key_id = key_id
        self._public_pem: str | None = None

    def sign(self, message: bytes) -> bytes:
        """Sign a short message (KMS hashes it: MessageType RAW, at most 4 KB). RAW, not DIGEST: moto
        hashes a DIGEST message again, AWS does not, and a signature must verify the same in both."""
        with storage_errors():
            response = self._client.sign(
                KeyId=self.key_id, Message=message, MessageType="RAW", SigningAlgorithm=self.ALGORITHM
            )
        return bytes(response["Signature"])  # DER-encoded ECDSA signature

    def public_key_pem(self) -> str:
        if self._public_pem is None:
            with storage_errors():
                der = self._client.get_public_key(KeyId=self.key_id)["PublicKey"]
            body = base64.encodebytes(der).decode().replace("\n", "")
            lines = [body[i : i + 64] for i in range(0, len(body), 64)]
            self._public_pem = "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"
        return self._public_pem


SQS_BATCH_BYTES = 250_000  # SendMessageBatch takes 256 KiB in all (bodies and ids); a margin for the ids


def _chunks(bodies: list[str]) -> list[list[tuple[int, str]]]:
    chunks: list[list[tuple[int, str]]] = [[]]
    size = 0
    for index, body in enumerate(bodies):
        length = len(body.encode())
        if chunks[-1] and (len(chunks[-1]) == 10 or size + length > SQS_BATCH_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append((index, body))
        size += length
    return [c for c in chunks if c]


class SqsQueue:
    def __init__(self, client: Any, queue_name: str) -> None:
        self._client = client
        self._name = queue_name
        self._url: str | None = None

    def _queue_url(self) -> str:
        if self._url is None:
            with storage_errors():
                self._url = str(self._client.get_queue_url(QueueName=self._name)["QueueUrl"])
        return self._url

    def send(self, message: dict[str, Any]) -> None:
        with storage_errors():
            self._client.send_message(QueueUrl=self._queue_url(), MessageBody=json.dumps(message))

    def send_many(self, messages: list[dict[str, Any]], delays: list[int] | None = None) -> list[int]:
        """SendMessageBatch, at most ten and 256 KB a call; returns the indexes of the messages SQS did not take.

        ``delays``: seconds each message stays invisible (0-900)."""
        failed: list[int] = []
        # ASCII bodies: SQS refuses some characters JSON may carry raw (U+FFFE, U+FFFF)
        for chunk in _chunks([json.dumps(m) for m in messages]):
            entries: list[dict[str, Any]] = [{"Id": str(i), "MessageBody": body} for i, body in chunk]
            if delays is not None:
                entries = [
                    {**entry, "DelaySeconds": delays[i]} for entry, (i, _body) in zip(entries, chunk, strict=True)
                ]
            try:
                with storage_errors():
                    answer = self._client.send_message_batch(QueueUrl=self._queue_url(), Entries=entries)
            except StorageUnavailableError:  # this call's messages were not taken; the others stand
                failed += [i for i, _body in chunk]
                continue
            failed += [int(f["Id"]) for f in answer.get("Failed", [])]
        return failed

    def delete_many(self, receipts: list[tuple[str, str]]) -> None:
        """(message id, receipt handle) pairs: messages handled, never to be delivered again."""
        for start in range(0, len(receipts), 10):
            entries = [{"Id": mid, "ReceiptHandle": handle} for mid, handle in receipts[start : start + 10]]
            with storage_errors():
                self._client.delete_message_batch(QueueUrl=self._queue_url(), Entries=entries)


class DynamoDBJobs:
    """Long-running jobs (exports): one item per job, state changes conditioned on the state read."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def create(self, job_id: str, job: dict[str, Any]) -> None:
        with storage_errors():
            self._client.put_item(
                TableName=self._table,
                Item={"id": {"S": job_id}, "job": {"S": json.dumps(job)}, "version": {"N": "1"}},
                ConditionExpression="attribute_not_exists(id)",
            )

    def get(self, job_id: str) -> tuple[dict[str, Any], int] | None:
        with storage_errors():
            item = self._client.get_item(TableName=self._table, Key={"id": {"S": job_id}}, ConsistentRead=True).get(
                "Item"
            )
        if not item:
            return None
        return json.loads(item["job"]["S"]), int(item["version"]["N"])

    def update(self, job_id: str, job: dict[str, Any], version: int) -> int:
        """Replace the job if nobody changed it since ``version``; raises ConflictError otherwise."""
        with storage_errors():
            self._client.put_item(
                TableName=self._table,
                Item={"id": {"S": job_id}, "job": {"S": json.dumps(job)}, "version": {"N": str(version + 1)}},
                ConditionExpression="version = :v",
                ExpressionAttributeValues={":v": {"N": str(version)}},
            )
        return version + 1
