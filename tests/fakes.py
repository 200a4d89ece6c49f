"""Hand-written fakes of the ports; they pass the same contract tests as the AWS adapters."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.domain.access import AlreadyRevokedError
from chalicelib.domain.address_index import index_value
from chalicelib.domain.audit import DEFAULT_RETENTION_DAYS, event_outcome
from chalicelib.domain.errors import ConflictError, NotFoundError, PermanentDeliveryError, StorageUnavailableError
from chalicelib.domain.events import AuditEvent
from chalicelib.domain.ledger import Ledger, index_shard
from chalicelib.domain.model import Channel
from chalicelib.domain.pacing import take_slot
from chalicelib.domain.policy import PolicySet
from chalicelib.domain.ports import Answer, ReadBudget
from chalicelib.domain.receipts import SentMessage
from chalicelib.services.unit_of_work import UnitOfWork


class InMemoryLedger:
    def __init__(self) -> None:
        self._items: dict[tuple[str, str], Ledger] = {}
        self._lock = threading.Lock()
        self.redelivered: list[tuple[str, str]] = []  # what a stream would hand the appender again
        self.incident_items: list[dict[str, Any]] = []  # incidents beside the ledgers, for the appender

    def redeliver(self, image: Ledger) -> None:
        current = self._items.get((image.tenant, image.debtor_id))
        if current is not None and current.seq == image.seq:
            self.redelivered.append((image.tenant, image.debtor_id))

    def record_incident(self, tenant: str, debtor_id: str, at: datetime, data: dict[str, Any]) -> None:
        self.incident_items.append({"tenant": tenant, "debtor_id": debtor_id, "at": at.isoformat(), "data": data})

    def get(self, tenant: str, debtor_id: str) -> Ledger:
        return self._items.get((tenant, debtor_id), Ledger(tenant=tenant, debtor_id=debtor_id))

    def get_many(self, keys: Sequence[tuple[str, str]]) -> list[Ledger]:
        return [self.get(*key) for key in dict.fromkeys(keys)]

    def commit(self, ledger: Ledger, expected_version: int) -> None:
        key = (ledger.tenant, ledger.debtor_id)
        with self._lock:
            current = self._items.get(key)
            if (current.version if current else 0) != expected_version:
                raise ConflictError("version")
            self._items[key] = Ledger(**{**ledger.__dict__, "version": expected_version + 1})

    def mark_appended(self, image: Ledger, seq: int) -> None:
        key = (image.tenant, image.debtor_id)
        with self._lock:
            current = self._items.get(key)
            if current is None:
                return
            if current.seq == seq:
                self._items[key] = Ledger(**{**current.__dict__, "appended_seq": seq, "outbox": ()})
            elif current.appended_seq < seq:
                self._items[key] = Ledger(**{**current.__dict__, "appended_seq": seq})

    shards = 4

    def _due(self, until: datetime) -> list[tuple[str, str, datetime]]:
        found = [(*k, led.next_due) for k, led in self._items.items() if led.next_due and led.next_due <= until]
        return sorted(found, key=lambda f: f[2])

    def _pending(self, before: datetime) -> list[tuple[str, str]]:
        def since(led: Ledger) -> datetime:
            return min(datetime.fromisoformat(e["at"]) for e in led.outbox)

        return [k for k, led in self._items.items() if led.outbox and since(led) <= before]

    def _in(self, shard: int | None, key: tuple[str, str]) -> bool:
        return shard is not None and index_shard(*key, self.shards) == shard

    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        return [(t, d) for t, d, _at in self._due(now)][:limit]

    def with_outbox(self, before: datetime, limit: int) -> list[tuple[str, str]]:
        return self._pending(before)[:limit]

    def shard_due(self, shard: int | None, until: datetime, limit: int) -> list[tuple[str, str, datetime]]:
        return [f for f in self._due(until) if self._in(shard, f[:2])][:limit]

    def shard_with_outbox(self, shard: int | None, before: datetime, limit: int) -> list[tuple[str, str]]:
        return [k for k in self._pending(before) if self._in(shard, k)][:limit]


TEST_ADDRESS_KEY = b"test-address-index-key"


class StaticKeys:
    """One HMAC key that never rotates (the address index's, in unit tests)."""

    def __init__(self, key: bytes = TEST_ADDRESS_KEY) -> None:
        self.key = key

    def signing(self) -> bytes:
        return self.key

    def checking(self) -> tuple[bytes, ...]:
        return (self.key,)


class InMemoryAuditTrail:
    """The audit table as DynamoDBAuditTrail reads and writes it: each event once, by person and sequence."""

    address_key = TEST_ADDRESS_KEY  # what its by_address entries are hashed with (``StaticKeys``' default)

    def to_address(
        self, tenant: str, values: Sequence[str], *, after: str | None, descending: bool, limit: int
    ) -> list[dict[str, Any]]:
        entries = []
        for (t, debtor_id, seq), event in self.events.items():
            value = index_value(self.address_key, event)
            at_key = self._at_key(event)
            if t != tenant or value is None or value not in values:
                continue
            if after and (at_key >= after if descending else at_key <= after):
                continue
            contact = event["contact_id"] if event["contact_id"].startswith("ct_") else None
            entries.append({"debtor_id": debtor_id, "seq": seq, "at_key": at_key, "contact_id": contact})
        return sorted(entries, key=lambda e: str(e["at_key"]), reverse=descending)[:limit]

    def __init__(self) -> None:
        self.events: dict[tuple[str, str, int], AuditEvent] = {}
        self.incident_log: list[dict[str, Any]] = []
        self.expires: dict[tuple[str, str, int], int] = {}

    def record_incident(self, tenant: str, debtor_id: str, at: datetime, data: dict[str, Any]) -> None:
        incident = {"tenant": tenant, "debtor_id": debtor_id, "at": at.isoformat(), "data": data}
        place = (tenant, debtor_id, incident["at"])
        if not any((i["tenant"], i["debtor_id"], i["at"]) == place for i in self.incident_log):
            self.incident_log.append(incident)  # kept once, as the table's conditional put keeps it

    def incidents(self, tenant: str, debtor_id: str) -> list[dict[str, Any]]:
        return [i for i in self.incident_log if (i["tenant"], i["debtor_id"]) == (tenant, debtor_id)]

    def append(self, events: Sequence[AuditEvent]) -> int:
        return len(self.append_new(events))

    def append_new(self, events: Sequence[AuditEvent]) -> list[AuditEvent]:
        stored = []
        for event in events:
            key = (event["tenant"], event["debtor_id"], event["seq"])
            if key not in self.events:
                stored.append(event)
                self.events[key] = copy.deepcopy(event)
                at = datetime.fromisoformat(event["at"]) + timedelta(
                    days=int(event.get("retention_days", DEFAULT_RETENTION_DAYS))
                )
                self.expires[key] = int(at.timestamp())
        return stored

    def for_person(self, tenant: str, debtor_id: str, after_seq: int = 0, limit: int | None = None) -> list[AuditEvent]:
        found = [e for (t, d, s), e in self.events.items() if t == tenant and d == debtor_id and s > after_seq]
        return sorted(found, key=lambda e: e["seq"])[:limit]

    def for_contact(self, tenant: str, contact_id: str) -> list[AuditEvent]:
        found = [e for (t, _, _), e in self.events.items() if t == tenant and e["contact_id"] == contact_id]
        return sorted(found, key=lambda e: e["seq"])

    @staticmethod
    def _at_key(event: AuditEvent) -> str:
        at = datetime.fromisoformat(event["at"]).astimezone(UTC)
        return f"{at:%Y-%m-%dT%H:%M:%S.%f}Z#{event['debtor_id']}#{event['seq']:012d}"

    def _partition(self, tenant: str, by: str, value: str) -> list[AuditEvent]:
        mine = [e for (t, _, _), e in self.events.items() if t == tenant]
        if by == "person":
            return sorted((e for e in mine if e["debtor_id"] == value), key=lambda e: e["seq"])
        if by == "day":
            chosen = [e for e in mine if self._at_key(e).startswith(value)]
        else:
            chosen = [e for e in mine if e.get("account_id") == value]
        return sorted(chosen, key=self._at_key)

    @staticmethod
    def _attributes(tenant: str, event: AuditEvent) -> dict[str, Any]:
        account = f"{tenant}#{event['account_id']}" if event.get("account_id") else None
        return {
            "channel": event.get("channel"),
            "outcome": event_outcome(event),
            "type": event["type"],
            "account_key": account,
        }

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
        page_size: int | None = 200,
        bodies: bool = True,
        budget: ReadBudget | None = None,
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        events = self._partition(tenant, by, value)
        if at_range:
            events = [e for e in events if at_range[0] <= self._at_key(e) <= at_range[1]]
        events = events if forward else events[::-1]
        if start_key:  # after the cursor's event, whether a filter kept it or not (a budget's mark)
            if "at_key" in start_key:
                after = str(start_key["at_key"])
                events = [e for e in events if (self._at_key(e) > after) == forward and self._at_key(e) != after]
            else:
                after_seq = int(start_key["seq"])
                events = [e for e in events if (e["seq"] > after_seq) == forward and e["seq"] != after_seq]
        size = len(events) or 1
        read = 0
        while read < len(events):
            if budget is not None:
                size = min(page_size or 1000, max(1, budget.left))
            page, read = events[read : read + size], read + size
            if budget is not None:
                budget.charge(len(page))
            for event in page:
                if all(self._attributes(tenant, event)[n] == v for n, v in (filters or {}).items()):
                    yield self._found(tenant, event, bodies, budget)
            if budget is not None and read < len(events):
                yield self._key(tenant, page[-1]), {}

    def _key(self, tenant: str, event: AuditEvent) -> dict[str, Any]:
        return {"pk": f"{tenant}#{event['debtor_id']}", "seq": event["seq"], "at_key": self._at_key(event)}

    def _found(
        self, tenant: str, event: AuditEvent, bodies: bool, budget: ReadBudget | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if bodies:
            return self._key(tenant, event), dict(copy.deepcopy(event))
        place = {"at_key": self._at_key(event)} if budget is not None else {}
        return place, {"debtor_id": event["debtor_id"], "seq": event["seq"]}

    def segment(self, tenant: str, debtor_id: str, first_seq: int, last_seq: int) -> Iterator[AuditEvent]:
        yield from (e for e in self.for_person(tenant, debtor_id, first_seq - 1) if e["seq"] <= last_seq)

    def by_keys(self, tenant: str, keys: Sequence[tuple[str, int]]) -> list[AuditEvent]:
        return [copy.deepcopy(self.events[(tenant, d, s)]) for d, s in keys if (tenant, d, s) in self.events]

    def expiring(self, day: date) -> Iterator[dict[str, Any]]:
        for (tenant, debtor_id, seq), expires_at in list(self.expires.items()):
            if datetime.fromtimestamp(expires_at, UTC).date() == day:
                yield {
                    "pk": f"{tenant}#{debtor_id}",
                    "seq": seq,
                    "tenant": tenant,
                    "debtor_id": debtor_id,
                    "expires_at": expires_at,
                }

    def extend_retention(self, pk: str, seq: int, expires_at: int) -> int:
        tenant, debtor_id = pk.split("#", 1)
        key = (tenant, debtor_id, seq)
        if key not in self.expires:
            raise ConflictError("the event is gone")
        if self.expires[key] >= expires_at:
            raise ConflictError("a later retention is kept")
        self.expires[key] = expires_at
        return 1


class RecordingSmsSender:
    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.fail_with: Exception | None = None

    def send_sms(self, *, to: str, body: str) -> str:
        if self.fail_with:
            raise self.fail_with
        if not to.startswith("+"):
            raise PermanentDeliveryError("InvalidParameter")
        self.sent.append({"to": to, "body": body})
        return f"sms-{len(self.sent)}"


class RecordingEmailSender:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail_with: Exception | None = None

    def send_email(self, *, to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> str:
        if self.fail_with:
            raise self.fail_with
        self.sent.append({"to": to, "subject": subject, "body": body, "headers": dict(headers or {})})
        return f"email-{len(self.sent)}"


class InMemoryPacer:
    """GCRA counters, as DynamoDBPacer keeps them; ``taken`` lists every slot handed out, by key."""

    def __init__(self) -> None:
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()
        self.taken: dict[str, list[float]] = {}

    def take(self, key: str, interval: float, now: float) -> float:
        with self._lock:
            slot, self._tat[key] = take_slot(self._tat.get(key), now, interval)
            self.taken.setdefault(key, []).append(slot)
            return slot


class InMemorySettingsStore:
    def __init__(self) -> None:
        self._items: dict[str, tuple[dict[str, Any], int]] = {}
        self.reads = 0

    def get(self, tenant: str) -> tuple[dict[str, Any], int]:
        self.reads += 1
        stored, version = self._items.get(tenant, ({}, 0))
        return copy.deepcopy(stored), version

    def put(self, tenant: str, settings: dict[str, Any], expected_version: int) -> None:
        if self._items.get(tenant, ({}, 0))[1] != expected_version:
            raise ConflictError(tenant)
        self._items[tenant] = (copy.deepcopy(settings), expected_version + 1)


class InMemoryBatches:
    """Batch headers and results by ``tenant#batch_id``; the header is written once, then replaced."""

    def __init__(self) -> None:
        self._headers: dict[str, dict[str, Any]] = {}
        self._results: dict[str, dict[int, dict[str, Any]]] = {}

    def create(self, pk: str, header: dict[str, Any], ttl: int) -> bool:
        if pk in self._headers:
            return False
        self._headers[pk] = copy.deepcopy(header)
        return True

    def record(self, pk: str, index: int, result: dict[str, Any], ttl: int) -> bool:
        results = self._results.setdefault(pk, {})
        if index in results:
            return False
        results[index] = copy.deepcopy(result)
        return True

    def read(self, pk: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        results = self._results.get(pk, {})
        return copy.deepcopy(self._headers.get(pk)), [copy.deepcopy(results[i]) for i in sorted(results)]

    def replace_header(self, pk: str, header: dict[str, Any], ttl: int) -> None:
        self._headers[pk] = copy.deepcopy(header)


class RecordingQueue:
    """SQS as a worker sees it, on the test's clock ``now``: a message is visible ``delay`` seconds after it
    is sent, received once, and pending until deleted. Bodies make the JSON round trip SQS makes."""

    def __init__(self, now: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        self.now = now
        self.messages: list[tuple[datetime, dict[str, Any]]] = []  # sent, not yet received
        self.delays: list[int] = []
        self.received: list[tuple[str, str]] = []  # (message id, receipt handle) of every message received
        self.deleted: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        self.send_many([message])

    def send_many(self, messages: list[dict[str, Any]], delays: list[int] | None = None) -> list[int]:
        with self.lock:
            for i, message in enumerate(messages):
                delay = delays[i] if delays else 0
                self.delays.append(delay)
                self.messages.append((self.now + timedelta(seconds=delay), json.loads(json.dumps(message))))
        return []

    def receive(self, now: datetime | None = None) -> list[tuple[datetime, dict[str, Any]]]:
        """The messages visible at ``now`` (the queue's clock by default), each handed out once."""
        at = self.now if now is None else now
        with self.lock:
            visible = [m for m in self.messages if m[0] <= at]
            self.messages = [m for m in self.messages if m[0] > at]
            for _ in visible:
                self.received.append((f"m-{len(self.received)}", f"r-{len(self.received)}"))
        return visible

    def delete_many(self, receipts: list[tuple[str, str]]) -> None:
        self.deleted += receipts

    def pending(self) -> int:
        """Messages not yet deleted, received or not."""
        return len(self.messages) + len(set(self.received) - set(self.deleted))


class InMemoryJobs:
    def __init__(self) -> None:
        self._items: dict[str, tuple[str, int]] = {}

    def create(self, job_id: str, job: dict[str, Any]) -> None:
        if job_id in self._items:
            raise ConflictError(job_id)
        self._items[job_id] = (json.dumps(job), 1)

    def get(self, job_id: str) -> tuple[dict[str, Any], int] | None:
        found = self._items.get(job_id)
        return (json.loads(found[0]), found[1]) if found else None

    def update(self, job_id: str, job: dict[str, Any], version: int) -> int:
        if job_id not in self._items or self._items[job_id][1] != version:
            raise ConflictError(job_id)
        self._items[job_id] = (json.dumps(job), version + 1)
        return version + 1


class _Writer:
    def __init__(self, sink: IO[bytes], done: Any) -> None:
        self._sink, self._done, self._sha = sink, done, hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._sink.write(data)
        self._sha.update(data)
        self.size += len(data)

    def close(self) -> str:
        self._done(self._sink)
        return self._sha.hexdigest()


class InMemoryObjects:
    """A versioned bucket. Locked objects keep every version written; ``root``: streamed objects go to
    files under it instead of memory (an export of 100k events then measures the exporter, not the fake)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self.versions: dict[str, list[bytes]] = {}
        self.locked_until: dict[str, datetime] = {}

    def writer(self, key: str, content_type: str) -> _Writer:
        if self.root is None:
            return _Writer(io.BytesIO(), lambda sink: self.versions.setdefault(key, []).append(sink.getvalue()))
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        return _Writer(path.open("wb"), lambda sink: sink.close())

    def put_locked(self, key: str, body: bytes, retain_until: datetime) -> str | None:
        self.versions.setdefault(key, []).append(bytes(body))
        self.locked_until.setdefault(key, retain_until)
        return f"v{len(self.versions[key])}"

    def get_original(self, key: str) -> tuple[bytes | None, int]:
        versions = self.versions.get(key, [])
        return (versions[0] if versions else None), len(versions)

    def list_keys(self, prefix: str, start_after: str | None = None, limit: int = 1000) -> list[str]:
        keys = sorted(k for k in self.versions if k.startswith(prefix) and (start_after is None or k > start_after))
        return keys[:limit]

    def presigned_url(self, key: str, expires_in: int) -> str:
        return f"https://objects.invalid/{key}?expires_in={expires_in}"


class LocalSigner:
    """A local ECDSA P-256 key, as the KMS key signs manifests."""

    ALGORITHM = "ECDSA_SHA_256"
    key_id = "local-test-key"

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message, ec.ECDSA(hashes.SHA256()))

    def public_key_pem(self) -> str:
        public = self._key.public_key()
        return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class InMemorySentMessages:
    """Sent messages by channel and provider id, as DynamoDBSentMessages keeps them (without the TTL)."""

    def __init__(self) -> None:
        self.items: dict[tuple[Channel, str], SentMessage] = {}

    def remember(self, sent: SentMessage) -> None:
        self.items[(sent.channel, sent.provider_message_id)] = sent

    def find(self, channel: Channel, provider_message_id: str) -> SentMessage | None:
        return self.items.get((channel, provider_message_id))


class InMemoryRollups:
    """The daily rollup's counters as DynamoDBRollups keeps them (its shards summed), and the last check."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], dict[str, int]] = {}
        self.writes = 0
        self.checks: dict[str, dict[str, Any]] = {}

    def add(self, tenant: str, day: str, counts: Mapping[str, int]) -> None:
        self.writes += 1
        totals = self.counts.setdefault((tenant, day), {})
        for name, value in counts.items():
            totals[name] = totals.get(name, 0) + value

    def read(self, tenant: str, days: Sequence[str]) -> dict[str, dict[str, int]]:
        return {day: dict(self.counts.get((tenant, day), {})) for day in days}

    def record_check(self, tenant: str, result: Mapping[str, Any]) -> None:
        self.checks[tenant] = dict(result)

    def last_check(self, tenant: str) -> dict[str, Any] | None:
        return self.checks.get(tenant)


@dataclass
class Fakes:
    """One fake of each port, for a unit of work with nothing real in it."""

    ledgers: InMemoryLedger = field(default_factory=InMemoryLedger)
    audit: InMemoryAuditTrail = field(default_factory=InMemoryAuditTrail)
    sms: RecordingSmsSender = field(default_factory=RecordingSmsSender)
    email: RecordingEmailSender = field(default_factory=RecordingEmailSender)
    batches: InMemoryBatches = field(default_factory=InMemoryBatches)
    batch_queue: RecordingQueue = field(default_factory=RecordingQueue)
    jobs: InMemoryJobs = field(default_factory=InMemoryJobs)
    export_queue: RecordingQueue = field(default_factory=RecordingQueue)
    export_files: InMemoryObjects = field(default_factory=InMemoryObjects)
    signer: LocalSigner = field(default_factory=LocalSigner)
    templates: InMemoryTemplates = field(default_factory=lambda: InMemoryTemplates())
    sent_messages: InMemorySentMessages = field(default_factory=InMemorySentMessages)
    rollups: InMemoryRollups = field(default_factory=InMemoryRollups)


def unit_of_work(policies: PolicySet, **overrides: Any) -> UnitOfWork:
    """A unit of work over the fakes; ``overrides`` replace any of its ports or settings."""
    ports = Fakes().__dict__
    return UnitOfWork(policies=policies, **{"address_keys": StaticKeys(), **ports, **overrides})


class InMemoryKeys:
    """API keys by the hash of the key, as DynamoDBKeys keeps them; ``tenants`` lists who was ever issued one."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Any]] = {}
        self._tenants: set[str] = set()

    def put(self, record: dict[str, Any]) -> None:
        if record["pk"] in self._items:
            raise ConflictError(record["pk"][:16])
        self._items[record["pk"]] = {k: copy.deepcopy(v) for k, v in record.items() if v is not None}
        self._tenants.add(record["tenant"])

    def get(self, hashed: str) -> dict[str, Any] | None:
        return copy.deepcopy(self._items.get(hashed))

    def for_tenant(self, tenant: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(r) for r in self._items.values() if r["tenant"] == tenant]

    def find(self, tenant: str, key_id: str) -> dict[str, Any]:
        found = [r for r in self._items.values() if (r["tenant"], r.get("key_id")) == (tenant, key_id)]
        if not found:
            raise NotFoundError(key_id)
        return copy.deepcopy(found[0])

    def revoke(self, hashed: str, at: str, by: str) -> None:
        record = self._items.get(hashed)
        if record is None or "revoked_at" in record:
            raise AlreadyRevokedError(hashed[:16])
        record.update(revoked_at=at, revoked_by=by)

    def tenants(self) -> list[str]:
        return sorted(self._tenants)


class InMemoryTemplates:
    """Templates and their versions per tenant, as DynamoDBTemplates keeps them: a version is written once,
    only its status fields change, on the condition that the status is the one read."""

    SUMMARY_DROPS = ("text", "subject", "variables")

    def __init__(self) -> None:
        self._headers: dict[tuple[str, str], dict[str, Any]] = {}
        self._versions: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}

    def create(self, tenant: str, template: dict[str, Any]) -> None:
        key = (tenant, template["template_id"])
        if key in self._headers:
            raise ConflictError(template["template_id"])
        self._headers[key] = copy.deepcopy({k: v for k, v in template.items() if k != "versions"})
        self._versions[key] = {}

    def add_version(self, tenant: str, template_id: str, version: dict[str, Any]) -> None:
        versions = self._versions.setdefault((tenant, template_id), {})
        if version["version"] in versions:
            raise ConflictError(f"{template_id} v{version['version']}")
        versions[version["version"]] = copy.deepcopy(version)

    def templates(self, tenant: str) -> list[dict[str, Any]]:
        found = []
        for (owner, template_id), header in self._headers.items():
            if owner != tenant:
                continue
            versions = self._versions[(owner, template_id)]
            summaries = [
                {k: v for k, v in versions[n].items() if k not in self.SUMMARY_DROPS} for n in sorted(versions)
            ]
            found.append(copy.deepcopy({**header, "versions": summaries}))
        return found

    def get(self, tenant: str, template_id: str) -> dict[str, Any] | None:
        header = self._headers.get((tenant, template_id))
        if header is None:
            return None
        versions = self._versions[(tenant, template_id)]
        return copy.deepcopy({**header, "versions": [versions[n] for n in sorted(versions)]})

    def header(self, tenant: str, template_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self._headers.get((tenant, template_id)))

    def version(self, tenant: str, template_id: str, number: int) -> dict[str, Any] | None:
        return copy.deepcopy(self._versions.get((tenant, template_id), {}).get(number))

    def newest_approved(self, tenant: str, template_id: str, locale: str) -> dict[str, Any] | None:
        versions = self._versions.get((tenant, template_id), {})
        found = [v for n, v in sorted(versions.items()) if v["status"] == "approved" and v["locale"] == locale]
        return copy.deepcopy(found[-1]) if found else None

    def set_status(self, tenant: str, template_id: str, number: int, expected: str, changes: dict[str, Any]) -> None:
        version = self._versions.get((tenant, template_id), {}).get(number)
        if version is None or version["status"] != expected:
            raise ConflictError(f"{template_id} v{number}")
        version.update({k: str(v) for k, v in changes.items() if v is not None})
        for name in [k for k, v in changes.items() if v is None]:
            version.pop(name, None)


class InMemoryWebhooks:
    """Webhooks and their attempts log, as DynamoDBWebhooks keeps them (a None field is not stored)."""

    def __init__(self) -> None:
        self._hooks: dict[tuple[str, str], dict[str, Any]] = {}
        self._log: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def put(self, hook: dict[str, Any]) -> None:
        key = (hook["tenant"], hook["webhook_id"])
        if key in self._hooks:
            raise ConflictError(hook["webhook_id"])
        self._hooks[key] = {k: copy.deepcopy(v) for k, v in hook.items() if v is not None}

    def for_tenant(self, tenant: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(h) for (t, _id), h in sorted(self._hooks.items()) if t == tenant]

    def delete(self, tenant: str, webhook_id: str) -> bool:
        return self._hooks.pop((tenant, webhook_id), None) is not None

    def record(self, tenant: str, webhook_id: str, attempt: dict[str, Any], ttl: int) -> None:
        entry = {k: copy.deepcopy(v) for k, v in attempt.items() if v is not None}
        self._log.setdefault((tenant, webhook_id), []).append(entry)

    def recent(self, tenant: str, webhook_id: str, limit: int) -> list[dict[str, Any]]:
        entries = self._log.get((tenant, webhook_id), [])
        order = sorted(entries, key=lambda a: (a["at"], a["msg_id"], a["attempt"]), reverse=True)
        return copy.deepcopy(order[:limit])


class ContextBox:
    """A SecretBox that seals by writing the context beside the secret (no cryptography): opened under
    another context it fails as KMS does, with StorageUnavailableError."""

    def seal(self, secret: bytes, context: Mapping[str, str]) -> bytes:
        return json.dumps({"context": dict(context), "secret": secret.hex()}).encode()

    def open(self, sealed: bytes, context: Mapping[str, str]) -> bytes:
        box = json.loads(sealed)
        if box["context"] != dict(context):
            raise StorageUnavailableError("InvalidCiphertextException")
        return bytes.fromhex(box["secret"])


class Receiver:
    """Webhook receivers as the sender sees them: hosts resolve to ``addresses``; each post is kept and
    answered with the next of ``answers`` (then with ``default``)."""

    def __init__(self, addresses: dict[str, list[str]] | None = None, default: int | None = 200) -> None:
        self.addresses = addresses or {}
        self.answers: list[int | None] = []
        self.default = default
        self.posts: list[dict[str, Any]] = []

    def resolve(self, host: str) -> list[str]:
        if host.replace(".", "").isdigit() or ":" in host:  # an address resolves to itself, as getaddrinfo does
            return [host]
        return list(self.addresses.get(host, ["93.184.216.34"]))

    def post(self, url: str, address: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        status = self.answers.pop(0) if self.answers else self.default
        self.posts.append({"url": url, "address": address, "body": body, "headers": dict(headers), "status": status})
        return Answer(status, "ok" if status is not None else "ConnectionRefusedError: refused")

    def delivered(self) -> list[dict[str, Any]]:
        """The payloads of the posts answered 2xx, in order."""
        return [json.loads(p["body"]) for p in self.posts if p["status"] is not None and 200 <= p["status"] < 300]
