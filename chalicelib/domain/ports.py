"""Ports the use cases need; adapters implement them over AWS, tests over memory (``tests/fakes.py``).

Each port is what one kind of caller needs, two to four methods; one adapter often implements several
(``DynamoDBLedger`` is ``Ledgers``, ``Outbox`` and ``DueIndex``). A port speaks only of domain types and
the standard library (tests/unit/test_domain_purity.py). docs/decisions/0022-ports.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from chalicelib.domain.events import AuditEvent
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.model import Channel
from chalicelib.domain.receipts import SentMessage

# -- the ledger table ----------------------------------------------------------------------------------


class Ledgers(Protocol):
    """Each person's ledger, and the conditional commit every change goes through."""

    def get(self, tenant: str, debtor_id: str) -> Ledger: ...

    def get_many(self, keys: Sequence[tuple[str, str]]) -> list[Ledger]: ...

    def commit(self, ledger: Ledger, expected_version: int) -> None: ...


class Outbox(Protocol):
    """Committed events the audit table may still lack: who has some, and marking them appended."""

    # The sparse indexes are spread over ``shards`` shards (None: the key of before the sharding), so the
    # dispatcher's work fans out, one shard a message (services.dispatch).
    shards: int

    def with_outbox(self, before: datetime, limit: int) -> list[tuple[str, str]]: ...

    def shard_with_outbox(self, shard: int | None, before: datetime, limit: int) -> list[tuple[str, str]]: ...

    def mark_appended(self, image: Ledger, seq: int) -> None: ...

    # The stream appender is the audit table's one writer: what it missed is handed to it again, by a write
    # that changes nothing the ledger holds (docs/decisions/0029).
    def redeliver(self, image: Ledger) -> None: ...


class IncidentInbox(Protocol):
    """An incident the person's ledger could not take, kept beside it in the ledger table; the stream appender
    copies it into the audit table's incident partition (docs/decisions/0029)."""

    def record_incident(self, tenant: str, debtor_id: str, at: datetime, data: dict[str, Any]) -> None: ...


class DueIndex(Protocol):
    """People with a deferred contact to send or a permit to settle, by when."""

    shards: int

    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]: ...

    def shard_due(self, shard: int | None, until: datetime, limit: int) -> list[tuple[str, str, datetime]]: ...


class LedgerRepository(Ledgers, Outbox, DueIndex, IncidentInbox, Protocol):
    """The whole ledger table, as the unit of work holds it."""


# -- the audit table -----------------------------------------------------------------------------------


class AuditAppend(Protocol):
    """Writing audit events: appended once each, and incidents kept outside the chain."""

    def append(self, events: Sequence[AuditEvent]) -> int: ...  # how many were new

    def append_new(self, events: Sequence[AuditEvent]) -> list[AuditEvent]: ...  # those not stored before

    def record_incident(self, tenant: str, debtor_id: str, at: datetime, data: dict[str, Any]) -> None: ...


class AuditHistory(Protocol):
    """A person's or a contact's audit events, oldest first."""

    def for_person(
        self, tenant: str, debtor_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[AuditEvent]: ...

    def for_contact(self, tenant: str, contact_id: str) -> list[AuditEvent]: ...


@dataclass
class ReadBudget:
    """What one request may read of the audit table (docs/decisions/0026-read-budgets.md): each item a
    Query reads counts, whether or not a filter keeps it, and each event read by key; a Query that reads
    nothing counts one (it still costs a read unit)."""

    items: int
    read: int = 0

    def charge(self, items: int) -> None:
        self.read += max(1, items)

    @property
    def left(self) -> int:
        return max(self.items - self.read, 0)

    @property
    def spent(self) -> bool:
        return self.read >= self.items


class AuditQuery(Protocol):
    """Audit events by index (day, debt), by chain segment and by key: queries, anchors and exports.

    ``select`` with a ``budget`` charges it each page it reads, makes its pages smaller as the budget
    runs low, and after each page that is not its partition's last yields a mark: ``(key, {})``, an
    empty event, where ``key`` is the key of the last item the page read (kept or filtered out). A reader
    may stop at a mark and resume after its key: everything before it was read and yielded.
    """

    def select(
        self,
        *,
        tenant: str,
        by: str,
        value: str,
        at_range: tuple[str, str] | None = None,
        filters: Mapping[str, str] | None = None,
        forward: bool = True,
        start_key: Mapping[str, Any] | None = None,
        page_size: int | None = 200,  # None: DynamoDB's 1 MB pages
        bodies: bool = True,  # False: each event is only its debtor_id and seq, not an AuditEvent
        budget: ReadBudget | None = None,
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]: ...

    def segment(self, tenant: str, debtor_id: str, first_seq: int, last_seq: int) -> Iterator[AuditEvent]: ...

    def by_keys(self, tenant: str, keys: Sequence[tuple[str, int]]) -> list[AuditEvent]: ...


class AuditRetention(Protocol):
    """Audit events about to expire, and keeping them longer."""

    def expiring(self, day: date) -> Iterator[dict[str, Any]]: ...

    # how many items it moved: the event, and the later events of its run the index lists by it alone
    def extend_retention(self, pk: str, seq: int, expires_at: int) -> int: ...


class AddressIndex(Protocol):
    """Events by the keyed hash of the address they name (``address_index.index_value``), newest first or
    oldest first, after an ``at_key`` (``<utc>#<debtor>#<seq>``): each entry's ``debtor_id``, ``seq``,
    ``at_key`` and ``contact_id`` (None for an event of no contact). A Query on an index, never a scan."""

    def to_address(
        self, tenant: str, values: Sequence[str], *, after: str | None, descending: bool, limit: int
    ) -> list[dict[str, Any]]: ...


class AuditTrail(AuditAppend, AuditHistory, AuditQuery, AuditRetention, AddressIndex, Protocol):
    """The whole audit table, as the unit of work holds it."""


# -- keys and tenant settings (the keys table) ---------------------------------------------------------


class KeyLookup(Protocol):
    """An API key by the hash of the key (the authorizer), or by its id within a tenant."""

    def get(self, hashed: str) -> dict[str, Any] | None: ...

    def find(self, tenant: str, key_id: str) -> dict[str, Any]: ...


class KeyRegistry(Protocol):
    """Issuing and revoking API keys, each tenant's list of them, and the tenants that have some."""

    def put(self, record: dict[str, Any]) -> None: ...

    def revoke(self, hashed: str, at: str, by: str) -> None: ...

    def for_tenant(self, tenant: str) -> list[dict[str, Any]]: ...

    def tenants(self) -> list[str]: ...


class KeyStore(KeyLookup, KeyRegistry, Protocol):
    """The whole key store: revoking a key finds it first."""


class SettingsStore(Protocol):
    """Each tenant's settings (``/v1/settings``) and their version, for a conditional change."""

    def get(self, tenant: str) -> tuple[dict[str, Any], int]: ...

    def put(self, tenant: str, settings: dict[str, Any], expected_version: int) -> None: ...


class TemplateLookup(Protocol):
    """What a contact naming a template reads: the template, and the one version it sends, read by key (or
    the newest approved in a locale, newest first), never every version."""

    def header(self, tenant: str, template_id: str) -> dict[str, Any] | None: ...

    def version(self, tenant: str, template_id: str, number: int) -> dict[str, Any] | None: ...

    def newest_approved(self, tenant: str, template_id: str, locale: str) -> dict[str, Any] | None: ...


class TemplateStore(TemplateLookup, Protocol):
    """A tenant's message templates and their versions (docs/decisions/0033). A version is written once;
    only its status (and who moved it, when) changes after, conditionally on the status read."""

    def create(self, tenant: str, template: dict[str, Any]) -> None: ...

    def templates(self, tenant: str) -> list[dict[str, Any]]: ...  # each with its versions' summaries

    def get(self, tenant: str, template_id: str) -> dict[str, Any] | None: ...  # with its versions, whole

    def add_version(self, tenant: str, template_id: str, version: dict[str, Any]) -> None: ...  # ConflictError

    def set_status(
        self, tenant: str, template_id: str, number: int, expected: str, changes: dict[str, Any]
    ) -> None: ...  # ConflictError when the stored status is not ``expected``


class Pacer(Protocol):
    """Shared counters of provider slots (docs/decisions/0017)."""

    def take(self, key: str, interval: float, now: float) -> float: ...  # a slot, epoch seconds


# -- providers -----------------------------------------------------------------------------------------


class SmsSender(Protocol):
    def send_sms(self, *, to: str, body: str) -> str: ...


class EmailSender(Protocol):
    def send_email(self, *, to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> str: ...


class SentMessages(Protocol):
    """Each sent message under its provider's id, for a while (``SENT_MESSAGE_DAYS``): what a receipt is about."""

    def remember(self, sent: SentMessage) -> None: ...

    def find(self, channel: Channel, provider_message_id: str) -> SentMessage | None: ...


# -- queues --------------------------------------------------------------------------------------------


class Queue(Protocol):
    """Messages for a worker: one, or many at once (returns the indexes of those the queue did not take).

    ``delays``: seconds each message stays invisible."""

    def send(self, message: dict[str, Any]) -> None: ...

    def send_many(self, messages: list[dict[str, Any]], delays: list[int] | None = None) -> list[int]: ...


class Deleter(Protocol):
    """Deleting handled messages of a delivery, so only the failed ones come back."""

    def delete_many(self, receipts: list[tuple[str, str]]) -> None: ...


# -- batches and export jobs ---------------------------------------------------------------------------


class BatchStore(Protocol):
    """A batch's header and each request's result, each written once."""

    def create(self, pk: str, header: dict[str, Any], ttl: int) -> bool: ...

    def record(self, pk: str, index: int, result: dict[str, Any], ttl: int) -> bool: ...

    def read(self, pk: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]: ...

    def replace_header(self, pk: str, header: dict[str, Any], ttl: int) -> None: ...


class Jobs(Protocol):
    def create(self, job_id: str, job: dict[str, Any]) -> None: ...

    def get(self, job_id: str) -> tuple[dict[str, Any], int] | None: ...

    def update(self, job_id: str, job: dict[str, Any], version: int) -> int: ...


# -- buckets and the signing key -----------------------------------------------------------------------


class StreamWriter(Protocol):
    size: int

    def write(self, data: bytes) -> None: ...

    def close(self) -> str: ...


class ExportFiles(Protocol):
    """The export bucket: files written as they are produced, and a link to download each."""

    def writer(self, key: str, content_type: str) -> StreamWriter: ...

    def presigned_url(self, key: str, expires_in: int) -> str: ...


class LockedObjects(Protocol):
    """The anchor bucket: objects written once under a lock, read back as first written."""

    def put_locked(self, key: str, body: bytes, retain_until: datetime) -> str | None: ...

    def get_original(self, key: str) -> tuple[bytes | None, int]: ...

    def list_keys(self, prefix: str, start_after: str | None = None, limit: int = 1000) -> list[str]: ...


class Signer(Protocol):
    ALGORITHM: str
    key_id: str

    def sign(self, message: bytes) -> bytes: ...

    def public_key_pem(self) -> str: ...


# -- the unsubscribe secret ----------------------------------------------------------------------------


class UnsubscribeKeys(Protocol):
    """The HMAC keys of unsubscribe links: the current one signs; the current one, then the one before the
    last rotation, check. Either raises ``SecretUnavailableError`` when the secret cannot be read."""

    def signing(self) -> bytes: ...

    def checking(self) -> tuple[bytes, ...]: ...


class AddressKeys(Protocol):
    """The address index's HMAC keys: ``signing`` indexes an event, ``checking`` are every key a search tries
    (the current one first). Either raises ``SecretUnavailableError`` when the secret cannot be read."""

    def signing(self) -> bytes: ...

    def checking(self) -> tuple[bytes, ...]: ...


class Rollups(Protocol):
    """The daily rollup's counters (``domain/rollup.py``), and the last invariant check's result."""

    def add(self, tenant: str, day: str, counts: Mapping[str, int]) -> None: ...

    def read(self, tenant: str, days: Sequence[str]) -> dict[str, dict[str, int]]: ...  # day -> counts

    def record_check(self, tenant: str, result: Mapping[str, Any]) -> None: ...

    def last_check(self, tenant: str) -> dict[str, Any] | None: ...


# -- webhooks ------------------------------------------------------------------------------------------


class WebhookRegistry(Protocol):
    """Each tenant's webhooks, as stored (the secret sealed, never in the clear)."""

    def put(self, hook: dict[str, Any]) -> None: ...

    def for_tenant(self, tenant: str) -> list[dict[str, Any]]: ...

    def delete(self, tenant: str, webhook_id: str) -> bool: ...  # False: there was none


class DeliveryLog(Protocol):
    """The recent attempts of each webhook and what its receiver answered, kept ``ttl`` seconds."""

    def record(self, tenant: str, webhook_id: str, attempt: dict[str, Any], ttl: int) -> None: ...

    def recent(self, tenant: str, webhook_id: str, limit: int) -> list[dict[str, Any]]: ...  # newest first


class SecretBox(Protocol):
    """Seals a webhook's signing secret for storage and opens it for the sender, bound to ``context``."""

    def seal(self, secret: bytes, context: Mapping[str, str]) -> bytes: ...

    def open(self, sealed: bytes, context: Mapping[str, str]) -> bytes: ...


@dataclass(frozen=True)
class Answer:
    """What a receiver did with one attempt: its status code (None: no answer) and a short excerpt or error."""

    status: int | None
    detail: str
    ms: int = 0


class WebhookPoster(Protocol):
    """Resolves a receiver's host and posts to it, never following a redirect."""

    def resolve(self, host: str) -> list[str]: ...

    def post(self, url: str, address: str, body: bytes, headers: Mapping[str, str]) -> Answer: ...
