"""The daily rollup store: one suite, run against the fake and DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import cycle

import pytest

from chalicelib.adapters.rollups import DynamoDBRollups
from tests.contract.support import dynamodb_tables
from tests.fakes import InMemoryRollups


@pytest.fixture(params=["memory", "dynamodb"])
def rollups(request, aws_env) -> Iterator[object]:
    if request.param == "memory":
        yield InMemoryRollups()
        return
    shards = cycle(range(3))  # each write on the next shard: the read must sum them
    with dynamodb_tables() as (settings, clients):
        yield DynamoDBRollups(clients.dynamodb, settings.keys_table, shards=3, pick=lambda n: next(shards))


def test_counts_added_in_batches_are_read_back_summed_by_day(rollups):
    rollups.add("t", "2026-03-02", {"events": 3, "status:sent": 1, "rule:us-federal/quiet-hours": 2})
    rollups.add("t", "2026-03-02", {"events": 2, "status:sent": 1})
    rollups.add("t", "2026-03-02", {"events": 1, "status:failed:sms": 1})
    rollups.add("t", "2026-03-03", {"events": 4})
    rollups.add("u", "2026-03-02", {"events": 9})
    found = rollups.read("t", ["2026-03-01", "2026-03-02", "2026-03-03"])
    assert found["2026-03-01"] == {}
    assert found["2026-03-02"] == {
        "events": 6,
        "status:sent": 2,
        "rule:us-federal/quiet-hours": 2,
        "status:failed:sms": 1,
    }
    assert found["2026-03-03"] == {"events": 4}


def test_the_last_check_is_the_one_recorded_last_per_tenant(rollups):
    assert rollups.last_check("t") is None
    rollups.record_check("t", {"ok": False, "violations": {"over-contact": 1}})
    rollups.record_check("t", {"ok": True, "violations": {}})
    assert rollups.last_check("t") == {"ok": True, "violations": {}}
    assert rollups.last_check("u") is None
