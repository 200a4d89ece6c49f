"""The production package: ``chalice package`` (SAM) merged with every resource the gateway needs.

    python -m tools.infra.package build/package            # make package: template + deployment.zip
    python -m tools.infra.package --template-only build/template   # make lint: the template alone, fast
    python -m tools.infra.package --write-policies          # after changing ACCESS: .chalice/policy-*.json

Chalice generates the functions, their triggers and the REST API; ``resources_template()`` adds the
tables, buckets, topics, queues, keys, SES configuration, alarms and gateway responses, and points each
function's environment and triggers at them through stage parameters (docs/decisions/0011). The tables'
keys and indexes come from ``tools.local.provision.table_specs``, the one description the local stack
also creates from. Each function has its own role; its policy is ``.chalice/policy-<function>.json``,
written from ``ACCESS`` below, which a test also checks against the calls each function makes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from itertools import chain
from pathlib import Path
from typing import Any

from chalicelib import http
from chalicelib.resources import SMS_DELIVERY_LOG
from chalicelib.settings import Settings
from tools import ROOT
from tools.infra import bytecode, findings
from tools.local import provision

CHALICE_DIR = ROOT / ".chalice"
STAGE = "prod"
NAMESPACE = "ContactGateway"  # POWERTOOLS_METRICS_NAMESPACE of every function

# chalice handler name -> the template's logical id of its function
FUNCTIONS = {
    "api_handler": "APIHandler",
    "bearer_auth": "BearerAuth",
    "inbound_sms": "InboundSms",
    "ses_feedback": "SesFeedback",
    "dispatcher": "Dispatcher",
    "dispatch_worker": "DispatchWorker",
    "export_worker": "ExportWorker",
    "batch_worker": "BatchWorker",
    "audit_stream": "AuditStream",
    "audit_daily": "AuditDaily",
    "webhook_sender": "WebhookSender",
    "sms_status": "SmsStatus",
}
# invoked by SNS / the schedule / CloudWatch Logs' subscription filters
ASYNC_FUNCTIONS = ("inbound_sms", "ses_feedback", "dispatcher", "audit_daily", "sms_status")
# Concurrency reserved for the handlers of STOPs, bounces and complaints: a dispatch herd may hold the rest of
# the Region's, and a STOP recorded late lets texts go out after it (docs/decisions/0023).
RESERVED = ("inbound_sms", "ses_feedback")

# Settings field -> logical id of the table; its keys and indexes are provision.table_specs'.
TABLES = {
    "ledger_table": "LedgerTable",
    "audit_table": "AuditTable",
    "jobs_table": "JobsTable",
    "batch_table": "BatchTable",
    "keys_table": "KeysTable",
    "templates_table": "TemplatesTable",
    "idempotency_table": "IdempotencyTable",
    "webhook_table": "WebhookTable",
    "sent_messages_table": "SentMessagesTable",
}
TTL = {"AuditTable": "expires_at", "IdempotencyTable": "expiration", "BatchTable": "expires_at"}
TTL["WebhookTable"] = "expires_at"  # delivery attempts are shown for a week
TTL["SentMessagesTable"] = "expires_at"

READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem")  # the ledger is read by key; its indexes by Query
WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem")
JOBS = ("dynamodb:GetItem", "dynamodb:PutItem")
IDEMPOTENCY = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")  # Powertools
# The audit table is append-only: a conditional PutItem adds an event; nothing updates or deletes one. Two
# roles hold it: the stream appender (every event and incident) and the daily pass (the retention re-put,
# conditional on everything but the TTL being unchanged); no request path writes it (docs/decisions/0029).
AUDIT_WRITE = ("dynamodb:PutItem",)
AUDIT_WRITERS = ("audit_stream", "audit_daily")
AUDIT_READ = ("dynamodb:GetItem", "dynamodb:Query")
AUDIT_ACTIONS = frozenset({"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"})
QUEUE_SEND = ("sqs:SendMessage", "sqs:GetQueueUrl")
QUEUE_RECEIVE = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")  # Lambda's SQS trigger
# A tenant's settings are read, a pacing counter takes a slot: items of the keys table (docs/decisions/0017).
PACING = ("dynamodb:GetItem", "dynamodb:UpdateItem")
SMS = ("sns:Publish",)
EMAIL = ("ses:SendEmail",)
KEY_USE = ("kms:Decrypt", "kms:GenerateDataKey")  # SQS and Secrets Manager under the data key
# The functions that sign unsubscribe links (every email carries one) or check them (the public route): the
# only ones that may read the secret, and the only ones told its ARN (docs/decisions/0027).
UNSUBSCRIBE_SIGNERS = ("api_handler", "dispatch_worker", "batch_worker")
SECRET_READ = ("secretsmanager:GetSecretValue",)

# What each function may do, by logical resource: "Table", "Table/index/name", "Table/stream", "Bucket",
# "Bucket/*" (objects), "Queue", "Key", and the pseudo-resources "sms" (phone numbers, never a topic),
# "email" (the sender identity and configuration set), "logs" (the function's own log group).
ACCESS: dict[str, dict[str, tuple[str, ...]]] = {
    "api_handler": {
        "LedgerTable": (*READ, *WRITE, "dynamodb:DescribeTable"),
        "AuditTable": AUDIT_READ,
        "AuditTable/index/by_contact": ("dynamodb:Query",),
        "AuditTable/index/by_day": ("dynamodb:Query",),
        "AuditTable/index/by_account": ("dynamodb:Query",),
        "IdempotencyTable": IDEMPOTENCY,
        "KeysTable": ("dynamodb:GetItem", *WRITE),
        "KeysTable/index/by_tenant": ("dynamodb:Query",),
        "TemplatesTable": ("dynamodb:GetItem", "dynamodb:Query", *WRITE),  # drafted, approved; a contact renders one
        "BatchTable": ("dynamodb:GetItem", "dynamodb:Query", *WRITE),
        "JobsTable": JOBS,
        "BatchQueue": QUEUE_SEND,
        "ExportQueue": QUEUE_SEND,
        "DispatchQueue": QUEUE_SEND,  # a contact paced to a near slot is put on it (docs/decisions/0017)
        "ExportBucket/*": ("s3:GetObject",),
        "AnchorBucket": ("s3:ListBucketVersions", "s3:ListBucket"),
        "AnchorBucket/*": ("s3:GetObject", "s3:GetObjectVersion"),
        "SigningKey": ("kms:GetPublicKey",),
        "DataKey": KEY_USE,
        "sms": SMS,
        "email": EMAIL,
        # webhooks: registered (the secret sealed, never opened here), listed, deleted, tested, their attempts read
        "WebhookTable": ("dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"),
        "WebhookKey": ("kms:Encrypt",),
        "WebhookQueue": QUEUE_SEND,
    },
    "bearer_auth": {"KeysTable": ("dynamodb:GetItem",)},
    "inbound_sms": {
        "LedgerTable": (*READ, *WRITE),
        "sms": SMS,
    },
    "ses_feedback": {"LedgerTable": (*READ, *WRITE)},
    # Receipts: the sent message by its provider id, then the contact's events (a receipt recorded already
    # records nothing) and the person's ledger; a permanent failure counts on the address's ledger. They
    # reach the trail through the ledger, like every other event (docs/decisions/0029).
    "sms_status": {
        "LedgerTable": (*READ, *WRITE),
        "AuditTable": AUDIT_READ,
        "AuditTable/index/by_contact": ("dynamodb:Query",),
        "SentMessagesTable": ("dynamodb:GetItem",),
    },
    "dispatcher": {"DispatchQueue": QUEUE_SEND},  # the schedule only enqueues the shards
    "dispatch_worker": {
        "LedgerTable": (*READ, *WRITE),
        "LedgerTable/index/due": ("dynamodb:Query",),
        "LedgerTable/index/pending": ("dynamodb:Query",),
        "AuditTable": AUDIT_READ,
        "DispatchQueue": (*QUEUE_RECEIVE, *QUEUE_SEND),  # a shard message enqueues its due people
        "KeysTable": PACING,
        "TemplatesTable": ("dynamodb:GetItem",),  # a deferred contact's version must still be approved
        "DataKey": KEY_USE,
        "sms": SMS,
        "email": EMAIL,
    },
    "export_worker": {
        "LedgerTable": READ,
        "AuditTable": AUDIT_READ,
        "AuditTable/index/by_day": ("dynamodb:Query",),
        "AuditTable/index/by_account": ("dynamodb:Query",),
        "JobsTable": JOBS,
        "ExportQueue": QUEUE_RECEIVE,
        "ExportBucket/*": ("s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"),
        "AnchorBucket": ("s3:ListBucketVersions", "s3:ListBucket"),
        "AnchorBucket/*": ("s3:GetObject", "s3:GetObjectVersion"),
        "SigningKey": ("kms:Sign", "kms:GetPublicKey"),
        "DataKey": KEY_USE,
        "WebhookTable": ("dynamodb:Query",),  # export.done, to the tenant's webhooks
        "WebhookQueue": QUEUE_SEND,
    },
    "batch_worker": {
        "LedgerTable": (*READ, *WRITE),
        "IdempotencyTable": IDEMPOTENCY,
        "BatchTable": ("dynamodb:GetItem", "dynamodb:Query", *WRITE),
        "BatchQueue": (*QUEUE_RECEIVE, "sqs:GetQueueUrl"),  # it deletes what it handled when others failed
        "KeysTable": PACING,
        "TemplatesTable": ("dynamodb:GetItem", "dynamodb:Query"),  # a request naming a template renders it
        "DispatchQueue": QUEUE_SEND,  # a contact paced to a near slot is put on it
        "DataKey": KEY_USE,
        "sms": SMS,
        "email": EMAIL,
    },
    "audit_stream": {
        "LedgerTable": ("dynamodb:UpdateItem",),
        "LedgerTable/stream": (
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
        ),
        "AuditTable": AUDIT_WRITE,
        "StreamFailureQueue": ("sqs:SendMessage",),
        "DataKey": KEY_USE,
        "WebhookTable": ("dynamodb:Query",),  # which webhooks a tenant has, to announce its events to
        "WebhookQueue": QUEUE_SEND,
    },
    "webhook_sender": {
        "WebhookTable": ("dynamodb:Query", "dynamodb:PutItem"),  # the webhook, and the attempt's log line
        "WebhookKey": ("kms:Decrypt",),  # the only function that opens a webhook's secret
        "WebhookQueue": (*QUEUE_RECEIVE, *QUEUE_SEND),  # a failed attempt is put back with its delay
        "WebhookDeadLetterQueue": QUEUE_SEND,  # retries exhausted
        "DataKey": KEY_USE,
    },
    "audit_daily": {
        "LedgerTable": ("dynamodb:GetItem",),
        "AuditTable": (*AUDIT_READ, *AUDIT_WRITE),
        "AuditTable/index/by_day": ("dynamodb:Query",),
        "AuditTable/index/by_expiry": ("dynamodb:Query",),
        "KeysTable": ("dynamodb:GetItem",),
        "AnchorBucket": ("s3:ListBucketVersions", "s3:ListBucket"),
        "AnchorBucket/*": ("s3:PutObject", "s3:PutObjectRetention", "s3:GetObject", "s3:GetObjectVersion"),
    },
}
# Every sending function keeps each sent message for its receipts; SES's events come with its feedback.
for _sender in ("api_handler", "dispatch_worker", "batch_worker"):
    ACCESS[_sender]["SentMessagesTable"] = ("dynamodb:PutItem",)
ACCESS["ses_feedback"].update({key: ACCESS["sms_status"][key] for key in ("AuditTable", "AuditTable/index/by_contact")})
ACCESS["ses_feedback"]["SentMessagesTable"] = ("dynamodb:GetItem",)
for _signer in UNSUBSCRIBE_SIGNERS:  # the secret is under the data key: these hold kms:Decrypt on it already
    ACCESS[_signer]["UnsubscribeSecret"] = SECRET_READ
# The function that appends audit events indexes the addresses they name (the appender, the table's one
# writer of events: 0029), and the API searches them: these read the address index's key (0036).
ADDRESS_INDEXERS = ("api_handler", "audit_stream")
for _indexer in ADDRESS_INDEXERS:
    ACCESS[_indexer]["AddressIndexSecret"] = SECRET_READ
ACCESS["api_handler"]["AuditTable/index/by_address"] = ("dynamodb:Query",)
# The daily rollup: the appender adds to it, the report reads it (docs/decisions/0037).
ACCESS["audit_stream"]["KeysTable"] = ("dynamodb:UpdateItem",)
ACCESS["api_handler"]["KeysTable"] = (*ACCESS["api_handler"]["KeysTable"], "dynamodb:BatchGetItem")
for _async in ASYNC_FUNCTIONS:  # an invocation that fails every retry lands in the async dead letters
    ACCESS[_async]["AsyncDeadLetterQueue"] = ("sqs:SendMessage",)
for _access in ACCESS.values():
    # Tables, buckets and queues are encrypted under the data key: DynamoDB checks the caller's Decrypt on
    # it, S3 and SQS need GenerateDataKey to write. A role that only reads tables gets Decrypt alone.
    writes = any(a.endswith(("PutItem", "UpdateItem", "SendMessage", "PutObject")) for a in chain(*_access.values()))
    _access.setdefault("DataKey", KEY_USE if writes else ("kms:Decrypt",))


def _arn(resource: str) -> Any:
    """The ARN a policy names for ``resource`` (see ACCESS)."""
    if resource == "sms":
        raise ValueError("sms is a NotResource")
    if resource == "email":
        ses = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:"
        names = ("identity/${SenderDomain}", "identity/${SenderAddress}", "configuration-set/${EmailConfigurationSet}")
        return [_sub(ses + name) for name in names]
    if resource in ("UnsubscribeSecret", "AddressIndexSecret"):
        return {"Ref": resource}  # a secret's Ref is its ARN
    base, _, rest = resource.partition("/")
    if not base.endswith(("Table", "Bucket", "Queue", "Key")):
        raise ValueError(f"no ARN for {resource}")
    if rest == "stream":  # the table's streams, as AWS's own example for a stream-triggered Lambda
        rest = "stream/*"
    return {"Fn::Sub": f"${{{base}.Arn}}/{rest}"} if rest else {"Fn::GetAtt": [base, "Arn"]}


def function_name(function: str) -> str:
    """The deployed name (a ``Fn::Sub`` string): its log group, and the alarms' dimension, follow from it."""
    return "gateway-${Stage}-" + function.replace("_", "-")


def log_group(function: str) -> str:
    return "/aws/lambda/" + function_name(function)


def policy(function: str) -> dict[str, Any]:
    """The IAM policy document of one function: its log group, then each resource it touches."""
    logs = {
        "Sid": "OwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [
            _sub(f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{log_group(function)}"),
            _sub(
                f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{log_group(function)}:*"
            ),
        ],
    }
    statements = [logs]
    for resource, actions in ACCESS[function].items():
        sid = "".join(part.title() if part.islower() else part for part in resource.replace("*", "Objects").split("/"))
        statement: dict[str, Any] = {"Sid": sid.replace("_", ""), "Effect": "Allow", "Action": sorted(set(actions))}
        if resource == "sms":
            # SMS goes to a phone number, which has no ARN: any target that is not a topic or an endpoint.
            statement["NotResource"] = {"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"}
        else:
            arn = _arn(resource)
            statement["Resource"] = arn if isinstance(arn, list) else [arn]
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def policy_file(function: str) -> Path:
    return CHALICE_DIR / f"policy-{function.replace('_', '-')}.json"


def write_policies() -> list[Path]:
    written = []
    for function in FUNCTIONS:
        path = policy_file(function)
        path.write_text(json.dumps(policy(function), indent=2) + "\n")
        written.append(path)
    return written


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _name(suffix: str) -> dict[str, str]:
    return _sub("gateway-${Stage}-" + suffix)


ACCOUNT_ROOT = _sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
KEY_ADMIN = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
]


def _key_policy(use: list[str], services: list[str]) -> dict[str, Any]:
    # In a key policy "Resource": "*" means this key. The account's IAM policies decide which roles use it.
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": ACCOUNT_ROOT},
            "Action": KEY_ADMIN,
            "Resource": "*",
        },
        {
            "Sid": "AccountRolesUse",
            "Effect": "Allow",
            "Principal": {"AWS": ACCOUNT_ROOT},
            "Action": use,
            "Resource": "*",
        },
    ]
    if services:
        statements.append(
            {
                "Sid": "ServicesPublishEncrypted",
                "Effect": "Allow",
                "Principal": {"Service": services},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _tables() -> dict[str, Any]:
    placeholders = Settings.model_validate({field: f"@{field}" for field in TABLES})
    resources: dict[str, Any] = {}
    for spec in provision.table_specs(placeholders):
        field = spec["TableName"].lstrip("@")
        logical = TABLES[field]
        properties: dict[str, Any] = {
            "TableName": _name(field.removesuffix("_table").replace("_", "-")),
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": spec["KeySchema"],
            "AttributeDefinitions": spec["AttributeDefinitions"],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "DeletionProtectionEnabled": True,
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": {"Ref": "DataKey"}},
        }
        if "GlobalSecondaryIndexes" in spec:
            properties["GlobalSecondaryIndexes"] = spec["GlobalSecondaryIndexes"]
        if "StreamSpecification" in spec:
            properties["StreamSpecification"] = {"StreamViewType": spec["StreamSpecification"]["StreamViewType"]}
        if logical in TTL:
            properties["TimeToLiveSpecification"] = {"AttributeName": TTL[logical], "Enabled": True}
        resources[logical] = {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": properties,
        }
    return resources


def _bucket(lock: dict[str, Any], lifecycle: list[dict[str, Any]] | None) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "ObjectLockEnabled": True,
        "ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": lock}},
        "VersioningConfiguration": {"Status": "Enabled"},
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {
                    "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Ref": "DataKey"}},
                    "BucketKeyEnabled": True,
                }
            ]
        },
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        },
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    }
    if lifecycle:
        properties["LifecycleConfiguration"] = {"Rules": lifecycle}
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


def _tls_only(bucket: str) -> dict[str, Any]:
    arn = {"Fn::GetAtt": [bucket, "Arn"]}
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": bucket},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Action": "s3:*",
                        "Resource": [arn, {"Fn::Sub": f"${{{bucket}.Arn}}/*"}],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            },
        },
    }


def _queue(name: str, visibility: int, dead: str | None = None, receives: int = 0) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "QueueName": _name(name),
        "KmsMasterKeyId": {"Ref": "DataKey"},
        "MessageRetentionPeriod": 1_209_600 if dead is None else 345_600,  # dead letters: 14 days
        "VisibilityTimeout": visibility,
    }
    if dead:
        properties["RedrivePolicy"] = {
            "deadLetterTargetArn": {"Fn::GetAtt": [dead, "Arn"]},
            "maxReceiveCount": receives,
        }
    return {"Type": "AWS::SQS::Queue", "Properties": properties}


def _topic(name: str, publisher: str) -> tuple[dict[str, Any], dict[str, Any]]:
    topic = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": _name(name), "KmsMasterKeyId": {"Ref": "DataKey"}}}
    logical = "".join(p.title() for p in name.split("-")) + "Topic"
    topic_policy = {
        "Type": "AWS::SNS::TopicPolicy",
        "Properties": {
            "Topics": [{"Ref": logical}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ServicePublishes",
                        "Effect": "Allow",
                        "Principal": {"Service": publisher},
                        "Action": "sns:Publish",
                        "Resource": {"Ref": logical},
                        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                    },
                    {
                        # A forged START from a role of the account would undo a STOP. The key is true only
                        # for a call made by a service principal itself and false for every IAM user and
                        # role, whatever their IAM policies allow. "Bool", not "BoolIfExists": an unsigned
                        # request carries no key but no statement allows it, while a service's request
                        # that lacked the key would be refused and an inbound STOP lost.
                        "Sid": "NoOtherPublisher",
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Action": "sns:Publish",
                        "Resource": {"Ref": logical},
                        "Condition": {"Bool": {"aws:PrincipalIsAWSService": "false"}},
                    },
                ],
            },
        },
    }
    return topic, topic_policy


def _alarm(description: str, metric: dict[str, Any], threshold: float, periods: int = 1) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": threshold,
            "EvaluationPeriods": periods,
            "Period": 300,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
            "OKActions": [{"Ref": "AlarmTopic"}],
            **metric,
        },
    }


def _alarms() -> dict[str, Any]:
    alarms: dict[str, Any] = {}
    for function, logical in FUNCTIONS.items():
        dimension = [{"Name": "FunctionName", "Value": {"Ref": logical}}]
        for metric in ("Errors", "Throttles"):
            alarms[f"{logical}{metric}Alarm"] = _alarm(
                f"{function}: Lambda {metric.lower()} in 5 minutes",
                {"Namespace": "AWS/Lambda", "MetricName": metric, "Statistic": "Sum", "Dimensions": dimension},
                1,
            )
    for queue in DEAD_LETTER_QUEUES:
        alarms[f"{queue}DepthAlarm"] = _alarm(
            f"{queue}: messages the gateway gave up on; read them, fix the cause, redrive",
            {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Statistic": "Maximum",
                "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
            },
            1,
        )
    for table in ("LedgerTable", "AuditTable"):
        for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
            alarms[f"{table}{metric}Alarm"] = _alarm(
                f"{table}: DynamoDB {metric} (a hot person or a burst above on-demand's ramp)",
                {
                    "Namespace": "AWS/DynamoDB",
                    "MetricName": metric,
                    "Statistic": "Sum",
                    "Dimensions": [{"Name": "TableName", "Value": {"Ref": table}}],
                },
                1,
            )
    alarms["DispatcherLagAlarm"] = _alarm(
        "deferred contacts sent later than their not_before by more than the threshold",
        {
            "Namespace": NAMESPACE,
            "MetricName": "DispatcherLag",
            "Statistic": "Maximum",
            "Dimensions": [{"Name": "service", "Value": "contact-gateway"}],
        },
        {"Ref": "DispatcherLagAlarmSeconds"},  # type: ignore[arg-type]
        2,
    )
    alarms["AuditStreamIteratorAgeAlarm"] = _alarm(
        "the audit appender is behind the ledger stream (the trail lags the decisions)",
        {
            "Namespace": "AWS/Lambda",
            "MetricName": "IteratorAge",
            "Statistic": "Maximum",
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "AuditStream"}}],
        },
        300_000,
        2,
    )
    return alarms


DEAD_LETTER_QUEUES = (
    "BatchDeadLetterQueue",
    "DispatchDeadLetterQueue",
    "ExportDeadLetterQueue",
    "StreamFailureQueue",
    "AsyncDeadLetterQueue",
    "UndeliveredQueue",
    "WebhookDeadLetterQueue",  # a receiver that did not answer 2xx for more than a day: tell its tenant
)


def environment() -> dict[str, Any]:
    """Every function's environment: names of the stage's resources, never literals."""
    return {
        **{field.upper(): {"Ref": logical} for field, logical in TABLES.items()},  # LEDGER_TABLE, ...
        "BATCH_QUEUE": {"Fn::GetAtt": ["BatchQueue", "QueueName"]},
        "DISPATCH_QUEUE": {"Fn::GetAtt": ["DispatchQueue", "QueueName"]},
        "EXPORT_QUEUE": {"Fn::GetAtt": ["ExportQueue", "QueueName"]},
        "WEBHOOK_QUEUE": {"Fn::GetAtt": ["WebhookQueue", "QueueName"]},
        "WEBHOOK_KEY_ID": {"Ref": "WebhookKeyAlias"},
        "WEBHOOK_URLS": "public",  # https to public addresses only, checked at registration and at each send
        "EXPORT_BUCKET": {"Ref": "ExportBucket"},
        "ANCHOR_BUCKET": {"Ref": "AnchorBucket"},
        "SIGNING_KEY_ID": {"Ref": "SigningKeyAlias"},
        "SES_SENDER": {"Ref": "SenderAddress"},
        "SES_CONFIGURATION_SET": {"Ref": "EmailConfigurationSet"},
        "PUBLIC_URL": {"Ref": "PublicUrl"},
        "AUDIT_APPEND": "stream",
        "SMS_RATE_PER_SECOND": {"Ref": "SmsRatePerSecond"},
        "EMAIL_RATE_PER_SECOND": {"Ref": "EmailRatePerSecond"},
        "POWERTOOLS_SERVICE_NAME": "contact-gateway",
        "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
    }


def secret_environment(function: str) -> dict[str, Any]:
    """The unsubscribe secret's ARN, for the functions that read it at run time; its value is in no
    function's environment."""
    found = {"UNSUBSCRIBE_SECRET_ARN": {"Ref": "UnsubscribeSecret"}} if function in UNSUBSCRIBE_SIGNERS else {}
    if function in ADDRESS_INDEXERS:
        found["ADDRESS_INDEX_SECRET_ARN"] = {"Ref": "AddressIndexSecret"}
    return found


def _functions() -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for function, logical in FUNCTIONS.items():
        properties: dict[str, Any] = {
            "FunctionName": _sub(function_name(function)),
            "Environment": {"Variables": environment() | secret_environment(function)},
            # Under the data key, not Lambda's own: reading the variables takes kms:Decrypt on it too.
            "KmsKeyArn": {"Fn::GetAtt": ["DataKey", "Arn"]},
        }
        if function in RESERVED:
            properties["ReservedConcurrentExecutions"] = {"Ref": "InboundConcurrency"}
        if function in ASYNC_FUNCTIONS:
            properties["DeadLetterQueue"] = {
                "Type": "SQS",
                "TargetArn": {"Fn::GetAtt": ["AsyncDeadLetterQueue", "Arn"]},
            }
        resources[logical] = {"Properties": properties}
        role = "".join(part.title() for part in function.split("_")) + "Role"
        xray = _sub("arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess")
        resources[role] = {"Properties": {"ManagedPolicyArns": [xray]}}
    return resources


UNDELIVERED = {"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["UndeliveredQueue", "Arn"]}}}
TOPICS = ("InboundSmsTopic", "SesFeedbackTopic")  # a service publishes to each; the gateway subscribes


def _undelivered_policy() -> dict[str, Any]:
    """SNS may put on the queue what it could not deliver from the gateway's two topics, and nothing else."""
    return {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {
            "Queues": [{"Ref": "UndeliveredQueue"}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "TopicsDeadLetter",
                        "Effect": "Allow",
                        "Principal": {"Service": "sns.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": {"Fn::GetAtt": ["UndeliveredQueue", "Arn"]},
                        "Condition": {"ArnEquals": {"aws:SourceArn": [{"Ref": topic} for topic in TOPICS]}},
                    }
                ],
            },
        },
    }


def events() -> dict[str, tuple[str, dict[str, Any]]]:
    """Each trigger bound to the stage's resource. Set after merging: chalice names topics and queues by
    literal ARNs, which a deep merge would mix with these instead of replacing."""
    return {
        # What SNS cannot hand to the function at all (its endpoint gone or refusing) is kept as well.
        "InboundSms": ("InboundSmsSnsSubscription", {"Topic": {"Ref": "InboundSmsTopic"}, **UNDELIVERED}),
        "SesFeedback": ("SesFeedbackSnsSubscription", {"Topic": {"Ref": "SesFeedbackTopic"}, **UNDELIVERED}),
        "ExportWorker": ("ExportWorkerSqsEventSource", {"Queue": {"Fn::GetAtt": ["ExportQueue", "Arn"]}}),
        # The two workers a campaign scales: their concurrency is the stage's, set by parameter (docs/scaling.md).
        "DispatchWorker": (
            "DispatchWorkerSqsEventSource",
            {
                "Queue": {"Fn::GetAtt": ["DispatchQueue", "Arn"]},
                "ScalingConfig": {"MaximumConcurrency": {"Ref": "DispatchConcurrency"}},
            },
        ),
        "BatchWorker": (
            "BatchWorkerSqsEventSource",
            {
                "Queue": {"Fn::GetAtt": ["BatchQueue", "Arn"]},
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "ScalingConfig": {"MaximumConcurrency": {"Ref": "BatchConcurrency"}},
            },
        ),
        "WebhookSender": (
            "WebhookSenderSqsEventSource",
            {
                "Queue": {"Fn::GetAtt": ["WebhookQueue", "Arn"]},
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "ScalingConfig": {"MaximumConcurrency": 50},
            },
        ),
        "AuditStream": (
            "AuditStreamDynamodbEventSource",
            {
                "Stream": {"Fn::GetAtt": ["LedgerTable", "StreamArn"]},
                # A batch that keeps failing is split to find the bad record, retried a bounded number of
                # times, then its position goes to StreamFailureQueue; the dispatcher's sweep hands what the
                # stream gave up on to it again from the ledgers' outboxes, so nothing is lost (0010, 0029).
                "BisectBatchOnFunctionError": True,
                "MaximumRetryAttempts": 10,
                "MaximumRecordAgeInSeconds": 21_600,
                "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["StreamFailureQueue", "Arn"]}}},
            },
        ),
    }


def bind_events(template: dict[str, Any]) -> None:
    for logical, (event, properties) in events().items():
        template["Resources"][logical]["Properties"]["Events"][event]["Properties"].update(properties)


# Requests per second (and burst) for each route anyone may call. The unsubscribe link, health, the OpenAPI
# document and the console's files need no key, so nothing else bounds how fast a stranger may call them;
# at the stage, a flood of them is refused with 429 before it reaches a Lambda or a table, and cannot use up
# the account's limit that every keyed route shares.
PUBLIC_RATE_LIMIT = 20
PUBLIC_BURST_LIMIT = 40


def throttle_public_routes(template: dict[str, Any]) -> None:
    """A stage throttle on every method that carries no authorizer (read from the API's own definition)."""
    api = template["Resources"]["RestAPI"]["Properties"]
    settings = [
        {
            "ResourcePath": "/" + path.lstrip("/").replace("/", "~1"),
            "HttpMethod": verb.upper(),
            "ThrottlingRateLimit": PUBLIC_RATE_LIMIT,
            "ThrottlingBurstLimit": PUBLIC_BURST_LIMIT,
        }
        for path, methods in sorted(api["DefinitionBody"]["paths"].items())
        for verb, method in sorted(methods.items())
        if isinstance(method, dict) and "security" not in method and verb != "options"
    ]
    api["MethodSettings"] = settings


PARAMETERS = {
    "Stage": {
        "Type": "String",
        "Default": STAGE,
        "AllowedPattern": "^[a-z][a-z0-9-]{0,19}$",
        "Description": "names every resource: gateway-<Stage>-ledger, ...",
    },
    "SenderDomain": {"Type": "String", "Default": "example.com", "Description": "the SES identity emails come from"},
    "SenderAddress": {"Type": "String", "Default": "collections@example.com", "Description": "From: of every email"},
    "PublicUrl": {
        "Type": "String",
        "Default": "https://collections.example.com",
        "Description": "where unsubscribe links point (the API's custom domain)",
    },
    "AlarmEmail": {"Type": "String", "Default": "", "Description": "who the alarms mail (empty: nobody)"},
    # The account's quotas: the gateway paces every sending function below them (docs/decisions/0017).
    "SmsRatePerSecond": {
        "Type": "String",
        "Default": "20",
        "AllowedPattern": "^([0-9]+(\\.[0-9]+)?)?$",
        "Description": "SNS SMS messages per second of the account (its MPS quota); empty: not paced",
    },
    "EmailRatePerSecond": {
        "Type": "String",
        "Default": "14",
        "AllowedPattern": "^([0-9]+(\\.[0-9]+)?)?$",
        "Description": "the SES account's maximum sending rate per second; empty: not paced",
    },
    "DispatcherLagAlarmSeconds": {
        "Type": "Number",
        "Default": 300,
        "Description": "alarm when a deferred contact goes out this much after its not_before",
    },
    "DispatchConcurrency": {
        "Type": "Number",
        "Default": 1000,
        "MinValue": 2,
        "MaxValue": 1000,
        "Description": "most dispatch workers at once: how fast an 08:00 herd drains (docs/scaling.md)",
    },
    "BatchConcurrency": {
        "Type": "Number",
        "Default": 200,
        "MinValue": 2,
        "MaxValue": 1000,
        "Description": "most batch workers at once: how fast posted campaigns are decided (docs/scaling.md)",
    },
    "InboundConcurrency": {
        "Type": "Number",
        "Default": 10,
        "MinValue": 1,
        "MaxValue": 1000,
        "Description": "concurrency reserved for each of the inbound-SMS and SES-feedback handlers (decision 0023)",
    },
}


SMS_DELIVERY_LOGS = {"SmsDeliveryLog": "", "SmsDeliveryFailureLog": "/Failure"}  # logical id -> name suffix
SMS_DELIVERY_LOG_DAYS = 30  # receipts are on the chains; the lines (with phone numbers) are not kept longer


def sms_delivery_status() -> dict[str, Any]:
    """SNS's SMS delivery-status logging, to the sms_status function (docs/decisions/0030): the role SNS
    writes the logs with (the account's ``DeliveryStatusIAMRole``, set once per account: docs/deploy.md),
    SNS's two log groups, made here so they exist and expire, and a subscription filter on each."""
    logs_arn = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
    base = "sns/${AWS::Region}/${AWS::AccountId}/" + SMS_DELIVERY_LOG
    found: dict[str, Any] = {
        "SmsDeliveryStatusRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        # AWS's own trust policy for SMS delivery-status logging, which names no condition
                        {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sts:AssumeRole"}
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "sms-delivery-status-logs",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {  # what SNS asks for its delivery-status logs, on its two groups only
                                    "Effect": "Allow",
                                    "Action": [
                                        "logs:CreateLogGroup",
                                        "logs:CreateLogStream",
                                        "logs:PutLogEvents",
                                        "logs:PutMetricFilter",
                                        "logs:PutRetentionPolicy",
                                    ],
                                    "Resource": [
                                        _sub(f"{logs_arn}{base}{s}{tail}")
                                        for s in SMS_DELIVERY_LOGS.values()
                                        for tail in ("", ":*")
                                    ],
                                }
                            ],
                        },
                    }
                ],
            },
        },
        "SmsStatusLogsPermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Ref": "SmsStatus"},
                "Principal": "logs.amazonaws.com",
                "SourceAccount": {"Ref": "AWS::AccountId"},
                "SourceArn": _sub(f"{logs_arn}sns/${{AWS::Region}}/${{AWS::AccountId}}/*"),
            },
        },
    }
    for logical, suffix in SMS_DELIVERY_LOGS.items():
        found[logical] = {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {"LogGroupName": _sub(base + suffix), "RetentionInDays": SMS_DELIVERY_LOG_DAYS},
        }
        found[logical + "Subscription"] = {
            "Type": "AWS::Logs::SubscriptionFilter",
            "DependsOn": ["SmsStatusLogsPermission"],
            "Properties": {
                "LogGroupName": {"Ref": logical},
                "FilterPattern": "",
                "DestinationArn": {"Fn::GetAtt": ["SmsStatus", "Arn"]},
            },
        }
    return found


def resources_template() -> dict[str, Any]:
    """The template ``chalice package --merge-template`` merges into its own."""
    resources: dict[str, Any] = {
        "DataKey": {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "Description": "contact gateway: tables, buckets, queues, topics, secret",
                "EnableKeyRotation": True,
                "KeyPolicy": _key_policy(
                    [
                        "kms:Decrypt",
                        "kms:Encrypt",
                        "kms:GenerateDataKey",
                        "kms:ReEncryptFrom",
                        "kms:ReEncryptTo",
                        "kms:CreateGrant",
                    ],
                    ["sns.amazonaws.com", "ses.amazonaws.com", "sms-voice.amazonaws.com", "cloudwatch.amazonaws.com"],
                ),
            },
        },
        "SigningKey": {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "Description": "contact gateway: export signatures (ECDSA P-256)",
                "KeySpec": "ECC_NIST_P256",
                "KeyUsage": "SIGN_VERIFY",
                "KeyPolicy": _key_policy(["kms:Sign", "kms:Verify", "kms:GetPublicKey"], []),
            },
        },
        "WebhookKey": {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "Description": "contact gateway: webhooks' signing secrets (sealed by the API, opened by the sender)",
                "EnableKeyRotation": True,
                "KeyPolicy": _key_policy(["kms:Encrypt", "kms:Decrypt"], []),
            },
        },
        "WebhookKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {
                "AliasName": _sub("alias/gateway-${Stage}-webhook-secrets"),
                "TargetKeyId": {"Ref": "WebhookKey"},
            },
        },
        "SigningKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {
                "AliasName": _sub("alias/gateway-${Stage}-export-signing"),
                "TargetKeyId": {"Ref": "SigningKey"},
            },
        },
        **_tables(),
        "ExportBucket": _bucket(
            {"Mode": "COMPLIANCE", "Days": provision.EXPORT_BUNDLE_DAYS},
            [
                {
                    "Id": "expire-export-bundles",
                    "Prefix": "exports/",
                    "Status": "Enabled",
                    "ExpirationInDays": provision.EXPORT_BUNDLE_DAYS + 1,
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                }
            ],
        ),
        "ExportBucketPolicy": _tls_only("ExportBucket"),
        # Anchors carry their own COMPLIANCE retention (services.anchors); the default covers any other write.
        "AnchorBucket": _bucket({"Mode": "COMPLIANCE", "Years": 7}, None),
        "AnchorBucketPolicy": _tls_only("AnchorBucket"),
        "BatchDeadLetterQueue": _queue("contact-batches-dead", 30),
        "BatchQueue": _queue(
            "contact-batches", provision.BATCH_VISIBILITY_SECONDS, "BatchDeadLetterQueue", provision.BATCH_MAX_RECEIVES
        ),
        "DispatchDeadLetterQueue": _queue("dispatch-dead", 30),
        "DispatchQueue": _queue(
            "dispatch",
            provision.DISPATCH_VISIBILITY_SECONDS,
            "DispatchDeadLetterQueue",
            provision.DISPATCH_MAX_RECEIVES,
        ),
        "ExportDeadLetterQueue": _queue("exports-dead", 30),
        "ExportQueue": _queue("exports", provision.EXPORT_VISIBILITY_SECONDS, "ExportDeadLetterQueue", 3),
        "StreamFailureQueue": _queue("audit-stream-failures", 30),
        "WebhookDeadLetterQueue": _queue("webhooks-dead", 30),
        "WebhookQueue": _queue(
            "webhooks", provision.WEBHOOK_VISIBILITY_SECONDS, "WebhookDeadLetterQueue", provision.WEBHOOK_MAX_RECEIVES
        ),
        "AsyncDeadLetterQueue": _queue("async-dead", 30),
        "UndeliveredQueue": _queue("sns-undelivered", 30),  # SNS's own dead letters: raw SNS messages
        "UndeliveredQueuePolicy": _undelivered_policy(),
        "EmailConfigurationSet": {
            "Type": "AWS::SES::ConfigurationSet",
            "Properties": {
                "Name": _name("email"),
                "DeliveryOptions": {"TlsPolicy": "REQUIRE"},
                "ReputationOptions": {"ReputationMetricsEnabled": True},
                "SendingOptions": {"SendingEnabled": True},
            },
        },
        "EmailFeedbackDestination": {
            "Type": "AWS::SES::ConfigurationSetEventDestination",
            "Properties": {
                "ConfigurationSetName": {"Ref": "EmailConfigurationSet"},
                "EventDestination": {
                    "Name": "bounces-and-complaints",
                    "Enabled": True,
                    "MatchingEventTypes": ["bounce", "complaint"],
                    "SnsDestination": {"TopicARN": {"Ref": "SesFeedbackTopic"}},
                },
            },
        },
        "SenderIdentity": {
            "Type": "AWS::SES::EmailIdentity",
            "Properties": {
                "EmailIdentity": {"Ref": "SenderDomain"},
                "ConfigurationSetAttributes": {"ConfigurationSetName": {"Ref": "EmailConfigurationSet"}},
                "DkimSigningAttributes": {"NextSigningKeyLength": "RSA_2048_BIT"},
            },
        },
        "UnsubscribeSecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Name": _sub("gateway-${Stage}/unsubscribe"),
                "Description": "HMAC key of email unsubscribe links (RFC 8058)",
                "KmsKeyId": {"Ref": "DataKey"},
                "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
            },
        },
        "AddressIndexSecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Name": _sub("gateway-${Stage}/address-index"),
                "Description": "HMAC key of the audit trail's address index (never rotated: decision 0036)",
                "KmsKeyId": {"Ref": "DataKey"},
                "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
            },
        },
        "AlarmTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": _name("alarms"), "KmsMasterKeyId": {"Ref": "DataKey"}},
        },
        "AlarmSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
        },
        **_alarms(),
        **http.gateway_responses(),
        **_functions(),
        "RestAPI": {"Properties": {"TracingEnabled": True}},  # X-Ray from the stage on, as every function
    }
    resources.update(sms_delivery_status())
    for name, publisher in (("inbound-sms", "sms-voice.amazonaws.com"), ("ses-feedback", "ses.amazonaws.com")):
        topic, topic_policy = _topic(name, publisher)
        logical = "".join(p.title() for p in name.split("-")) + "Topic"
        resources[logical], resources[logical + "Policy"] = topic, topic_policy
    return {
        "Parameters": PARAMETERS,
        "Conditions": {"HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}},
        "Resources": resources,
        "Outputs": {
            "InboundSmsTopicArn": {
                "Description": "set as the two-way SMS destination of the gateway's phone numbers",
                "Value": {"Ref": "InboundSmsTopic"},
            },
            "SmsDeliveryStatusRoleArn": {
                "Description": "set as the account's SMS DeliveryStatusIAMRole (docs/deploy.md): SNS logs receipts",
                "Value": {"Fn::GetAtt": ["SmsDeliveryStatusRole", "Arn"]},
            },
            "SigningKeyArn": {"Value": {"Fn::GetAtt": ["SigningKey", "Arn"]}},
            "AlarmTopicArn": {"Value": {"Ref": "AlarmTopic"}},
        },
    }


def package(out: Path, project: Path = ROOT) -> Path:
    """``chalice package`` of ``project`` into ``out``, merged with the resources; returns the template."""
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    merge = project / "build" / "resources.json"
    merge.parent.mkdir(parents=True, exist_ok=True)
    merge.write_text(json.dumps(resources_template(), indent=1))
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    chalice = Path(sys.executable).with_name("chalice")
    command = [str(chalice), "package", "--stage", STAGE, "--merge-template", str(merge), str(out)]
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"chalice package failed:\n{done.stdout}\n{done.stderr}")
    bytecode.add_bytecode(out / "deployment.zip")  # no cold start compiles the source (tools/infra/bytecode.py)
    path = out / "sam.json"
    template = json.loads(path.read_text())
    bind_events(template)
    throttle_public_routes(template)
    findings.skip_argued(template)
    path.write_text(json.dumps(template, indent=2))
    return path


def template_only(out: Path) -> Path:
    """The same template from a copy of the project without third-party wheels (seconds, not minutes):
    what cfn-lint and the template tests read. ``package`` builds the deployable zip."""
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "project"
        project.mkdir()
        shutil.copy(ROOT / "app.py", project)
        shutil.copytree(ROOT / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(CHALICE_DIR, project / ".chalice", ignore=shutil.ignore_patterns("deployments", "deployed"))
        (project / "requirements.txt").write_text("")
        built = package(Path(scratch) / "out", project)
        out.mkdir(parents=True, exist_ok=True)
        target = out / "sam.json"
        shutil.copy(built, target)
        shutil.copy(built.with_name("deployment.zip"), out / "deployment.zip")
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.infra.package", description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", type=Path)
    parser.add_argument("--template-only", action="store_true", help="no third-party wheels (for linting)")
    parser.add_argument("--write-policies", action="store_true", help="regenerate .chalice/policy-*.json")
    args = parser.parse_args(argv)
    if args.write_policies:
        for path in write_policies():
            print(path.relative_to(ROOT))
        return
    if args.out is None:
        parser.error("OUT is required")
    template = template_only(args.out) if args.template_only else package(args.out)
    print(template)


if __name__ == "__main__":
    main()
