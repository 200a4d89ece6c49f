"""The batch store and the export jobs: one suite, run against the fakes and DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.adapters.batches import DynamoDBBatches
from chalicelib.adapters.storage import DynamoDBJobs
from chalicelib.domain.errors import ConflictError
from chalicelib.domain.ports import BatchStore, Jobs
from tests.contract.support import dynamodb_tables
from tests.fakes import InMemoryBatches, InMemoryJobs

TTL = 1_800_000_000


@pytest.fixture(params=["memory", "dynamodb"])
def stores(request: pytest.FixtureRequest, aws_env: None) -> Iterator[tuple[BatchStore, Jobs]]:
    if request.param == "memory":
        yield InMemoryBatches(), InMemoryJobs()
        return
    with dynamodb_tables() as (settings, clients):
        yield (
            DynamoDBBatches(clients.dynamodb, settings.batch_table),
            DynamoDBJobs(clients.dynamodb, settings.jobs_table),
        )


def test_a_batch_is_created_once_and_its_header_replaced(stores: tuple[BatchStore, Jobs]) -> None:
    batches, _ = stores
    assert batches.read("t#b") == (None, [])
    assert batches.create("t#b", {"state": "queuing", "total": 2}, TTL) is True
    assert batches.create("t#b", {"state": "other"}, TTL) is False  # a replay finds the first
    assert batches.read("t#b") == ({"state": "queuing", "total": 2}, [])
    batches.replace_header("t#b", {"state": "queued", "total": 2}, TTL)
    assert batches.read("t#b")[0] == {"state": "queued", "total": 2}


def test_each_result_is_recorded_once_and_read_in_index_order(stores: tuple[BatchStore, Jobs]) -> None:
    batches, _ = stores
    batches.create("t#b", {"total": 12}, TTL)
    for index in (10, 2, 0):
        assert batches.record("t#b", index, {"index": index, "status": "sent"}, TTL) is True
    assert batches.record("t#b", 2, {"index": 2, "status": "failed"}, TTL) is False  # a redelivery
    header, results = batches.read("t#b")
    assert header == {"total": 12} and results == [{"index": i, "status": "sent"} for i in (0, 2, 10)]
    assert batches.read("t#other") == (None, [])


def test_a_job_changes_only_from_the_version_read(stores: tuple[BatchStore, Jobs]) -> None:
    _, jobs = stores
    assert jobs.get("t#ex_1") is None
    jobs.create("t#ex_1", {"status": "queued"})
    with pytest.raises(ConflictError):
        jobs.create("t#ex_1", {"status": "queued"})
    assert jobs.get("t#ex_1") == ({"status": "queued"}, 1)
    assert jobs.update("t#ex_1", {"status": "running"}, 1) == 2
    with pytest.raises(ConflictError):
        jobs.update("t#ex_1", {"status": "done"}, 1)
    assert jobs.get("t#ex_1") == ({"status": "running"}, 2)
