"""Who is calling: API keys, their tenant, role and agency, and what each role may do."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

# Tenants and agencies name keys, ledgers and buckets' prefixes: a short, safe alphabet.
TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
KEY_PREFIX = "cgw_"
# Inbound replies and provider feedback on the gateway's shared numbers and sender cannot be told apart
# by tenant: they are recorded in this scope, which every tenant's decisions read. No tenant id can
# take this name (it starts with "_").
SHARED_SCOPE = "_shared"
# The chain of a tenant's key and grant changes: "@" starts no debtor id (api.SAFE_ID).
ACCESS_CHAIN = "@access"


class Role(StrEnum):
    SUBMITTER = "submitter"
    COMPLIANCE = "compliance"
    REGULATOR = "regulator"
    ADMIN = "admin"


class AccessError(Exception):
    """A key or a grant that cannot be issued as asked (the field is named)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class AlreadyRevokedError(Exception):
    """The key was revoked before: a second revocation changes nothing and audits nothing."""


@dataclass(frozen=True)
class Principal:
    """The caller an API key stands for; ``agency`` is set when a collection agency acts for the tenant."""

    tenant: str
    role: Role
    key_id: str
    agency: str | None = None

    def sees_agency(self, agency: str | None) -> bool:
        """Agency keys see only their own contacts; the creditor's keys see every agency's."""
        return self.agency is None or self.agency == agency

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(hashed: str) -> str:
    """The public name of a key: a prefix of its hash, so listing and revoking never need the secret."""
    return f"k_{hashed[:16]}"


def check_tenant(field: str, value: str) -> str:
    if not TENANT_ID.fullmatch(value):
        raise AccessError(field, "lowercase letters, digits and '-', at most 63, starting with a letter or digit")
    return value


def check_issue(tenant: str, role: Role, agency: str | None) -> None:
    """Agencies submit contacts for a creditor and read their own; oversight stays with the creditor."""
    check_tenant("tenant", tenant)
    if agency is not None:
        check_tenant("agency", agency)
        if role is not Role.SUBMITTER:
            raise AccessError("agency", "an agency key is a submitter key; compliance keys belong to the creditor")
