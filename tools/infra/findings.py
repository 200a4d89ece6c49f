"""The scanner's findings on the packaged template that the gateway answers with a reason, not a change.

``make lint`` runs checkov (``requirements-checkov.txt``) on ``build/template/sam.json``. Each check it
fails is either fixed in the template or skipped here, on the resource it concerns, with the reason
checkov prints beside the skip; docs/decisions/0023 argues each. A skip is written only while the resource
still lacks what the check asks for, and only for the resources named here: a new function, bucket or API
that fails a check fails the build until it is fixed or argued.
"""

from __future__ import annotations

from typing import Any

VPC = "CKV_AWS_117"
DEAD_LETTERS = "CKV_AWS_116"
RESERVED_CONCURRENCY = "CKV_AWS_115"
API_ACCESS_LOG = "CKV_AWS_76"
API_CACHE = "CKV_AWS_120"
BUCKET_ACCESS_LOG = "CKV_AWS_18"

NO_VPC = (
    "no function listens on a network or reaches a private one: each calls AWS APIs over TLS under its own "
    "role; a VPC adds NAT or six interface endpoints per zone and ENIs for 1,000 workers, closing no path "
    "(decision 0023)"
)
_SYNC = "invoked synchronously by API Gateway: the caller gets the failure and nothing waits to be lost (0023)"
_SQS = "SQS event source: a message that keeps failing moves to {queue} by its redrive policy (0023)"
# Function -> why it has no dead-letter queue of its own: Lambda uses one for asynchronous invocations only.
NO_DEAD_LETTERS = {
    "APIHandler": _SYNC,
    "BearerAuth": _SYNC,
    "DispatchWorker": _SQS.format(queue="DispatchDeadLetterQueue"),
    "BatchWorker": _SQS.format(queue="BatchDeadLetterQueue"),
    "ExportWorker": _SQS.format(queue="ExportDeadLetterQueue"),
    "AuditStream": "stream event source: a batch that keeps failing goes to StreamFailureQueue (0010, 0023)",
    "WebhookSender": _SQS.format(queue="WebhookDeadLetterQueue, as does one whose retries ran out (0031)"),
}
_API = "behind API Gateway's throttles; a reserve would idle capacity, a cap refuse calls the Region can serve (0023)"
_SCALED = "SQS event source capped by its MaximumConcurrency ({parameter}), which reserves nothing while idle (0023)"
# Function -> why it reserves no concurrency (the inbound-SMS and SES-feedback handlers do: package.RESERVED).
NO_RESERVED_CONCURRENCY = {
    "APIHandler": _API,
    "BearerAuth": _API,
    "DispatchWorker": _SCALED.format(parameter="DispatchConcurrency"),
    "BatchWorker": _SCALED.format(parameter="BatchConcurrency"),
    "ExportWorker": "a few exports a day, one message each; a reserve would idle concurrency the herd needs (0023)",
    "AuditStream": "one instance per shard of the ledger stream: the stream bounds it (decision 0023)",
    "Dispatcher": "one run a minute from the schedule, seconds long; a reserve would idle concurrency (0023)",
    "AuditDaily": "one run a day from the schedule; a reserve would idle concurrency all day (decision 0023)",
    "WebhookSender": "SQS event source capped by its MaximumConcurrency (50), which reserves nothing while idle (0023)",
}
API = {
    API_ACCESS_LOG: (
        "access logs need the Region's API Gateway CloudWatch role, an account-wide setting this stack "
        "must not own; contact requests, decisions and consent changes are audit events (decision 0023)"
    ),
    API_CACHE: (
        "answers follow the ledger at the moment they are read (a STOP shows at once); a cache would serve "
        "stale preferences and decisions (decision 0023)"
    ),
}
NO_BUCKET_ACCESS_LOG = (
    "server access logs need a third bucket, unlocked and itself unlogged, for best-effort records; export "
    "jobs record who asked, object reads are the account trail's data events (decision 0023)"
)


def _skips(logical: str, resource: dict[str, Any]) -> list[dict[str, str]]:
    kind, properties = resource["Type"], resource.get("Properties", {})
    reasons: dict[str, str] = {}
    if kind == "AWS::Serverless::Function":
        reasons[VPC] = NO_VPC
        if "DeadLetterQueue" not in properties and logical in NO_DEAD_LETTERS:
            reasons[DEAD_LETTERS] = NO_DEAD_LETTERS[logical]
        if "ReservedConcurrentExecutions" not in properties and logical in NO_RESERVED_CONCURRENCY:
            reasons[RESERVED_CONCURRENCY] = NO_RESERVED_CONCURRENCY[logical]
    elif kind == "AWS::Serverless::Api" and logical == "RestAPI":
        reasons.update(API)
    elif kind == "AWS::S3::Bucket" and logical in ("ExportBucket", "AnchorBucket"):
        reasons[BUCKET_ACCESS_LOG] = NO_BUCKET_ACCESS_LOG
    return [{"id": check, "comment": comment} for check, comment in reasons.items()]


def skip_argued(template: dict[str, Any]) -> None:
    """Write each argued skip into its resource's ``Metadata.checkov.skip``, where checkov reads it."""
    for logical, resource in template["Resources"].items():
        skips = _skips(logical, resource)
        if skips:
            resource.setdefault("Metadata", {}).setdefault("checkov", {}).setdefault("skip", []).extend(skips)
