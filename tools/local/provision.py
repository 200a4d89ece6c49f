"""Tables, sender identity and topics the gateway needs; created idempotently (local stack, tests).

In AWS the same resources come from the packaged template; these specs are the one description
of their keys and indexes.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import resources
from chalicelib.settings import Settings


def _gsi(name: str, hash_key: str, range_key: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": hash_key, "KeyType": "HASH"}, {"AttributeName": range_key, "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "KEYS_ONLY" if name in ("due", "pending") else "ALL"},
    }


# What an audit query filters on (services.audit_read), and the debtor an export's plan reads.
AUDIT_FILTERED = ("debtor_id", "type", "channel", "outcome")


def _include(*attributes: str) -> dict[str, Any]:
    return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(attributes)}


def table_specs(settings: Settings) -> list[dict[str, Any]]:
    def attrs(**kinds: str) -> list[dict[str, str]]:
        return [{"AttributeName": n, "AttributeType": t} for n, t in kinds.items()]

    audit_keys = _include("tenant", "debtor_id", "hash")
    ledger_indexes = [_gsi("due", "due_shard", "due_at"), _gsi("pending", "pending_shard", "pending_since")]
    for index in ledger_indexes:  # the keys to load the ledger by
        index["Projection"] = {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["tenant", "debtor_id"]}
    return [
        {
            "TableName": settings.ledger_table,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": attrs(pk="S", due_shard="S", due_at="S", pending_shard="S", pending_since="S"),
            "GlobalSecondaryIndexes": ledger_indexes,
            # The audit appender reads every committed ledger from here (docs/decisions/0010).
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        },
        {
            "TableName": settings.audit_table,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "seq", "KeyType": "RANGE"}],
            "AttributeDefinitions": attrs(
                pk="S",
                seq="N",
                contact_key="S",
                day_key="S",
                at_key="S",
                account_key="S",
                expiry_day="S",
                expires_at="N",
                address_key="S",
            ),
            # Keys and what a query filters on, never the body: a whole item in an index cost a sent text
            # six write units more; readers take the bodies from the table by key (docs/decisions/0016).
            "GlobalSecondaryIndexes": [
                {**_gsi("by_contact", "contact_key", "seq"), "Projection": _include("debtor_id", "contact_run")},
                # tenant x UTC day: date ranges without a scan
                {**_gsi("by_day", "day_key", "at_key"), "Projection": _include(*AUDIT_FILTERED, "account_key")},
                {**_gsi("by_account", "account_key", "at_key"), "Projection": _include(*AUDIT_FILTERED)},  # x debt
                {**_gsi("by_expiry", "expiry_day", "expires_at"), "Projection": audit_keys},  # retention pass
                # tenant x keyed hash of an address, on the events that name one (docs/decisions/0036)
                {**_gsi("by_address", "address_key", "at_key"), "Projection": _include("debtor_id", "contact_key")},
            ],
        },
        {
            "TableName": settings.jobs_table,
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": attrs(id="S"),
        },
        {
            "TableName": settings.batch_table,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "item", "KeyType": "RANGE"}],
            "AttributeDefinitions": attrs(pk="S", item="N"),
        },
        {
            "TableName": settings.keys_table,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": attrs(pk="S", tenant="S", key_id="S"),
            "GlobalSecondaryIndexes": [_gsi("by_tenant", "tenant", "key_id")],
        },
        {
            "TableName": settings.templates_table,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "AttributeDefinitions": attrs(pk="S", sk="S"),
        },
        {
            "TableName": settings.idempotency_table,
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": attrs(id="S"),
        },
        {
            # hook#<tenant> x webhook id: registrations; log#<tenant>#<webhook id> x <at>#...: recent attempts
            "TableName": settings.webhook_table,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "AttributeDefinitions": attrs(pk="S", sk="S"),
        },
    ]


def ensure_tables(dynamodb: Any, settings: Settings) -> None:
    existing = set(dynamodb.list_tables()["TableNames"])
    for spec in table_specs(settings):
        if spec["TableName"] not in existing:
            dynamodb.create_table(BillingMode="PAY_PER_REQUEST", **spec)
    ttl = ((settings.idempotency_table, "expiration"), (settings.audit_table, "expires_at"))
    for table, attribute in (*ttl, (settings.batch_table, "expires_at"), (settings.webhook_table, "expires_at")):
        try:
            dynamodb.update_time_to_live(
                TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
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


# Export jobs wait for their worker on resources.EXPORT_QUEUE.
EXPORT_VISIBILITY_SECONDS = 960
EXPORT_BUNDLE_DAYS = 7  # exports.AVAILABLE_FOR
# Batches of contact requests wait for their worker on resources.BATCH_QUEUE.
BATCH_VISIBILITY_SECONDS = 120
BATCH_MAX_RECEIVES = 6  # one more than the worker's own tries (services.batches.MAX_DELIVERIES)
# The dispatcher's fan-out on resources.DISPATCH_QUEUE: shard messages from the schedule, people messages from
# the shards (services.dispatch).
DISPATCH_VISIBILITY_SECONDS = 300  # ten people, or one shard's enqueueing, take seconds
DISPATCH_MAX_RECEIVES = 5  # then the dead letters; the next tick finds every person still due anyway


# Webhook messages on resources.WEBHOOK_QUEUE: a batch of ten posts, each bounded by the client's timeout.
WEBHOOK_VISIBILITY_SECONDS = 180
WEBHOOK_MAX_RECEIVES = 5  # a message whose handling keeps failing (not its receiver: that is retried) goes dead


def ensure_topics(sns: Any) -> list[str]:
    """CreateTopic is idempotent for the same name and attributes; returns the topic ARNs."""
    return [sns.create_topic(Name=name)["TopicArn"] for name in resources.TOPICS]


def ensure_buckets(s3: Any, settings: Settings) -> None:
    """The export bucket, and the anchor bucket under Object Lock (anchors can never be rewritten)."""
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if settings.export_bucket not in existing:
        s3.create_bucket(Bucket=settings.export_bucket)
    s3.put_bucket_lifecycle_configuration(  # bundles hold message text: gone a day after their links expire
        Bucket=settings.export_bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "expire-export-bundles",
                    "Filter": {"Prefix": "exports/"},
                    "Status": "Enabled",
                    "Expiration": {"Days": EXPORT_BUNDLE_DAYS + 1},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                }
            ]
        },
    )
    if settings.anchor_bucket not in existing:
        s3.create_bucket(Bucket=settings.anchor_bucket, ObjectLockEnabledForBucket=True)


def ensure_signing_key(kms: Any, settings: Settings) -> str:
    """An asymmetric key for export signatures, found by its alias."""
    alias = settings.signing_key_id
    try:
        return str(kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NotFoundException":
            raise
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Description="contact gateway exports")
    key_id = str(key["KeyMetadata"]["KeyId"])
    if alias.startswith("alias/"):
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    return key_id


def ensure_webhook_key(kms: Any, settings: Settings) -> str:
    """The symmetric key that seals webhooks' signing secrets, found by its alias."""
    alias = settings.webhook_key_id
    try:
        return str(kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NotFoundException":
            raise
    key_id = str(kms.create_key(Description="contact gateway webhook secrets")["KeyMetadata"]["KeyId"])
    if alias.startswith("alias/"):
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    return key_id


def ensure_webhook_queues(sqs: Any, settings: Settings) -> None:
    """The webhook queue and its dead letters (retries exhausted, or a message that cannot be handled)."""
    dead = sqs.create_queue(QueueName=f"{settings.webhook_queue}-dead")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": WEBHOOK_MAX_RECEIVES})
    attributes = {"VisibilityTimeout": str(WEBHOOK_VISIBILITY_SECONDS), "RedrivePolicy": redrive}
    sqs.create_queue(QueueName=settings.webhook_queue, Attributes=attributes)


def ensure_queues(sqs: Any, settings: Settings) -> str:
    # Longer than the worker may run (Lambda's 15 minutes), so a running export is not handed to a second one.
    attributes = {"VisibilityTimeout": str(EXPORT_VISIBILITY_SECONDS)}
    # A batch worker handles ten requests in well under a minute; a message it failed comes back after this,
    # and after the worker's last try (it records what still fails) the queue moves it to the dead letters.
    dead = sqs.create_queue(QueueName=f"{settings.batch_queue}-dead")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": BATCH_MAX_RECEIVES})
    batch = {"VisibilityTimeout": str(BATCH_VISIBILITY_SECONDS), "RedrivePolicy": redrive}
    sqs.create_queue(QueueName=settings.batch_queue, Attributes=batch)
    dispatch_dead = sqs.create_queue(QueueName=f"{settings.dispatch_queue}-dead")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=dispatch_dead, AttributeNames=["QueueArn"])["Attributes"]
    redrive = json.dumps({"deadLetterTargetArn": attrs["QueueArn"], "maxReceiveCount": DISPATCH_MAX_RECEIVES})
    dispatch = {"VisibilityTimeout": str(DISPATCH_VISIBILITY_SECONDS), "RedrivePolicy": redrive}
    sqs.create_queue(QueueName=settings.dispatch_queue, Attributes=dispatch)
    return str(sqs.create_queue(QueueName=settings.export_queue, Attributes=attributes)["QueueUrl"])


def ensure_all(clients: Any, settings: Settings) -> None:
    ensure_tables(clients.dynamodb, settings)
    ensure_sender(clients.sesv2, settings)
    ensure_topics(clients.sns)
    ensure_buckets(clients.s3, settings)
    ensure_signing_key(clients.kms, settings)
    ensure_queues(clients.sqs, settings)
    ensure_webhook_key(clients.kms, settings)
    ensure_webhook_queues(clients.sqs, settings)
