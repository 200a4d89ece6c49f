"""The composition root: settings, lazily built clients, adapters, policies, use-case dependencies.

Nothing here runs at import: ``chalice local``, moto and cold starts all rely on that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.loaders import Loader, create_loader

from chalicelib import idempotency, policy_store, telemetry
from chalicelib.adapters.batches import DynamoDBBatches
from chalicelib.adapters.dynamodb import AuditShards, DynamoDBAuditLog, DynamoDBAuditTrail, DynamoDBLedger
from chalicelib.adapters.keys import DynamoDBKeys
from chalicelib.adapters.messaging import SesEmailSender, SnsSmsSender
from chalicelib.adapters.pacing import DynamoDBPacer, DynamoDBTenantSettings
from chalicelib.adapters.rollups import DynamoDBRollups
from chalicelib.adapters.secrets import (
    SecretsManagerAddressKeys,
    SecretsManagerUnsubscribeKeys,
    StaticAddressKeys,
    StaticUnsubscribeKeys,
)
from chalicelib.adapters.sent_messages import DynamoDBSentMessages
from chalicelib.adapters.storage import DynamoDBJobs, KmsSigner, S3Objects, SqsQueue
from chalicelib.adapters.templates import DynamoDBTemplates
from chalicelib.adapters.webhooks import DynamoDBWebhooks, HttpWebhookPoster, KmsSecretBox
from chalicelib.domain.model import Channel
from chalicelib.domain.policy import PolicySet
from chalicelib.domain.ports import AddressKeys, UnsubscribeKeys
from chalicelib.services import dispatch, unsubscribe
from chalicelib.services.pacing import Pacing
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.services.webhook_delivery import Webhooks
from chalicelib.settings import Settings, is_local

# Storage calls may be retried by botocore (a retried conditional write is safe: it either
# applied once or fails its condition). Provider calls are not: a retried Publish after a read
# timeout could send twice, so the gateway handles their retries itself (docs/decisions/0003).
# ``total_max_attempts`` counts the first attempt; botocore's ``max_attempts`` counts retries only (with
# ``max_attempts: 1`` a Publish whose answer was lost went out twice: tests/integration/test_faults.py).
STORAGE_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2, read_timeout=5)
PROVIDER_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=2, read_timeout=10)


# What each client ``bootstrap()`` makes passes through, when it is given no clients. Nothing sets it in AWS,
# where no tool is deployed; a local entry point sets it before it serves the app (tools/local/chalicelocal.py:
# the fault injector of GATEWAY_FAULTS). Tests and the local stack's loops pass ``Clients(wrap=...)`` instead.
client_wrap: Callable[[Any], Any] | None = None


class _OnFirstUse:
    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make

    @cached_property
    def _client(self) -> Any:
        return self._make()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


_loader: Loader | None = None


def new_session(**credentials: Any) -> boto3.session.Session:
    """A new boto3 session (one a client: a session is not thread-safe) reading botocore's models through the
    process's one loader. A session's own loader parses the endpoint rules, defaults and service model from
    JSON again for every client; the loader only reads files and keeps what it read, as it does for all the
    clients of one session, so each is read once a process (docs/decisions/0040)."""
    global _loader
    core = botocore.session.Session()
    if _loader is None:
        _loader = create_loader(core.get_config_variable("data_path"))
    core.register_component("data_loader", _loader)
    return boto3.session.Session(botocore_session=core, **credentials)


@dataclass
class Clients:
    settings: Settings
    session_factory: Callable[[], Any] = field(default=new_session)
    wrap: Callable[[Any], Any] | None = None  # each client as it is made (the local stack's fault injector)

    def _client(self, service: str, config: Config) -> Any:
        session = self.session_factory()
        client = session.client(
            service, region_name=self.settings.region, endpoint_url=self.settings.endpoint_url, config=config
        )
        return self.wrap(client) if self.wrap is not None else client

    def on_first_use(self, service: str) -> Any:
        """The client of ``service``, made on its first call: a function that never exports makes no S3 or
        KMS client (each costs a cold start tens of milliseconds)."""
        return _OnFirstUse(lambda: getattr(self, service))

    @cached_property
    def dynamodb(self) -> Any:
        return self._client("dynamodb", STORAGE_CONFIG)

    @cached_property
    def s3(self) -> Any:
        return self._client("s3", STORAGE_CONFIG)

    @cached_property
    def kms(self) -> Any:
        return self._client("kms", STORAGE_CONFIG)

    @cached_property
    def sqs(self) -> Any:
        return self._client("sqs", STORAGE_CONFIG)

    @cached_property
    def sns(self) -> Any:
        return self._client("sns", PROVIDER_CONFIG)

    @cached_property
    def sesv2(self) -> Any:
        return self._client("sesv2", PROVIDER_CONFIG)

    @cached_property
    def secretsmanager(self) -> Any:
        return self._client("secretsmanager", STORAGE_CONFIG)


@dataclass
class Runtime:
    """What a function runs with: settings, clients, policies, and the adapters and use-case dependencies
    built from them on first use."""

    settings: Settings
    clients: Clients
    policies: PolicySet
    clock: Callable[[], datetime]

    @cached_property
    def deps(self) -> UnitOfWork:
        """Every use case's ports, built once; a client is made on its first call (``Clients.on_first_use``)."""
        lazy = self.clients.on_first_use
        return UnitOfWork(
            ledgers=DynamoDBLedger(
                self.clients.dynamodb,
                self.settings.ledger_table,
                self.settings.index_shards,
                handoff=self.settings.audit_append == "stream",
            ),
            audit=self.audit,
            sms=SnsSmsSender(self.clients.sns, self.settings.sms_sender_id),
            email=SesEmailSender(self.clients.sesv2, self.settings.ses_sender, self.settings.ses_configuration_set),
            policies=self.policies,
            batches=DynamoDBBatches(self.clients.dynamodb, self.settings.batch_table),
            batch_queue=self.batch_queue,
            jobs=DynamoDBJobs(self.clients.dynamodb, self.settings.jobs_table),
            export_queue=SqsQueue(lazy("sqs"), self.settings.export_queue),
            export_files=S3Objects(lazy("s3"), self.settings.export_bucket),
            signer=KmsSigner(lazy("kms"), self.settings.signing_key_id),
            anchors=S3Objects(lazy("s3"), self.settings.anchor_bucket),
            retention_years=max((p.retention_years for p in self.policies.packs), default=3) + 1,
            unsubscribe_headers=self._unsubscribe_headers(),
            audit_inline=self.settings.audit_append == "inline",
            observe=self.metrics.record_decision,
            permit_for=timedelta(seconds=self.settings.voice_permit_seconds),
            outcome_deadline=timedelta(seconds=self.settings.outcome_deadline_seconds),
            pacing=self.pacing,
            wake=lambda tenant, debtor_id, at: dispatch.wake(self.dispatch_queue, tenant, debtor_id, at, self.now()),
            templates=DynamoDBTemplates(self.clients.dynamodb, self.settings.templates_table),
            address_keys=self.address_keys,
            rollups=DynamoDBRollups(self.clients.dynamodb, self.settings.keys_table),
            sent_messages=DynamoDBSentMessages(self.clients.dynamodb, self.settings.sent_messages_table),
        )

    # The names the app's routes and handlers use for the unit of work.

    @cached_property
    def metrics(self) -> telemetry.Metrics:
        return telemetry.Metrics(self.settings.metrics_namespace)

    @cached_property
    def tenant_settings(self) -> DynamoDBTenantSettings:
        return DynamoDBTenantSettings(self.clients.dynamodb, self.settings.keys_table)

    @cached_property
    def pacing(self) -> Pacing:
        """Every sending path's slots: SMS_RATE_PER_SECOND, EMAIL_RATE_PER_SECOND and each tenant's settings."""
        rates = {Channel.SMS: self.settings.sms_rate_per_second, Channel.EMAIL: self.settings.email_rate_per_second}
        pacer = DynamoDBPacer(self.clients.dynamodb, self.settings.keys_table)
        return Pacing(pacer, self.tenant_settings, rates, self.settings.pacing_shards)

    def now(self) -> datetime:
        """This deployment's clock: the real one, or the local stack's chosen one (GATEWAY_CLOCK_AT)."""
        return self.clock()

    def submit(self, payload: dict[str, Any]) -> dict[str, Any]:
        """One contact submitted now: ``{"status", "body"}`` (``chalicelib.idempotency.submit``)."""
        return idempotency.submit(payload, self.deps, self.now())

    @cached_property
    def submit_once(self) -> idempotency.IdempotentSubmit:
        """``submit`` once per tenant and ``Idempotency-Key``, its answers kept in the idempotency table."""
        return idempotency.IdempotentSubmit(self.submit, self.clients.dynamodb, self.settings.idempotency_table)

    @cached_property
    def batch_queue(self) -> SqsQueue:
        return SqsQueue(self.clients.sqs, self.settings.batch_queue)

    @cached_property
    def dispatch_queue(self) -> SqsQueue:
        return SqsQueue(self.clients.sqs, self.settings.dispatch_queue)

    @cached_property
    def keys(self) -> DynamoDBKeys:
        return DynamoDBKeys(self.clients.dynamodb, self.settings.keys_table)

    @cached_property
    def audit(self) -> DynamoDBAuditTrail:
        shards = AuditShards(day=self.settings.day_shards, expiry=self.settings.index_shards)
        return DynamoDBAuditTrail(self.clients.dynamodb, self.settings.audit_table, shards, self.address_keys)

    @cached_property
    def address_keys(self) -> AddressKeys | None:
        """The address index's key: ADDRESS_INDEX_SECRET_ARN's secret (deployed), else ADDRESS_INDEX_SECRET."""
        if self.settings.address_index_secret_arn:
            return SecretsManagerAddressKeys(
                self.clients.on_first_use("secretsmanager"), self.settings.address_index_secret_arn
            )
        if self.settings.address_index_secret:
            return StaticAddressKeys(self.settings.address_index_secret)
        return None

    @cached_property
    def unsubscribe_keys(self) -> UnsubscribeKeys | None:
        """The unsubscribe links' keys: the secret named by UNSUBSCRIBE_SECRET_ARN, read at run time and
        cached (deployed), else UNSUBSCRIBE_SECRET (the local stack, tests); None: no email is sent."""
        if self.settings.unsubscribe_secret_arn:
            return SecretsManagerUnsubscribeKeys(
                self.clients.on_first_use("secretsmanager"), self.settings.unsubscribe_secret_arn
            )
        if self.settings.unsubscribe_secret:
            return StaticUnsubscribeKeys(self.settings.unsubscribe_secret)
        return None

    @cached_property
    def webhooks(self) -> Webhooks:
        """Webhook registrations, attempts, sealed secrets, the receivers' HTTP client and the webhook queue."""
        store = DynamoDBWebhooks(self.clients.dynamodb, self.settings.webhook_table)
        return Webhooks(
            registry=store,
            log=store,
            box=KmsSecretBox(self.clients.on_first_use("kms"), self.settings.webhook_key_id),
            poster=HttpWebhookPoster(),
            queue=SqsQueue(self.clients.on_first_use("sqs"), self.settings.webhook_queue),
            dead=SqsQueue(self.clients.on_first_use("sqs"), f"{self.settings.webhook_queue}-dead"),
            mode=self.settings.webhook_urls,
            cache_for=timedelta(seconds=self.settings.webhook_cache_seconds),
        )

    def _unsubscribe_headers(self) -> Callable[[str, str], dict[str, str]] | None:
        keys, url = self.unsubscribe_keys, self.settings.public_url
        if keys is None:
            return None
        # The key is read at each send (from the cache): a rotation reaches the next email.
        return lambda tenant, address: unsubscribe.headers(keys.signing(), url, tenant, address)


ADAPTERS = (
    DynamoDBLedger,
    DynamoDBAuditLog,
    DynamoDBAuditTrail,
    DynamoDBKeys,
    DynamoDBBatches,
    DynamoDBJobs,
    SnsSmsSender,
    SesEmailSender,
    S3Objects,
    KmsSigner,
    SqsQueue,
    DynamoDBPacer,
    DynamoDBTenantSettings,
    SecretsManagerUnsubscribeKeys,
    DynamoDBTemplates,
    SecretsManagerAddressKeys,
    DynamoDBRollups,
    DynamoDBWebhooks,
    KmsSecretBox,
)


def system_clock(offset: timedelta = timedelta(0)) -> Callable[[], datetime]:
    """The real time in UTC, moved by the local stack's chosen offset (GATEWAY_CLOCK_AT; none when deployed)."""
    return lambda: datetime.now(UTC) + offset


def bootstrap(
    settings: Settings | None = None,
    clients: Clients | None = None,
    policies: PolicySet | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Runtime:
    """Build the runtime; a broken or missing policy bundle raises here, before anything is sent.

    ``clock``: what every route and trigger reads as now; by default the real time (with the local stack's
    offset). Tests and bench pass a fixed one."""
    settings = settings or Settings.from_env()
    local_only = {"GATEWAY_CLOCK_AT": settings.clock_offset_seconds, "GATEWAY_FAULTS": settings.faults}
    local_only["WEBHOOK_URLS=local"] = settings.webhook_urls == "local"
    for name, value in local_only.items():  # a deployment that asks for either does not start
        if value and not is_local(settings.endpoint_url):
            raise ValueError(f"{name} is for the local stack only (AWS_ENDPOINT_URL on 127.0.0.1)")
    for adapter in ADAPTERS:  # in Lambda with tracing on: a subsegment per adapter call
        telemetry.traced(adapter)
    return Runtime(
        settings=settings,
        clients=clients or Clients(settings, wrap=client_wrap),
        policies=policies or policy_store.load_policy_bundle(),
        clock=clock or system_clock(settings.clock_offset),
    )


class LazyRuntime:
    """The runtime a function instance runs with: built on first use, then kept for the instance's life.
    ``using`` lends another one (a test's, a bench's) for a block and puts the first one back."""

    def __init__(self, build: Callable[[], Runtime] = bootstrap) -> None:
        self._build = build
        self._built: Runtime | None = None

    def __call__(self) -> Runtime:
        if self._built is None:
            self._built = self._build()
        return self._built

    @contextmanager
    def using(self, built: Runtime) -> Iterator[Runtime]:
        before, self._built = self._built, built
        try:
            yield built
        finally:
            self._built = before
