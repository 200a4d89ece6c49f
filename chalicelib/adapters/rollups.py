"""DynamoDB: the daily rollup's counters and the last invariant check, small items of the keys table.

Items: ``@rollup@<tenant>@<day>@<shard>`` hold one counter attribute per ``domain/rollup.py`` name, added to
by one ``UpdateItem ADD`` per appender batch, tenant and day, on a shard picked at random: a busy day of a
tenant is ``ROLLUP_SHARDS`` keys, not one. ``@invariants@<tenant>`` holds the last check's result. None has
the ``tenant`` and ``key_id`` attributes of a key, so the ``by_tenant`` index never lists them
(docs/decisions/0037-daily-rollup.md).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from chalicelib.adapters.errors import storage_errors

ROLLUP_SHARDS = 8
BATCH_GET = 100  # keys a BatchGetItem takes


def rollup_key(tenant: str, day: str, shard: int) -> str:
    return f"@rollup@{tenant}@{day}@{shard}"


class DynamoDBRollups:
    def __init__(
        self,
        client: Any,
        table: str,
        shards: int = ROLLUP_SHARDS,
        pick: Callable[[int], int] = random.randrange,
    ) -> None:
        self._client, self._table, self._shards, self._pick = client, table, shards, pick

    def add(self, tenant: str, day: str, counts: Mapping[str, int]) -> None:
        """One write: every counter of the batch added at once (ADD creates what is missing)."""
        names = {f"#c{i}": name for i, name in enumerate(sorted(counts))}
        values = {f":c{i}": {"N": str(counts[name])} for i, name in enumerate(sorted(counts))}
        if not names:
            return
        with storage_errors():
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": rollup_key(tenant, day, self._pick(self._shards))}},
                UpdateExpression="ADD " + ", ".join(f"{n} {n.replace('#', ':')}" for n in names),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )

    def read(self, tenant: str, days: Sequence[str]) -> dict[str, dict[str, int]]:
        """Each day's counters, summed over its shards: ``len(days) * ROLLUP_SHARDS`` keys by BatchGetItem."""
        keys = [rollup_key(tenant, day, shard) for day in days for shard in range(self._shards)]
        found: dict[str, dict[str, int]] = {day: {} for day in days}
        for start in range(0, len(keys), BATCH_GET):
            for item in self._batch_get(keys[start : start + BATCH_GET]):
                day = item["pk"]["S"].split("@")[3]
                totals = found.setdefault(day, {})
                for name, value in item.items():
                    if name != "pk" and "N" in value:
                        totals[name] = totals.get(name, 0) + int(value["N"])
        return found

    def _batch_get(self, keys: list[str]) -> list[dict[str, Any]]:
        request: dict[str, Any] = {self._table: {"Keys": [{"pk": {"S": k}} for k in keys]}}
        items: list[dict[str, Any]] = []
        while request:
            with storage_errors():
                answer = self._client.batch_get_item(RequestItems=request)
            items += answer.get("Responses", {}).get(self._table, [])
            request = answer.get("UnprocessedKeys") or {}
        return items

    def record_check(self, tenant: str, result: Mapping[str, Any]) -> None:
        with storage_errors():
            self._client.put_item(
                TableName=self._table,
                Item={"pk": {"S": f"@invariants@{tenant}"}, "result": {"S": json.dumps(dict(result), sort_keys=True)}},
            )

    def last_check(self, tenant: str) -> dict[str, Any] | None:
        with storage_errors():
            item = self._client.get_item(TableName=self._table, Key={"pk": {"S": f"@invariants@{tenant}"}}).get("Item")
        return dict(json.loads(item["result"]["S"])) if item else None
