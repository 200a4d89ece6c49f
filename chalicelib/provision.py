"""Tables, sender identity and topics the gateway needs; created idempotently (local stack, tests).

In AWS the same resources come from the packaged template; these specs are the one description
of their keys and indexes.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.settings import Settings


def _gsi(name: str, hash_key: str, range_key: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": hash_key, "KeyType": "HASH"}, {"AttributeName": range_key, "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "KEYS_ONLY" if name in ("due", "pending") else "ALL"},
    }


def table_specs(settings: Settings) -> list[dict[str, Any]]:
    def attrs(**kinds: str) -> list[dict[str, str]]:
        return [{"AttributeName": n, "AttributeType": t} for n, t in kinds.items()]

    ledger_indexes = [_gsi("due", "due_shard", "due_at"), _gsi("pending", "pending_shard", "pending_since")]
    for index in ledger_indexes:  # the keys to load the ledger by
        index["Projection"] = {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["tenant", "debtor_id"]}
    return [
        {
            "TableName": settings.ledger_table,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": attrs(pk="S", due_shard="S", due_at="S", pending_shard="S", pending_since="S"),
            "GlobalSecondaryIndexes": ledger_indexes,
        },
        {
            "TableName": settings.audit_table,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "seq", "KeyType": "RANGE"}],
            "AttributeDefinitions": attrs(pk="S", seq="N", contact_key="S"),
            "GlobalSecondaryIndexes": [_gsi("by_contact", "contact_key", "seq")],
        },
        {
            "TableName": settings.idempotency_table,
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": attrs(id="S"),
        },
    ]


def ensure_tables(dynamodb: Any, settings: Settings) -> None:
    existing = set(dynamodb.list_tables()["TableNames"])
    for spec in table_specs(settings):
        if spec["TableName"] not in existing:
            dynamodb.create_table(BillingMode="PAY_PER_REQUEST", **spec)
    try:
        dynamodb.update_time_to_live(
            TableName=settings.idempotency_table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ValidationException":  # already enabled
            raise


def ensure_sender(sesv2: Any, settings: Settings) -> None:
    try:
        sesv2.create_email_identity(EmailIdentity=settings.ses_sender)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "AlreadyExistsException":
            raise


# Inbound SMS replies and SES bounce/complaint notifications arrive on these topics.
INBOUND_SMS_TOPIC = "gateway-inbound-sms"
SES_FEEDBACK_TOPIC = "gateway-ses-feedback"
TOPICS = (INBOUND_SMS_TOPIC, SES_FEEDBACK_TOPIC)


def ensure_topics(sns: Any) -> list[str]:
    """CreateTopic is idempotent for the same name and attributes; returns the topic ARNs."""
    return [sns.create_topic(Name=name)["TopicArn"] for name in TOPICS]


def ensure_all(clients: Any, settings: Settings) -> None:
    ensure_tables(clients.dynamodb, settings)
    ensure_sender(clients.sesv2, settings)
    ensure_topics(clients.sns)
