"""What the in-process benches share: times, API keys, a contact request and the ledger stream read by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.domain.access import Role
from chalicelib.domain.model import ContactRequest
from chalicelib.services import keys


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class KeyRing:
    """Keys of one tenant, one per role, issued through the product's own service on first use."""

    def __init__(self, gateway: Any, tenant: str) -> None:
        self.gateway, self.tenant = gateway, tenant
        self._keys: dict[Role, str] = {}

    def key(self, role: Role) -> str:
        if role not in self._keys:
            g = self.gateway
            issued = keys.issue_key(
                g.keys, g.deps, datetime.now(UTC), tenant=self.tenant, role=role, created_by="bench"
            )
            self._keys[role] = str(issued.key)
        return self._keys[role]


def make_request(**overrides: Any) -> ContactRequest:
    """A text to a debtor in Atlanta, tenant ``local``; ``overrides`` replace fields."""
    fields: dict[str, Any] = {
        "tenant": "local",
        "debtor_id": "d-1",
        "account_id": "a-1",
        "channel": "sms",
        "to": "+14045550100",
        "location": {"country": "US", "subdivision": "GA"},
        "message": {"body": "Your payment is overdue. Reply STOP to opt out."},
    }
    fields.update(overrides)
    return ContactRequest.model_validate(fields)


class LedgerStream:
    """The ledger table's stream read through moto, as Lambda's event source mapping would: each ``drain``
    hands the records since the last one to the audit appender's handler."""

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway
        # Account-based endpoints (<account>.streams-ddb...) are not routed by moto's in-process mock.
        config = Config(account_id_endpoint_mode="disabled")
        self.streams = boto3.client("dynamodbstreams", region_name=gateway.settings.region, config=config)
        arn = gateway.clients.dynamodb.describe_table(TableName=gateway.settings.ledger_table)["Table"][
            "LatestStreamArn"
        ]
        [shard] = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self.iterator = self.streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def records(self) -> list[dict[str, Any]]:
        page = self.streams.get_records(ShardIterator=self.iterator)
        self.iterator = page["NextShardIterator"]
        return list(page["Records"])

    def drain(self, records: list[dict[str, Any]] | None = None) -> dict[str, int]:
        from chalicelib.entrypoints import audit_appender

        records = self.records() if records is None else records
        return audit_appender.handle_stream({"Records": records}, self.gateway.deps.ledgers, self.gateway.audit)
