"""Ports the use cases need; adapters implement them over AWS, tests over memory."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.ledger import Ledger


class LedgerRepository(Protocol):
    def get(self, tenant: str, debtor_id: str) -> Ledger: ...

    def commit(self, ledger: Ledger, expected_version: int) -> None: ...

    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]: ...

    def with_outbox(self, before: datetime, limit: int) -> list[tuple[str, str]]: ...


class AuditLog(Protocol):
    def append(self, events: Sequence[dict[str, Any]]) -> None: ...

    def for_person(
        self, tenant: str, debtor_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]: ...

    def for_contact(self, tenant: str, contact_id: str) -> list[dict[str, Any]]: ...

    def record_incident(self, tenant: str, debtor_id: str, at: datetime, data: dict[str, Any]) -> None: ...


class SmsSender(Protocol):
    def send_sms(self, *, to: str, body: str) -> str: ...


class EmailSender(Protocol):
    def send_email(self, *, to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> str: ...
