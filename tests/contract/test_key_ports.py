"""The key store (KeyLookup, KeyRegistry): one suite, run against the fake and DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.adapters.keys import DynamoDBKeys
from chalicelib.domain.access import AlreadyRevokedError
from chalicelib.domain.errors import ConflictError, NotFoundError
from chalicelib.domain.ports import KeyStore
from tests.contract.support import dynamodb_tables
from tests.fakes import InMemoryKeys


@pytest.fixture(params=["memory", "dynamodb"])
def keys(request: pytest.FixtureRequest, aws_env: None) -> Iterator[KeyStore]:
    if request.param == "memory":
        yield InMemoryKeys()
        return
    with dynamodb_tables() as (settings, clients):
        yield DynamoDBKeys(clients.dynamodb, settings.keys_table)


def record(hashed: str, tenant: str = "t", key_id: str = "k-1", **extra: Any) -> dict[str, Any]:
    return {"pk": hashed, "tenant": tenant, "key_id": key_id, "role": "submitter", "agency": None, **extra}


def test_a_key_is_found_by_its_hash_and_by_its_id_within_its_tenant(keys: KeyStore) -> None:
    keys.put(record("h1", created_at="2026-03-02T00:00:00+00:00"))
    found = keys.get("h1")
    assert found is not None and (found["tenant"], found["key_id"]) == ("t", "k-1") and "agency" not in found
    assert keys.find("t", "k-1")["pk"] == "h1"
    assert keys.get("h2") is None
    with pytest.raises(NotFoundError):
        keys.find("other", "k-1")  # another tenant's key is not found


def test_a_key_is_issued_once(keys: KeyStore) -> None:
    keys.put(record("h1"))
    with pytest.raises(ConflictError):
        keys.put(record("h1", key_id="k-2"))


def test_a_tenant_lists_its_own_keys_and_every_tenant_ever_issued_one_is_known(keys: KeyStore) -> None:
    assert keys.tenants() == []
    keys.put(record("h1", "t", "k-1"))
    keys.put(record("h2", "t", "k-2"))
    keys.put(record("h3", "u", "k-1"))
    assert sorted(r["key_id"] for r in keys.for_tenant("t")) == ["k-1", "k-2"]
    assert [r["pk"] for r in keys.for_tenant("u")] == ["h3"] and keys.for_tenant("v") == []
    assert keys.tenants() == ["t", "u"]


def test_a_key_is_revoked_once(keys: KeyStore) -> None:
    keys.put(record("h1"))
    keys.revoke("h1", "2026-03-02T10:00:00+00:00", "officer")
    stored = keys.get("h1")
    assert stored is not None and (stored["revoked_at"], stored["revoked_by"]) == (
        "2026-03-02T10:00:00+00:00",
        "officer",
    )
    with pytest.raises(AlreadyRevokedError):
        keys.revoke("h1", "2026-03-02T11:00:00+00:00", "someone else")
    with pytest.raises(AlreadyRevokedError):
        keys.revoke("never-issued", "2026-03-02T11:00:00+00:00", "officer")
