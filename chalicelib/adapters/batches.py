"""DynamoDB: batches of contact requests, a header and one result item per request, in one partition."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters.errors import storage_errors
from chalicelib.domain.errors import ConflictError

HEADER = -1  # the header's sort key; results are 0 .. total-1


class DynamoDBBatches:
    """``pk`` = tenant#batch_id, ``item`` = the request's index (the header: -1)."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def _put(self, pk: str, item: int, document: dict[str, Any], ttl: int) -> bool:
        """True when written; False when the item was already there (a redelivery or a replay)."""
        record = {
            "pk": {"S": pk},
            "item": {"N": str(item)},
            "doc": {"S": json.dumps(document, ensure_ascii=False)},
            "expires_at": {"N": str(ttl)},
        }
        try:
            with storage_errors():
                self._client.put_item(
                    TableName=self._table, Item=record, ConditionExpression="attribute_not_exists(pk)"
                )
        except ConflictError:
            return False
        return True

    def create(self, pk: str, header: dict[str, Any], ttl: int) -> bool:
        return self._put(pk, HEADER, header, ttl)

    def replace_header(self, pk: str, header: dict[str, Any], ttl: int) -> None:
        """The header once every request is queued (or recorded as not queued)."""
        record = {
            "pk": {"S": pk},
            "item": {"N": str(HEADER)},
            "doc": {"S": json.dumps(header, ensure_ascii=False)},
            "expires_at": {"N": str(ttl)},
        }
        with storage_errors():
            self._client.put_item(TableName=self._table, Item=record)

    def record(self, pk: str, index: int, result: dict[str, Any], ttl: int) -> bool:
        return self._put(pk, index, result, ttl)

    def read(self, pk: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The header and every result recorded so far, in index order (strongly consistent)."""
        query = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
        }
        header, results = None, []
        with storage_errors():
            for page in self._client.get_paginator("query").paginate(**query):
                for raw in page["Items"]:
                    document = json.loads(raw["doc"]["S"])
                    if int(raw["item"]["N"]) == HEADER:
                        header = document
                    else:
                        results.append(document)
        return header, results
