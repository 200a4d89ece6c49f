"""DynamoDB: pacing counters and tenant settings, small items of the keys table (docs/decisions/0017).

Items: ``@pace#<channel>#<shard>`` and ``@pace#<channel>@<tenant>`` hold a counter's theoretical arrival
time ``tat`` (epoch seconds); ``@settings@<tenant>`` holds a tenant's settings and their ``version``. None
of them has the ``tenant`` and ``key_id`` attributes of a key, so the ``by_tenant`` index never lists them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from chalicelib.adapters.errors import storage_errors
from chalicelib.domain.errors import ConflictError, StorageUnavailableError
from chalicelib.domain.pacing import take_slot

TRIES = 4  # two writers racing over one idle counter: one of them finds it busy on the next try


def _number(value: float) -> dict[str, str]:
    return {"N": str(Decimal(repr(round(value, 6))))}


class DynamoDBPacer:
    """A GCRA counter per key. A busy counter takes one conditional ``UpdateItem`` per slot (``tat`` moves
    on by the interval); an idle one is set to the present. Which is tried first follows what this
    process last found, so a slot costs one write in either regime, two at a change."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table
        self._busy: dict[str, bool] = {}

    def take(self, key: str, interval: float, now: float) -> float:
        """The slot (epoch seconds) the next contact of ``key`` may go out at; ``interval`` s per slot."""
        for _ in range(TRIES):
            order = (self._take_busy, self._take_idle) if self._busy.get(key) else (self._take_idle, self._take_busy)
            for take in order:
                try:
                    return take(key, interval, now)
                except ConflictError:
                    continue
        raise StorageUnavailableError(f"the pacing counter {key} stayed contended")

    def _take_busy(self, key: str, interval: float, now: float) -> float:
        with storage_errors():
            answer = self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": key}},
                UpdateExpression="SET tat = tat + :i",
                ConditionExpression="tat > :now",  # busy: the slot is the counter's, after every slot taken
                ExpressionAttributeValues={":i": _number(interval), ":now": _number(now)},
                ReturnValues="UPDATED_NEW",
            )
        self._busy[key] = True
        return float(answer["Attributes"]["tat"]["N"]) - interval

    def _take_idle(self, key: str, interval: float, now: float) -> float:
        slot, tat = take_slot(None, now, interval)
        with storage_errors():
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": key}},
                UpdateExpression="SET tat = :tat",
                ConditionExpression="attribute_not_exists(tat) OR tat <= :now",  # idle: no slot is ahead
                ExpressionAttributeValues={":tat": _number(tat), ":now": _number(now)},
            )
        self._busy[key] = False
        return slot


class DynamoDBTenantSettings:
    """One item per tenant; a change is conditional on the version read, so two admins never lose one."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def get(self, tenant: str) -> tuple[dict[str, Any], int]:
        """The tenant's stored settings and their version (0: never set)."""
        with storage_errors():
            item = self._client.get_item(
                TableName=self._table, Key={"pk": {"S": f"@settings@{tenant}"}}, ConsistentRead=True
            ).get("Item")
        if not item:
            return {}, 0
        return json.loads(item["settings"]["S"]), int(item["version"]["N"])

    def put(self, tenant: str, settings: dict[str, Any], expected_version: int) -> None:
        """Raises ConflictError when another change came first."""
        condition = "attribute_not_exists(pk)" if expected_version == 0 else "version = :v"
        values = {":v": {"N": str(expected_version)}} if expected_version else {}
        with storage_errors():
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": f"@settings@{tenant}"},
                    "settings": {"S": json.dumps(settings, sort_keys=True)},
                    "version": {"N": str(expected_version + 1)},
                },
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
