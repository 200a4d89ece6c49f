"""Webhooks: registrations and recent attempts in DynamoDB, secrets sealed by KMS, and the HTTP client that
posts to receivers (docs/decisions/0031)."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from boto3.dynamodb.types import TypeSerializer

from chalicelib.adapters.dynamodb import plain_item
from chalicelib.adapters.errors import storage_errors
from chalicelib.domain.masking import mask_text
from chalicelib.domain.ports import Answer

_SER = TypeSerializer()


class DynamoDBWebhooks:
    """One table: ``pk`` = ``hook#<tenant>``, ``sk`` = the webhook id (a registration); ``pk`` =
    ``log#<tenant>#<webhook id>``, ``sk`` = ``<at>#<message id>#<attempt>`` (an attempt, gone after its TTL)."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def put(self, hook: dict[str, Any]) -> None:
        item = {"pk": f"hook#{hook['tenant']}", "sk": hook["webhook_id"], **hook}
        with storage_errors():
            self._client.put_item(
                TableName=self._table,
                Item={k: _SER.serialize(v) for k, v in item.items() if v is not None},
                ConditionExpression="attribute_not_exists(pk)",
            )

    def for_tenant(self, tenant: str) -> list[dict[str, Any]]:
        query = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"hook#{tenant}"}},
            "ConsistentRead": True,
        }
        with storage_errors():
            pages = self._client.get_paginator("query").paginate(**query)
            return [_plain(i) for page in pages for i in page["Items"]]

    def delete(self, tenant: str, webhook_id: str) -> bool:
        key = {"pk": {"S": f"hook#{tenant}"}, "sk": {"S": webhook_id}}
        with storage_errors():
            answer = self._client.delete_item(TableName=self._table, Key=key, ReturnValues="ALL_OLD")
        return "Attributes" in answer

    def record(self, tenant: str, webhook_id: str, attempt: dict[str, Any], ttl: int) -> None:
        sort = f"{attempt['at']}#{attempt['msg_id']}#{attempt['attempt']:02d}"
        item = {"pk": f"log#{tenant}#{webhook_id}", "sk": sort, **attempt, "expires_at": ttl}
        with storage_errors():
            self._client.put_item(
                TableName=self._table, Item={k: _SER.serialize(v) for k, v in item.items() if v is not None}
            )

    def recent(self, tenant: str, webhook_id: str, limit: int) -> list[dict[str, Any]]:
        with storage_errors():
            answer = self._client.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"log#{tenant}#{webhook_id}"}},
                ScanIndexForward=False,
                Limit=limit,
            )
        return [_plain(i) for i in answer["Items"]]


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    plain = plain_item(item)
    for key in ("pk", "sk", "expires_at"):
        plain.pop(key, None)
    return {k: int(v) if isinstance(v, Decimal) else v for k, v in plain.items()}


class KmsSecretBox:
    """Webhook secrets sealed under their own KMS key, bound to the tenant and webhook by the encryption
    context: a sealed secret copied onto another webhook does not open."""

    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        self._key_id = key_id

    def seal(self, secret: bytes, context: Mapping[str, str]) -> bytes:
        with storage_errors():
            answer = self._client.encrypt(KeyId=self._key_id, Plaintext=secret, EncryptionContext=dict(context))
        return bytes(answer["CiphertextBlob"])

    def open(self, sealed: bytes, context: Mapping[str, str]) -> bytes:
        with storage_errors():
            answer = self._client.decrypt(CiphertextBlob=sealed, EncryptionContext=dict(context), KeyId=self._key_id)
        return bytes(answer["Plaintext"])


class _Pinned(http.client.HTTPConnection):
    """Connects to the address that was checked, not to whatever the host resolves to a moment later."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedTls(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class HttpWebhookPoster:
    """``http.client`` over a connection pinned to the checked address; redirects are answers, not followed.
    ``timeout`` bounds each connect and read: a slow receiver holds one worker for seconds, not minutes."""

    EXCERPT = 200

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout

    def resolve(self, host: str) -> list[str]:
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            return []
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    def post(self, url: str, address: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        parts = urlsplit(url)
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        kind = _PinnedTls if tls else _Pinned
        connection = kind(parts.hostname or "", port, address, self.timeout)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        started = time.monotonic()
        try:
            connection.request("POST", path, body=body, headers={**headers, "Content-Type": "application/json"})
            response = connection.getresponse()
            excerpt = response.read(4 * self.EXCERPT).decode("utf-8", "replace")
            return Answer(response.status, mask_text(excerpt)[: self.EXCERPT], _ms(started))
        except (OSError, http.client.HTTPException) as exc:
            return Answer(None, f"{type(exc).__name__}: {exc}"[: self.EXCERPT], _ms(started))
        finally:
            connection.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
