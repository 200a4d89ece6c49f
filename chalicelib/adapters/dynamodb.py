"""DynamoDB: the person ledger (commit point) and the append-only audit table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from chalicelib.adapters.errors import storage_errors
from chalicelib.domain.errors import ConflictError, StorageUnavailableError
from chalicelib.domain.ledger import Deferred, Ledger
from chalicelib.domain.model import ContactRecord, ContactRequest
from chalicelib.domain.policy import canonical_json
from chalicelib.domain.preferences import Preferences

_SER, _DES = TypeSerializer(), TypeDeserializer()
DUE_SHARD = "due"
PENDING_SHARD = "pending"


def utc_key(at: datetime) -> str:
    """Sortable UTC text, so a string range condition is a time range."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def person_key(tenant: str, debtor_id: str) -> str:
    return f"{tenant}#{debtor_id}"


def _ledger_item(ledger: Ledger) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": person_key(ledger.tenant, ledger.debtor_id),
        "tenant": ledger.tenant,
        "debtor_id": ledger.debtor_id,
        "version": ledger.version + 1,
        "seq": ledger.seq,
        "head": ledger.head,
        "history": json.dumps([r.model_dump(mode="json") for r in ledger.history]),
        "deferred": json.dumps([_deferred_json(d) for d in ledger.deferred]),
        "outbox": json.dumps(list(ledger.outbox)),
        "preferences": ledger.preferences.model_dump_json(),
        "commit_id": ledger.commit_id,
    }
    if ledger.next_due is not None:  # sparse index: only ledgers with deferred contacts
        item.update(due_shard=DUE_SHARD, due_at=utc_key(ledger.next_due))
    if ledger.outbox:  # sparse index: only ledgers whose events may be missing from the audit table
        item.update(
            pending_shard=PENDING_SHARD,
            pending_since=utc_key(min(datetime.fromisoformat(e["at"]) for e in ledger.outbox)),
        )
    return item


def _deferred_json(item: Deferred) -> dict[str, Any]:
    return {
        "contact_id": item.contact_id,
        "request": item.request.model_dump(mode="json"),
        "not_before": item.not_before.isoformat(),
        "attempts": item.attempts,
    }


def _ledger_from(item: dict[str, Any]) -> Ledger:
    return Ledger(
        tenant=item["tenant"],
        debtor_id=item["debtor_id"],
        version=int(item["version"]),
        seq=int(item["seq"]),
        head=item["head"],
        history=tuple(ContactRecord.model_validate(r) for r in json.loads(item["history"])),
        deferred=tuple(
            Deferred(
                contact_id=d["contact_id"],
                request=ContactRequest.model_validate(d["request"]),
                not_before=datetime.fromisoformat(d["not_before"]),
                attempts=d["attempts"],
            )
            for d in json.loads(item["deferred"])
        ),
        outbox=tuple(json.loads(item["outbox"])),
        preferences=Preferences.model_validate_json(item.get("preferences", "{}")),
        commit_id=item.get("commit_id", ""),
    )


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _DES.deserialize(v) for k, v in item.items()}


class DynamoDBLedger:
    """One item per tenant x person; every write is conditioned on the version read."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def get(self, tenant: str, debtor_id: str) -> Ledger:
        with storage_errors():
            response = self._client.get_item(
                TableName=self._table,
                Key={"pk": {"S": person_key(tenant, debtor_id)}},
                ConsistentRead=True,
            )
        item = response.get("Item")
        if not item:
            return Ledger(tenant=tenant, debtor_id=debtor_id)
        try:
            return _ledger_from(_plain(item))
        except (KeyError, TypeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            # A ledger that cannot be read cannot be counted against: fail closed.
            raise StorageUnavailableError(f"ledger item unreadable: {type(exc).__name__}") from exc

    def commit(self, ledger: Ledger, expected_version: int) -> None:
        item = {k: _SER.serialize(v) for k, v in _ledger_item(ledger).items()}
        item["version"] = {"N": str(expected_version + 1)}
        # The version condition is what makes caps hold across concurrent Lambdas: a writer that
        # read an older ledger loses, re-reads and re-evaluates.
        if expected_version == 0:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(expected_version)}},
            }
        with storage_errors():
            self._client.put_item(TableName=self._table, Item=item, **condition)

    def _keys(
        self, index: str, shard_attr: str, shard: str, sort_attr: str, until: datetime, limit: int
    ) -> list[tuple[str, str]]:
        with storage_errors():
            response = self._client.query(
                TableName=self._table,
                IndexName=index,
                KeyConditionExpression="#s = :s AND #t <= :t",
                ExpressionAttributeNames={"#s": shard_attr, "#t": sort_attr},
                ExpressionAttributeValues={":s": {"S": shard}, ":t": {"S": utc_key(until)}},
                Limit=limit,
            )
        return [(i["tenant"]["S"], i["debtor_id"]["S"]) for i in response.get("Items", [])]

    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        return self._keys("due", "due_shard", DUE_SHARD, "due_at", now, limit)

    def with_outbox(self, before: datetime, limit: int) -> list[tuple[str, str]]:
        return self._keys("pending", "pending_shard", PENDING_SHARD, "pending_since", before, limit)


class DynamoDBAuditLog:
    """Append-only: a conditional put per event; never an update or a delete."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def append(self, events: Sequence[dict[str, Any]]) -> None:
        for event in events:
            item = {
                "pk": {"S": person_key(event["tenant"], event["debtor_id"])},
                "seq": {"N": str(event["seq"])},
                "contact_key": {"S": f"{event['tenant']}#{event['contact_id']}"},
                "type": {"S": event["type"]},
                "at": {"S": event["at"]},
                "hash": {"S": event["hash"]},
                "body": {"S": canonical_json(event)},
            }
            try:
                with storage_errors():
                    self._client.put_item(
                        TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
                    )
            except ConflictError:
                # Already appended (a retry or the sweep): a sequence number is only ever given
                # to one committed event, so the stored one is this one.
                continue

    def record_incident(self, tenant: str, debtor_id: str, at: datetime, data: dict[str, Any]) -> None:
        """An attempt that failed before its commit point: kept outside the chain, in its own partition."""
        body = {"tenant": tenant, "debtor_id": debtor_id, "type": "incident", "at": at.isoformat(), "data": data}
        item = {
            "pk": {"S": f"{person_key(tenant, debtor_id)}#incidents"},
            "seq": {"N": str(int(at.timestamp() * 1_000_000))},
            "type": {"S": "incident"},
            "at": {"S": body["at"]},
            "body": {"S": canonical_json(body)},
        }
        with storage_errors():
            self._client.put_item(TableName=self._table, Item=item)

    def incidents(self, tenant: str, debtor_id: str) -> list[dict[str, Any]]:
        return self._query(
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": f"{person_key(tenant, debtor_id)}#incidents"}},
            ConsistentRead=True,
        )

    def for_person(
        self, tenant: str, debtor_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Oldest first, from ``after_seq``; with ``limit``, reads no more pages than it needs."""
        return self._query(
            KeyConditionExpression="pk = :p AND seq > :s",
            ExpressionAttributeValues={":p": {"S": person_key(tenant, debtor_id)}, ":s": {"N": str(after_seq)}},
            ConsistentRead=True,
            limit=limit,
        )

    def for_contact(self, tenant: str, contact_id: str) -> list[dict[str, Any]]:
        return self._query(
            IndexName="by_contact",
            KeyConditionExpression="contact_key = :c",
            ExpressionAttributeValues={":c": {"S": f"{tenant}#{contact_id}"}},
        )

    def _query(self, limit: int | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        pagination = {"MaxItems": limit, "PageSize": min(limit, 1000)} if limit else {}
        with storage_errors():
            paginator = self._client.get_paginator("query")
            for page in paginator.paginate(TableName=self._table, PaginationConfig=pagination, **kwargs):
                events += [json.loads(i["body"]["S"]) for i in page.get("Items", [])]
        return sorted(events, key=lambda e: e.get("seq", 0))
