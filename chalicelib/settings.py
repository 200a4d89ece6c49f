"""Settings: read from the environment once, in the composition root only; the resources' names default to
chalicelib/resources.py's."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from chalicelib import resources
from chalicelib.domain.ledger import DAY_SHARDS, INDEX_SHARDS
from chalicelib.domain.pacing import MAX_RATE, MIN_RATE


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    region: str = "us-east-1"
    ledger_table: str = resources.LEDGER_TABLE
    audit_table: str = resources.AUDIT_TABLE
    idempotency_table: str = resources.IDEMPOTENCY_TABLE
    ses_sender: str = "collections@example.com"
    ses_configuration_set: str | None = None
    sms_sender_id: str | None = None
    endpoint_url: str | None = None  # moto server locally; unset in AWS
    unsubscribe_secret: str | None = None  # HMAC key of unsubscribe links; no secret, no email
    # The Secrets Manager secret holding that key, read at run time and rotatable (deployed); before
    # UNSUBSCRIBE_SECRET when both are set (docs/decisions/0027).
    unsubscribe_secret_arn: str | None = None
    public_url: str = "http://127.0.0.1:8000"  # where unsubscribe links point
    # The HMAC key of the address index (search by phone number or email), plain (local stack, tests) or
    # the Secrets Manager secret holding it (deployed, before the plain one). docs/decisions/0036.
    address_index_secret: str | None = None
    address_index_secret_arn: str | None = None
    jobs_table: str = resources.JOBS_TABLE
    keys_table: str = resources.KEYS_TABLE
    batch_table: str = resources.BATCH_TABLE
    templates_table: str = resources.TEMPLATES_TABLE
    batch_queue: str = resources.BATCH_QUEUE
    export_bucket: str = resources.EXPORT_BUCKET
    anchor_bucket: str = resources.ANCHOR_BUCKET
    export_queue: str = resources.EXPORT_QUEUE
    signing_key_id: str = resources.SIGNING_KEY
    # "inline": each request appends its audit events itself; "stream": the ledger table's stream
    # appender does, off the request path (docs/decisions/0010). The sweep repairs under both.
    audit_append: Literal["inline", "stream"] = "inline"
    # Faults injected into this process's AWS clients by the local stack's entry points (tools/local/faults.py):
    # the soak. Refused unless endpoint_url is a local one.
    faults: str | None = None
    faults_seed: int = 0
    # How far this process's clock runs ahead of the real one: the local stack run as if at GATEWAY_CLOCK_AT
    # (every process of one stack gets the same offset). Refused unless endpoint_url is a local one.
    clock_offset_seconds: float = 0.0
    dispatch_queue: str = resources.DISPATCH_QUEUE
    index_shards: int = Field(default=INDEX_SHARDS, ge=1, le=4096)  # ledger indexes and by_expiry, spread
    day_shards: int = Field(default=DAY_SHARDS, ge=1, le=1024)  # the audit table's tenant x day index, spread
    voice_permit_seconds: int = Field(default=120, gt=0)  # a permit lasts this long at most
    outcome_deadline_seconds: int = Field(default=3600, gt=0)  # no outcome by then: settled as unknown
    # The providers' sending rates for this deployment (the SNS account's SMS messages per second, the SES
    # sending rate): contacts are paced at them, a tenant's own settings only lower them. None: not paced
    # (docs/decisions/0017).
    sms_rate_per_second: float | None = Field(default=None, ge=MIN_RATE, le=MAX_RATE)
    email_rate_per_second: float | None = Field(default=None, ge=MIN_RATE, le=MAX_RATE)
    pacing_shards: int = Field(default=8, ge=1, le=256)  # counters one deployment-wide rate is spread over
    metrics_namespace: str = "ContactGateway"  # CloudWatch namespace of the metrics (telemetry.Metrics)
    webhook_table: str = resources.WEBHOOK_TABLE
    webhook_queue: str = resources.WEBHOOK_QUEUE
    webhook_key_id: str = resources.WEBHOOK_KEY
    # Where webhooks may point: "public" (https, resolving only to public addresses; deployed) or "local"
    # (any http(s) URL, 127.0.0.1 too: the local stack). "local" is refused unless endpoint_url is local.
    webhook_urls: Literal["public", "local"] = "public"
    # How long a function keeps a tenant's list of webhooks: a new or deleted one is seen by then.
    webhook_cache_seconds: float = Field(default=30.0, ge=0, le=300)

    @property
    def clock_offset(self) -> timedelta:
        return timedelta(seconds=self.clock_offset_seconds)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        names = {
            "region": "AWS_DEFAULT_REGION",
            "ledger_table": "LEDGER_TABLE",
            "audit_table": "AUDIT_TABLE",
            "idempotency_table": "IDEMPOTENCY_TABLE",
            "ses_sender": "SES_SENDER",
            "ses_configuration_set": "SES_CONFIGURATION_SET",
            "sms_sender_id": "SMS_SENDER_ID",
            "endpoint_url": "AWS_ENDPOINT_URL",
            "unsubscribe_secret": "UNSUBSCRIBE_SECRET",
            "unsubscribe_secret_arn": "UNSUBSCRIBE_SECRET_ARN",
            "public_url": "PUBLIC_URL",
            "address_index_secret": "ADDRESS_INDEX_SECRET",
            "address_index_secret_arn": "ADDRESS_INDEX_SECRET_ARN",
            "jobs_table": "JOBS_TABLE",
            "keys_table": "KEYS_TABLE",
            "batch_table": "BATCH_TABLE",
            "templates_table": "TEMPLATES_TABLE",
            "batch_queue": "BATCH_QUEUE",
            "export_bucket": "EXPORT_BUCKET",
            "anchor_bucket": "ANCHOR_BUCKET",
            "export_queue": "EXPORT_QUEUE",
            "signing_key_id": "SIGNING_KEY_ID",
            "audit_append": "AUDIT_APPEND",
            "faults": "GATEWAY_FAULTS",
            "faults_seed": "GATEWAY_FAULTS_SEED",
            "clock_offset_seconds": "GATEWAY_CLOCK_OFFSET_SECONDS",
            "dispatch_queue": "DISPATCH_QUEUE",
            "index_shards": "INDEX_SHARDS",
            "day_shards": "DAY_SHARDS",
            "voice_permit_seconds": "VOICE_PERMIT_SECONDS",
            "outcome_deadline_seconds": "OUTCOME_DEADLINE_SECONDS",
            "sms_rate_per_second": "SMS_RATE_PER_SECOND",
            "email_rate_per_second": "EMAIL_RATE_PER_SECOND",
            "pacing_shards": "PACING_SHARDS",
            "metrics_namespace": "POWERTOOLS_METRICS_NAMESPACE",
            "webhook_table": "WEBHOOK_TABLE",
            "webhook_queue": "WEBHOOK_QUEUE",
            "webhook_key_id": "WEBHOOK_KEY_ID",
            "webhook_urls": "WEBHOOK_URLS",
            "webhook_cache_seconds": "WEBHOOK_CACHE_SECONDS",
        }
        values: dict[str, Any] = {field: env[var] for field, var in names.items() if env.get(var)}
        if "clock_offset_seconds" not in values and env.get("GATEWAY_CLOCK_AT"):
            values["clock_offset_seconds"] = clock_offset(env["GATEWAY_CLOCK_AT"], datetime.now(UTC))
        return cls.model_validate(values)


def clock_offset(clock_at: str, now: datetime) -> float:
    """Seconds from ``now`` to GATEWAY_CLOCK_AT (an ISO instant with its offset, or Z)."""
    at = datetime.fromisoformat(clock_at)
    if at.tzinfo is None:
        raise ValueError(f"GATEWAY_CLOCK_AT must be an instant with its UTC offset, not {clock_at!r}")
    return (at - now).total_seconds()


# The ledger stream named when no LEDGER_STREAM_ARN is set (the local stack polls the stream itself).
UNSET_LEDGER_STREAM = "arn:aws:dynamodb:us-east-1:000000000000:table/gateway-ledger/stream/unset"


def ledger_stream_arn(env: Mapping[str, str] | None = None) -> str:
    """LEDGER_STREAM_ARN: the stream the audit appender's trigger names when app.py is imported (as ``chalice
    package`` does); the packaged template binds that trigger to the stage's ledger table anyway."""
    env = os.environ if env is None else env
    return env.get("LEDGER_STREAM_ARN") or UNSET_LEDGER_STREAM


def is_local(endpoint_url: str | None) -> bool:
    """An endpoint on this machine (moto server): what the local-only settings require."""
    if not endpoint_url:
        return False
    host = urlsplit(endpoint_url).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1")
