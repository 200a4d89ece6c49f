"""API keys: issued once, stored as a hash, revoked for good; every change is an audit event.

A key is shown exactly once, when it is issued. The store keeps its SHA-256 with the tenant, role,
agency, name, who issued it and when. Authentication looks the hash up (strongly consistent), so a
revoked key stops working at the next request the authorizer does not answer from its cache.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from chalicelib.domain.access import (
    ACCESS_CHAIN,
    KEY_PREFIX,
    AccessError,
    AlreadyRevokedError,
    Principal,
    Role,
    check_issue,
    key_hash,
    key_id_of,
)
from chalicelib.domain.audit import Draft
from chalicelib.domain.errors import StorageUnavailableError
from chalicelib.domain.events import AuditEvent, EventType
from chalicelib.domain.ports import KeyLookup, KeyRegistry, KeyStore
from chalicelib.services import exports
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.services.writes import record_change

MAX_KEY_LENGTH = 128
UNAUDITED = "gateway: its issue could not be audited"
PUBLIC_FIELDS = ("key_id", "tenant", "role", "agency", "name", "created_by", "created_at", "revoked_at", "revoked_by")


@dataclass(frozen=True)
class IssuedKey:
    key: str  # the secret: shown once, never stored
    record: dict[str, Any]


def public(record: dict[str, Any]) -> dict[str, Any]:
    """What may be shown of a stored key: never its hash."""
    return {name: record.get(name) for name in PUBLIC_FIELDS}


def audit_access(
    deps: UnitOfWork, tenant: str, now: datetime, event: EventType, subject: str, data: dict[str, Any]
) -> None:
    """Key and grant changes go into the tenant's own chain, beside its debtors' chains."""
    record_change((tenant, ACCESS_CHAIN), deps, now, [Draft(event, subject, data)], lambda led: led)


def issue_key(
    keys: KeyRegistry,
    deps: UnitOfWork,
    now: datetime,
    *,
    tenant: str,
    role: Role,
    created_by: str,
    agency: str | None = None,
    name: str | None = None,
) -> IssuedKey:
    check_issue(tenant, role, agency)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    hashed = key_hash(key)
    key_id = key_id_of(hashed)
    record = {
        "pk": hashed,
        "key_id": key_id,
        "tenant": tenant,
        "role": role.value,
        "agency": agency,
        "name": (name or "")[:128] or None,
        "created_by": created_by,
        "created_at": now.isoformat(),
    }
    keys.put(record)
    try:
        audit_access(deps, tenant, now, EventType.KEY_CREATED, key_id, public(record))
    except StorageUnavailableError:
        # A key nobody can find in the trail must not open anything: withdrawn before the caller hears.
        keys.revoke(hashed, now.isoformat(), UNAUDITED)
        raise
    return IssuedKey(key, public(record))


def revoke_key(keys: KeyStore, deps: UnitOfWork, now: datetime, *, tenant: str, key_id: str, by: str) -> dict[str, Any]:
    """Revoked first, then audited; a revocation whose event was lost is audited by the next revocation asked for."""
    record = keys.find(tenant, key_id)  # another tenant's key is not found
    try:
        keys.revoke(record["pk"], now.isoformat(), by)
    except AlreadyRevokedError:
        if _audited(deps, tenant, key_id, EventType.KEY_REVOKED):
            raise
        stored = keys.get(record["pk"]) or record
        by, at = str(stored.get("revoked_by") or by), str(stored.get("revoked_at") or now.isoformat())
        audit_access(
            deps, tenant, now, EventType.KEY_REVOKED, key_id, {"key_id": key_id, "revoked_by": by, "revoked_at": at}
        )
        return {**public(stored), "revoked_at": at, "revoked_by": by}
    audit_access(
        deps,
        tenant,
        now,
        EventType.KEY_REVOKED,
        key_id,
        {"key_id": key_id, "revoked_by": by, "revoked_at": now.isoformat()},
    )
    return {**public(record), "revoked_at": now.isoformat(), "revoked_by": by}


def _audited(deps: UnitOfWork, tenant: str, subject: str, event_type: str) -> bool:
    """In the audit table, or committed in the access chain's ledger and on its way there."""
    pending = deps.ledgers.get(tenant, ACCESS_CHAIN).outbox
    stored = cast(list[AuditEvent], deps.audit.for_contact(tenant, subject))  # untyped port
    events = [*stored, *(e for e in pending if e["contact_id"] == subject)]
    return any(e["type"] == event_type for e in events)


def list_keys(keys: KeyRegistry, tenant: str) -> list[dict[str, Any]]:
    return sorted((public(r) for r in keys.for_tenant(tenant)), key=lambda r: str(r["created_at"]))


def authenticate(keys: KeyLookup, token: str) -> Principal | str:
    """The principal the bearer token stands for, or why there is none (``missing``, ``unknown``, ``revoked``)."""
    scheme, _, key = token.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return "missing"
    key = key.strip()
    if not key.startswith(KEY_PREFIX) or len(key) > MAX_KEY_LENGTH:
        return "unknown"
    record = keys.get(key_hash(key))
    if record is None:
        return "unknown"
    if record.get("revoked_at"):
        return "revoked"
    return Principal(
        tenant=record["tenant"], role=Role(record["role"]), key_id=record["key_id"], agency=record.get("agency")
    )


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise AccessError("role", f"one of {', '.join(r.value for r in Role)}") from None


def grant_export(
    keys: KeyLookup,
    deps: UnitOfWork,
    now: datetime,
    *,
    tenant: str,
    export_id: str,
    key_id: str,
    by: str,
) -> dict[str, Any]:
    """A compliance officer hands one export to one regulator key of the same tenant."""
    record = keys.find(tenant, key_id)  # another tenant's key is not found
    if record["role"] != Role.REGULATOR.value or record.get("revoked_at"):
        raise AccessError("key_id", "must name a regulator key that is not revoked")
    granted = exports.grant(tenant, export_id, key_id, deps, now)
    audit_access(
        deps, tenant, now, EventType.EXPORT_GRANTED, export_id, {"export_id": export_id, "key_id": key_id, "by": by}
    )
    return {"export_id": export_id, "granted_to": granted}


def withdraw_grant(
    deps: UnitOfWork, now: datetime, *, tenant: str, export_id: str, key_id: str, by: str
) -> dict[str, Any]:
    granted = exports.grant(tenant, export_id, key_id, deps, now, withdraw=True)
    audit_access(
        deps,
        tenant,
        now,
        EventType.EXPORT_GRANT_WITHDRAWN,
        export_id,
        {"export_id": export_id, "key_id": key_id, "by": by},
    )
    return {"export_id": export_id, "granted_to": granted}
