"""GATEWAY_CLOCK_AT: one clock for every process of the local stack, refused anywhere but loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.bootstrap import bootstrap
from chalicelib.settings import Settings, clock_offset
from tools.local.stack import LocalStack


def test_the_offset_is_from_now_to_the_instant() -> None:
    now = datetime(2026, 12, 6, 0, 0, tzinfo=UTC)
    assert (
        clock_offset("2026-03-16T20:59:00-04:00", now)
        == (datetime(2026, 3, 17, 0, 59, tzinfo=UTC) - now).total_seconds()
    )
    with pytest.raises(ValueError, match="UTC offset"):
        clock_offset("2026-03-16T20:59:00", now)


def test_a_process_given_the_stacks_offset_keeps_it() -> None:
    settings = Settings.from_env({"GATEWAY_CLOCK_OFFSET_SECONDS": "-3600", "GATEWAY_CLOCK_AT": "2001-01-01T00:00:00Z"})
    assert settings.clock_offset == timedelta(hours=-1)


def test_a_deployment_asking_for_a_clock_does_not_start(policies) -> None:
    settings = Settings.from_env({"GATEWAY_CLOCK_AT": "2026-03-16T20:59:00-04:00"})
    with pytest.raises(ValueError, match="local stack only"):
        bootstrap(settings=settings, policies=policies)
    remote = settings.model_copy(update={"endpoint_url": "https://dynamodb.us-east-1.amazonaws.com"})
    with pytest.raises(ValueError, match="local stack only"):
        bootstrap(settings=remote, policies=policies)
    local = settings.model_copy(update={"endpoint_url": "http://127.0.0.1:5000"})
    gateway = bootstrap(settings=local, policies=policies)
    assert abs(gateway.now() - datetime(2026, 3, 17, 0, 59, tzinfo=UTC)) < timedelta(seconds=5)


def test_every_process_of_the_stack_gets_the_same_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_CLOCK_AT", "2026-03-16T20:59:00-04:00")
    stack = LocalStack(moto_port=1, port=2)
    env = stack.env()
    assert "GATEWAY_CLOCK_AT" not in env  # a child reading it at its own start would get another offset
    assert float(env["GATEWAY_CLOCK_OFFSET_SECONDS"]) == stack.clock_offset
    assert Settings.from_env(env).clock_offset_seconds == stack.clock_offset
    assert abs(stack.now() - datetime(2026, 3, 17, 0, 59, tzinfo=UTC)) < timedelta(seconds=5)
