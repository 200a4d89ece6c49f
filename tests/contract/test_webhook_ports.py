"""The webhook ports (WebhookRegistry, DeliveryLog, SecretBox): one suite each, against the fakes and the
AWS adapters over moto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from chalicelib.adapters.webhooks import DynamoDBWebhooks, KmsSecretBox
from chalicelib.bootstrap import Clients
from chalicelib.domain.errors import ConflictError, StorageUnavailableError
from chalicelib.settings import Settings
from tests.contract.support import dynamodb_tables
from tests.fakes import ContextBox, InMemoryWebhooks
from tools.local import provision


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest, aws_env: None) -> Iterator[Any]:
    if request.param == "memory":
        yield InMemoryWebhooks()
        return
    with dynamodb_tables() as (settings, clients):
        yield DynamoDBWebhooks(clients.dynamodb, settings.webhook_table)


@pytest.fixture(params=["memory", "kms"])
def box(request: pytest.FixtureRequest, aws_env: None) -> Iterator[Any]:
    if request.param == "memory":
        yield ContextBox()
        return
    with mock_aws():
        settings = Settings()
        clients = Clients(settings)
        provision.ensure_webhook_key(clients.kms, settings)
        yield KmsSecretBox(clients.kms, settings.webhook_key_id)


def hook(tenant: str, webhook_id: str, **extra: Any) -> dict[str, Any]:
    fields = {"url": "https://h.example.com/", "events": ["contact.sent"], "agency": None, "secret_sealed": "c2VhbGVk"}
    return {"tenant": tenant, "webhook_id": webhook_id, "created_at": "2026-03-02T00:00:00+00:00", **fields, **extra}


def test_a_tenant_lists_only_its_own_webhooks_and_a_none_field_is_not_stored(store: Any) -> None:
    store.put(hook("t", "wh_1"))
    store.put(hook("t", "wh_2", agency="acme"))
    store.put(hook("u", "wh_3"))
    found = {h["webhook_id"]: h for h in store.for_tenant("t")}
    assert sorted(found) == ["wh_1", "wh_2"] and "agency" not in found["wh_1"]
    assert found["wh_2"]["agency"] == "acme" and found["wh_1"]["events"] == ["contact.sent"]
    assert set(found["wh_1"]) == {"tenant", "webhook_id", "created_at", "url", "events", "secret_sealed"}
    assert [h["webhook_id"] for h in store.for_tenant("u")] == ["wh_3"] and store.for_tenant("v") == []


def test_a_webhook_is_registered_once_and_deleted_once(store: Any) -> None:
    store.put(hook("t", "wh_1"))
    with pytest.raises(ConflictError):
        store.put(hook("t", "wh_1"))
    assert store.delete("u", "wh_1") is False  # another tenant's id deletes nothing
    assert store.delete("t", "wh_1") is True and store.delete("t", "wh_1") is False
    assert store.for_tenant("t") == []


def test_attempts_are_read_newest_first_per_webhook(store: Any) -> None:
    for n, at in enumerate(["2026-03-02T10:00:00+00:00", "2026-03-02T10:00:05+00:00", "2026-03-02T10:05:05+00:00"]):
        entry = {"msg_id": "msg_a", "type": "contact.sent", "attempt": n + 1, "at": at, "status": 500, "ms": 3}
        store.record("t", "wh_1", entry, 1_900_000_000)
    store.record("t", "wh_2", {"msg_id": "msg_b", "attempt": 1, "at": "2026-03-02T11:00:00+00:00"}, 1_900_000_000)
    recent = store.recent("t", "wh_1", 2)
    assert [e["attempt"] for e in recent] == [3, 2] and recent[0]["status"] == 500 and recent[0]["ms"] == 3
    assert "expires_at" not in recent[0] and store.recent("u", "wh_1", 5) == []


def test_a_sealed_secret_opens_only_under_its_own_context(box: Any) -> None:
    context = {"purpose": "webhook-secret", "tenant": "t", "webhook_id": "wh_1"}
    sealed = box.seal(b"\x01" * 32, context)
    assert b"\x01" * 32 not in sealed
    assert box.open(sealed, context) == b"\x01" * 32
    with pytest.raises(StorageUnavailableError):
        box.open(sealed, {**context, "webhook_id": "wh_2"})
