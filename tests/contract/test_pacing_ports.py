"""The pacing counter and the tenant settings store: one suite, run against the fakes and DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.adapters.pacing import DynamoDBPacer, DynamoDBTenantSettings
from chalicelib.domain.errors import ConflictError
from tests.contract.support import dynamodb_tables
from tests.fakes import InMemoryPacer, InMemorySettingsStore

T0 = 1_800_000_000.0


@pytest.fixture(params=["memory", "dynamodb"])
def stores(request, aws_env) -> Iterator[tuple[object, object]]:
    if request.param == "memory":
        yield InMemoryPacer(), InMemorySettingsStore()
        return
    with dynamodb_tables() as (settings, clients):
        yield (
            DynamoDBPacer(clients.dynamodb, settings.keys_table),
            DynamoDBTenantSettings(clients.dynamodb, settings.keys_table),
        )


def test_an_idle_counter_gives_the_present_and_a_busy_one_the_next_slot_in_turn(stores):
    pacer, _ = stores
    slots = [pacer.take("@pace#sms#0", 0.5, T0) for _ in range(4)]
    assert slots == pytest.approx([T0, T0 + 0.5, T0 + 1.0, T0 + 1.5])


def test_a_counter_that_fell_idle_starts_again_from_the_present(stores):
    pacer, _ = stores
    pacer.take("@pace#sms#0", 1.0, T0)
    pacer.take("@pace#sms#0", 1.0, T0)  # busy until T0 + 2
    assert pacer.take("@pace#sms#0", 1.0, T0 + 10) == pytest.approx(T0 + 10)
    assert pacer.take("@pace#sms#0", 1.0, T0 + 10.25) == pytest.approx(T0 + 11)


def test_counters_are_independent_by_key(stores):
    pacer, _ = stores
    pacer.take("@pace#sms#0", 1.0, T0)
    assert pacer.take("@pace#sms#1", 1.0, T0) == pytest.approx(T0)
    assert pacer.take("@pace#email@t", 1.0, T0) == pytest.approx(T0)


def test_settings_start_empty_and_change_only_on_the_version_read(stores):
    _, settings = stores
    assert settings.get("t") == ({}, 0)
    settings.put("t", {"sms_rate_per_second": 5.0}, 0)
    assert settings.get("t") == ({"sms_rate_per_second": 5.0}, 1)
    with pytest.raises(ConflictError):
        settings.put("t", {"sms_rate_per_second": 1.0}, 0)
    settings.put("t", {}, 1)
    assert settings.get("t") == ({}, 2) and settings.get("other") == ({}, 0)
