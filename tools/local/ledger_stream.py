"""The ledger table's stream read by hand, for in-process stacks that have no event source mapping."""

from __future__ import annotations

from typing import Any

from botocore.config import Config

from chalicelib.bootstrap import Runtime


class LedgerStream:
    """The ledger table's stream read through moto, as Lambda's event source mapping would: each ``drain``
    hands the records since the last one to the audit appender's handler."""

    def __init__(self, gateway: Runtime) -> None:
        self.gateway = gateway
        # Account-based endpoints (<account>.streams-ddb...) are not routed by moto's in-process mock. The
        # session comes from the gateway's own factory: moto drops boto3's default session on every start, and
        # a session made anew reads botocore's models again (a quarter of a second each).
        config = Config(account_id_endpoint_mode="disabled")
        session = gateway.clients.session_factory()
        self.streams = session.client("dynamodbstreams", region_name=gateway.settings.region, config=config)
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
        return audit_appender.audit_stream({"Records": records}, self.gateway)  # as the Lambda: webhooks told
