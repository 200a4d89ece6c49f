"""The composition root carries the clock and the idempotent submit; the app runs with whichever root it is given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from chalicelib.bootstrap import bootstrap, system_clock
from chalicelib.idempotency import IdempotentSubmit
from chalicelib.settings import Settings

NOON = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def test_the_runtime_reads_the_clock_it_was_built_with(policies) -> None:
    runtime = bootstrap(settings=Settings(), policies=policies, clock=lambda: NOON)
    assert runtime.now() == NOON


def test_the_default_clock_is_the_real_time_moved_by_the_offset() -> None:
    ahead = system_clock(timedelta(days=1))()
    assert abs(ahead - (datetime.now(UTC) + timedelta(days=1))) < timedelta(seconds=5)


def test_the_app_serves_a_given_runtime_for_the_block_and_then_the_one_before(policies) -> None:
    import app

    first = bootstrap(settings=Settings(), policies=policies, clock=lambda: NOON)
    second = bootstrap(settings=Settings(), policies=policies, clock=lambda: NOON + timedelta(hours=1))
    with app.using(first):
        with app.using(second):
            assert app.runtime() is second and app.now() == NOON + timedelta(hours=1)
        assert app.runtime() is first and app.now() == NOON


@pytest.mark.filterwarnings("ignore:Couldn't determine the remaining time left")  # no Lambda context here
def test_stored_replay_keys_keep_the_name_they_were_first_stored_under(aws_env) -> None:
    """Powertools names a key after the function it wraps: a deployment that renamed it would not find the
    records of replays sent before it, and would submit them again."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="idempotency",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        calls: list[dict] = []

        def submit(payload: dict) -> dict:
            calls.append(payload)
            return {"status": 202}

        once = IdempotentSubmit(submit, client, "idempotency")
        payload = {"tenant": "t", "agency": None, "route": "contacts", "key": "k-1", "body": {"a": 1}}
        assert once(payload) == once(payload) == {"status": 202} and len(calls) == 1
        [item] = client.scan(TableName="idempotency")["Items"]
    assert item["id"]["S"].split("#")[0].endswith(".app._submit")
