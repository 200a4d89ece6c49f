"""DynamoDB: API keys, stored by the SHA-256 of the key (never the key), and the list of tenants."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from chalicelib.adapters.dynamodb import plain_item
from chalicelib.adapters.errors import storage_errors
from chalicelib.domain.access import AlreadyRevokedError
from chalicelib.domain.errors import ConflictError, NotFoundError

_SER, _DES = TypeSerializer(), TypeDeserializer()
# One item lists every tenant that was ever issued a key, so the daily pass can visit each without a Scan.
TENANTS_ITEM = {"pk": {"S": "@tenants"}}


class DynamoDBKeys:
    """``pk`` = hash of the key; GSI ``by_tenant`` (tenant, key_id) lists and finds a tenant's keys."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def put(self, record: dict[str, Any]) -> None:
        item = {k: _SER.serialize(v) for k, v in record.items() if v is not None}
        with storage_errors():
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
            self._client.update_item(
                TableName=self._table,
                Key=TENANTS_ITEM,
                UpdateExpression="ADD tenants :t",
                ExpressionAttributeValues={":t": {"SS": [record["tenant"]]}},
            )

    def get(self, hashed: str) -> dict[str, Any] | None:
        """Strongly consistent: a key revoked a moment ago is revoked now."""
        with storage_errors():
            item = self._client.get_item(TableName=self._table, Key={"pk": {"S": hashed}}, ConsistentRead=True)
        found = item.get("Item")
        return plain_item(found) if found and "tenant" in found else None

    def for_tenant(self, tenant: str) -> list[dict[str, Any]]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "by_tenant",
            "KeyConditionExpression": "tenant = :t",
            "ExpressionAttributeValues": {":t": {"S": tenant}},
        }
        items: list[dict[str, Any]] = []
        with storage_errors():
            for page in self._client.get_paginator("query").paginate(**query):
                items += [plain_item(i) for i in page["Items"]]
        return items

    def find(self, tenant: str, key_id: str) -> dict[str, Any]:
        with storage_errors():
            response = self._client.query(
                TableName=self._table,
                IndexName="by_tenant",
                KeyConditionExpression="tenant = :t AND key_id = :k",
                ExpressionAttributeValues={":t": {"S": tenant}, ":k": {"S": key_id}},
            )
        if not response["Items"]:
            raise NotFoundError(key_id)
        return plain_item(response["Items"][0])

    def revoke(self, hashed: str, at: str, by: str) -> None:
        """Conditional: revoking twice is a conflict, so the second caller is told, and audits nothing."""
        try:
            with storage_errors():
                self._client.update_item(
                    TableName=self._table,
                    Key={"pk": {"S": hashed}},
                    UpdateExpression="SET revoked_at = :at, revoked_by = :by",
                    ConditionExpression="attribute_exists(pk) AND attribute_not_exists(revoked_at)",
                    ExpressionAttributeValues={":at": {"S": at}, ":by": {"S": by}},
                )
        except ConflictError:
            raise AlreadyRevokedError(hashed[:16]) from None

    def tenants(self) -> list[str]:
        with storage_errors():
            item = self._client.get_item(TableName=self._table, Key=TENANTS_ITEM, ConsistentRead=True).get("Item")
        return sorted(_DES.deserialize(item["tenants"])) if item else []
