"""Hand-written fakes of the ports; they pass the same contract tests as the AWS adapters."""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain.errors import ConflictError, PermanentDeliveryError
from chalicelib.domain.ledger import Ledger, index_shard
from chalicelib.domain.pacing import take_slot


class InMemoryLedger:
    def __init__(self) -> None:
        self._items: dict[tuple[str, str], Ledger] = {}
        self._lock = threading.Lock()

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


class InMemoryAuditLog:
    def __init__(self) -> None:
        self.events: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.incident_log: list[dict[str, Any]] = []

    def record_incident(self, tenant: str, debtor_id: str, at: datetime, data: dict[str, Any]) -> None:
        self.incident_log.append({"tenant": tenant, "debtor_id": debtor_id, "at": at.isoformat(), "data": data})

    def incidents(self, tenant: str, debtor_id: str) -> list[dict[str, Any]]:
        return [i for i in self.incident_log if (i["tenant"], i["debtor_id"]) == (tenant, debtor_id)]

    def append(self, events: Sequence[dict[str, Any]]) -> int:
        before = len(self.events)
        for event in events:
            self.events.setdefault((event["tenant"], event["debtor_id"], event["seq"]), copy.deepcopy(event))
        return len(self.events) - before

    def for_person(
        self, tenant: str, debtor_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        found = [e for (t, d, s), e in self.events.items() if t == tenant and d == debtor_id and s > after_seq]
        return sorted(found, key=lambda e: e["seq"])[:limit]

    def for_contact(self, tenant: str, contact_id: str) -> list[dict[str, Any]]:
        found = [e for (t, _, _), e in self.events.items() if t == tenant and e["contact_id"] == contact_id]
        return sorted(found, key=lambda e: e["seq"])


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
